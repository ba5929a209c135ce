package notify

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Kinds of notification jobs. The broker's own kinds (approval_needed,
// reminder) keep their names.
const (
	KindApprovalNeeded = broker.NotifyApprovalNeeded // to the open stage's approvers and their delegates
	KindReminder       = broker.NotifyReminder
	KindDecided        = "decided"                  // approved or rejected: to requester and beneficiaries
	KindActivated      = "activated"                // active: to requester and beneficiaries, with the console link and CLI snippet
	KindPreExpiry      = "pre_expiry"               // the end is near: to requester and beneficiaries, with the Extend link
	KindEnded          = "ended"                    // terminated, or expired before approval: who and why
	KindExtensionAsked = "extension_asked"          // to the requester and beneficiaries (approvers get approval_needed)
	KindExtensionDone  = "extension_decided"        // approved or rejected
	KindBreakGlass     = broker.NotifyBreakGlass    // someone broke glass: to the rule's people and notify list
	KindReviewOverdue  = broker.NotifyReviewOverdue // a break-glass review is overdue: to the rule's escalate_to
)

// Message is one mail to one person.
type Message struct {
	To       string
	Subject  string
	Text     string
	HTML     string
	Kind     string
	TicketID string
}

// view is what the templates see.
type view struct {
	Kind    string
	T       *broker.Ticket
	Link    string
	BaseURL string
	Actor   string
	Comment string
	Message string
	State   string
	End     string
	Start   string
	Minutes int
	Extend  string // the extension's new end, when there is one
}

func (v view) Who() string { return strings.Join(v.T.Beneficiaries, ", ") }

const textBody = `{{define "body"}}{{.Headline}}

Ticket:          {{.V.T.ID}}
Account:         {{.V.T.AccountID}}
Permission set:  {{.V.T.PermissionSet}}
For:             {{.V.Who}}
Requested by:    {{.V.T.Requester}}
Window:          {{.V.Start}} to {{.V.End}}
Reason:          {{.V.T.Reason}}
{{- if .V.Actor}}
By:              {{.V.Actor}}{{end}}
{{- if .V.Comment}}
Comment:         {{.V.Comment}}{{end}}
{{- if eq .V.Kind "activated"}}

Open the AWS console from the ticket's page, or use the AWS CLI:

  [profile jit-{{.V.T.ID}}]
  credential_process = jit credentials --ticket {{.V.T.ID}}
{{- end}}
{{- if eq .V.Kind "pre_expiry"}}

To keep working, ask for more time: jit extend {{.V.T.ID}} --duration 1h --reason "..." or Extend on the ticket's page.
{{- end}}

{{.V.Link}}
{{end}}`

const htmlBody = `{{define "body"}}<!doctype html><html><body style="font-family:Arial,sans-serif">
<p><strong>{{.Headline}}</strong></p>
<table cellpadding="3">
<tr><td>Ticket</td><td><a href="{{.V.Link}}">{{.V.T.ID}}</a></td></tr>
<tr><td>Account</td><td>{{.V.T.AccountID}}</td></tr>
<tr><td>Permission set</td><td>{{.V.T.PermissionSet}}</td></tr>
<tr><td>For</td><td>{{.V.Who}}</td></tr>
<tr><td>Requested by</td><td>{{.V.T.Requester}}</td></tr>
<tr><td>Window</td><td>{{.V.Start}} to {{.V.End}}</td></tr>
<tr><td>Reason</td><td>{{.V.T.Reason}}</td></tr>
{{- if .V.Actor}}<tr><td>By</td><td>{{.V.Actor}}</td></tr>{{end}}
{{- if .V.Comment}}<tr><td>Comment</td><td>{{.V.Comment}}</td></tr>{{end}}
</table>
{{- if eq .V.Kind "activated"}}
<p>Open the AWS console from <a href="{{.V.Link}}">the ticket's page</a>, or use the AWS CLI:</p>
<pre>[profile jit-{{.V.T.ID}}]
credential_process = jit credentials --ticket {{.V.T.ID}}</pre>
{{- end}}
{{- if eq .V.Kind "pre_expiry"}}
<p><a href="{{.V.Link}}">Extend</a> on the ticket's page, or <code>jit extend {{.V.T.ID}} --duration 1h --reason "..."</code></p>
{{- end}}
<p><a href="{{.V.Link}}">Open the ticket</a></p>
</body></html>{{end}}`

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Parse(textBody))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Parse(htmlBody))
)

// TicketLink returns the address of a ticket's page.
func TicketLink(baseURL, id string) string {
	return strings.TrimRight(baseURL, "/") + "/#/tickets/" + id
}

// compose writes the mail of job j about t.
func compose(baseURL string, j Job, t *broker.Ticket) (Message, error) {
	v := view{Kind: j.Kind, T: t, Link: TicketLink(baseURL, t.ID), BaseURL: baseURL, Actor: j.Actor, Comment: j.Comment,
		Message: j.Message, State: string(t.State), Start: stamp(t.Start), End: stamp(t.End)}
	if t.Extension != nil {
		v.Extend = stamp(t.Extension.End)
	}
	headline, subject := headlines(v, j)
	data := struct {
		V        view
		Headline string
	}{v, headline}
	var text, html bytes.Buffer
	if err := textTmpl.ExecuteTemplate(&text, "body", data); err != nil {
		return Message{}, err
	}
	if err := htmlTmpl.ExecuteTemplate(&html, "body", data); err != nil {
		return Message{}, err
	}
	return Message{To: j.To, Subject: oneLine("[JIT] " + subject), Text: text.String(), HTML: html.String(), Kind: j.Kind, TicketID: t.ID}, nil
}

// headlines returns the first line of the body and the subject.
func headlines(v view, j Job) (string, string) {
	t := v.T
	what := t.PermissionSet + " in " + t.AccountID + " for " + v.Who()
	switch j.Kind {
	case KindApprovalNeeded:
		if t.Extension != nil && t.Extension.State == broker.ExtensionPending {
			return t.Extension.RequestedBy + " asks to extend ticket " + t.ID + " to " + v.Extend + ". Your decision is needed.",
				"Extension needs your approval: " + what
		}
		return t.Requester + " asks for " + what + ". Your decision is needed.", "Approval needed: " + what
	case KindReminder:
		return "Ticket " + t.ID + " is still waiting for your decision.", "Reminder: approval needed: " + what
	case KindDecided:
		return "Ticket " + t.ID + " was " + j.State + " by " + j.Actor + ".", "Ticket " + j.State + ": " + what
	case KindActivated:
		return "Access is active: " + what + ", until " + v.End + ".", "Access active: " + what
	case KindPreExpiry:
		return "Access ends in about " + j.Minutes() + " minutes, at " + v.End + ".", "Access ends soon: " + what
	case KindEnded:
		if j.State == string(broker.StateExpired) {
			return "Ticket " + t.ID + " expired: " + j.Comment + ".", "Ticket expired: " + what
		}
		return "Ticket " + t.ID + " was terminated by " + j.Actor + ".", "Access terminated: " + what
	case KindExtensionAsked:
		return j.Actor + " asked to extend ticket " + t.ID + " to " + v.Extend + ".", "Extension asked: " + what
	case KindBreakGlass:
		return t.Requester + " broke glass: " + what + ", granted without approval until " + v.End + ". Reason: " + oneLine(t.Reason) + ". A second person must review it by " + reviewBy(t) + ".",
			"BREAK-GLASS: " + t.Requester + " granted themself " + what
	case KindReviewOverdue:
		return "Nobody reviewed break-glass ticket " + t.ID + " by " + reviewBy(t) + ". Review it now.",
			"Review overdue: break-glass " + what
	case KindExtensionDone:
		return "The extension of ticket " + t.ID + " was " + j.State + " by " + j.Actor + "; it ends at " + v.End + ".", "Extension " + j.State + ": " + what
	}
	return j.Message, "Ticket " + t.ID
}

// reviewBy is when t's break-glass review is due.
func reviewBy(t *broker.Ticket) string {
	if t.BreakGlass == nil {
		return ""
	}
	return stamp(t.BreakGlass.ReviewBy)
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// oneLine keeps a header on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
