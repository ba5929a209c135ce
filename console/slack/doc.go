// Package slack is JIT's Slack channel: it posts ticket news as Block Kit
// messages (Approve and Reject buttons on approval requests) to the
// channel configured for the ticket's account, and takes the buttons'
// callbacks: each must carry Slack's signature over a fresh timestamp and
// is accepted once; the Slack user is mapped to a JIT user by the
// profile's confirmed email, and the decision goes through the same
// broker call, and so the same authorization, as the web page. The message
// is then updated in place with the outcome.
package slack
