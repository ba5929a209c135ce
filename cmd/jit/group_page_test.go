package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/jitaccess/jit/broker"
)

// groupPageRules gives each demo account its own approver: bob approves
// staging (222222222222) only, dave dev and prod.
const groupPageRules = `  approval_rules:
    - account: "111111111111"
      stages:
        - {approvers: [dave@example.com]}
    - account: "222222222222"
      stages:
        - {approvers: [bob@example.com]}
    - account: "333333333333"
      stages:
        - {approvers: [dave@example.com]}
`

// chooseMany picks each option in the Cloudscape multiselect with the
// given data-testid (it stays open between picks), then closes it.
func (b *browser) chooseMany(id string, options ...string) {
	b.t.Helper()
	b.do("open "+id, chromedp.Click(chromedp.CSS(testid(id)+" button")))
	for _, o := range options {
		opt := chromedp.Search(`//*[@role="option"][contains(., "` + o + `")]`)
		b.do("choose "+o+" in "+id, chromedp.WaitVisible(opt), chromedp.Click(opt))
	}
	b.do("close "+id, chromedp.KeyEvent(kb.Escape))
}

// rows counts the rows of the list's table.
func (b *browser) rows() int {
	b.t.Helper()
	return evalOn[int](b, `document.querySelectorAll('table tbody tr').length`)
}

// alice asks on the page for ReadOnlyAccess in three accounts: the form
// sends one request, her list shows it as one row with the three
// accounts and their states, and each member's page links to the others.
// bob, who approves only staging, sees only that member, alone, and
// approving it shows in alice's row. One account alice may not request
// refuses the whole request with the server's message.
func TestApproverPageGroupRequest(t *testing.T) {
	reg := strings.Replace(string(devConfig), "  approval_rules:\n    - account: \"*\"\n      stages:\n        - approvers: [bob@example.com]\n          required: 1\n", groupPageRules, 1)
	if reg == string(devConfig) {
		t.Fatal("dev.yaml's approval rules changed: update groupPageRules")
	}
	h := newHarnessWith(t, reg)
	h.idp.AllowRedirectURI(h.apiURL + "/callback")

	a := newBrowser(t)
	a.signIn(h, "alice@example.com")
	a.do("request form", chromedp.Navigate(h.apiURL+"/#/request"), chromedp.WaitVisible(chromedp.CSS(testid("request-submit"))))
	a.choose("request-permission-set", "ReadOnlyAccess")
	a.chooseMany("request-account", "dev (111111111111)", "staging (222222222222)", "prod (333333333333)")
	a.waitText(testid("request-account"), "prod (333333333333)")
	a.axe("request-accounts")
	a.screenshot("request-accounts")
	// The server refuses the whole request when one account is bad: a
	// duration over the maximum here (the form cannot offer an account
	// alice may not request).
	a.replace(testid("request-duration")+" input", "100h")
	a.do("fill in",
		chromedp.SendKeys(chromedp.CSS(testid("request-reason")+" textarea"), "release 42"),
		chromedp.Click(chromedp.CSS(testid("request-submit"))),
	)
	a.waitText(testid("request-error"), "duration")
	a.waitText(testid("request-error"), "account 111111111111") // the server's words, naming the account
	if n := len(h.tickets()); n != 0 {
		t.Fatalf("%d tickets stored after a refused request", n)
	}
	a.replace(testid("request-duration")+" input", "1h")
	a.do("send again", chromedp.Click(chromedp.CSS(testid("request-submit"))))
	a.waitText(testid("flash-success"), "Requested for 3 accounts")

	ts := h.tickets()
	if len(ts) != 3 {
		t.Fatalf("%d tickets after a request for three accounts, want 3", len(ts))
	}
	byID := map[string]broker.Ticket{}
	for _, tk := range ts {
		byID[tk.ID] = tk
	}
	ids := ts[0].GroupTickets // in the order the accounts were asked for
	if len(ids) != 3 {
		t.Fatalf("group tickets %v, want 3", ids)
	}
	for i, acct := range []string{"111111111111", "222222222222", "333333333333"} {
		tk := byID[ids[i]]
		if tk.Group == "" || tk.Group != ts[0].Group || tk.AccountID != acct || tk.State != broker.StatePending ||
			tk.Requester != "alice@example.com" || tk.Reason != "release 42" || tk.End.Sub(tk.Start) != time.Hour {
			t.Fatalf("member %d: %+v, want a pending ticket of the group in %s", i, tk, acct)
		}
	}
	first, staging, prod := ids[0], ids[1], ids[2]

	// The page opens the first member, which links to the two others.
	a.waitText(testid("ticket-title"), first)
	a.waitText(testid("group-members"), "Part of a request for 3 accounts")
	a.waitText(testid("group-link-"+staging), "staging")
	a.waitText(testid("group-link-"+prod), "prod")
	if n := evalOn[int](a, `document.querySelectorAll('[data-testid^="group-link-"]').length`); n != 2 {
		t.Fatalf("%d links to other members on the first member's page, want 2", n)
	}
	a.axe("group-member")
	a.screenshot("group-member")
	a.do("to the staging member", chromedp.Click(chromedp.CSS(testid("group-link-"+staging)+" a")))
	a.waitText(testid("ticket-title"), staging)
	a.waitText(testid("group-link-"+first), "dev")

	// My tickets: one row for the three accounts.
	a.do("my tickets", chromedp.Navigate(h.apiURL+"/#/mine"))
	a.waitText(testid("group-summary-"+first), "3 accounts: 3 pending")
	a.waitText(testid("showing"), "Showing 1–1 of 1")
	for _, id := range ids {
		a.waitText(testid("group-member-"+id), byID[id].AccountID)
	}
	if n := a.rows(); n != 1 {
		t.Fatalf("%d rows in alice's list, want the group's one (page: %s)", n, a.screenshot("failed"))
	}

	// bob approves staging only: he sees that member alone, everywhere.
	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.waitText(testid("pending-"+staging), staging)
	b.waitText(testid("showing"), "Showing 1–1 of 1")
	b.waitText(testid("group-note-"+staging), "part of a request for 3 accounts")
	b.do("all tickets", chromedp.Navigate(h.apiURL+"/#/tickets"))
	b.waitText(testid("ticket-"+staging), staging)
	b.waitText(testid("showing"), "Showing 1–1 of 1")
	b.waitText(testid("state-"+staging), "pending") // a row of its own: bob sees no other member
	b.do("open it", chromedp.Click(chromedp.CSS(testid("ticket-"+staging))))
	b.waitText(testid("group-members"), "You see only this account's ticket.")
	b.screenshot("approver-member")
	if n := evalOn[int](b, `document.querySelectorAll('[data-testid^="group-link-"]').length`); n != 0 {
		t.Fatalf("bob's page of the staging member links to %d other members, want none", n)
	}
	b.do("another account's member", chromedp.Navigate(h.apiURL+"/#/tickets/"+first))
	b.waitText(testid("ticket-error"), "not found")
	b.do("back", chromedp.Navigate(h.apiURL+"/#/tickets/"+staging))
	b.decide("approve", staging, "staging only")
	h.waitState(staging, broker.StateActive, 10*time.Second)
	for _, id := range []string{first, prod} {
		if tk := h.ticket(id); tk.State != broker.StatePending || len(tk.Approvals) != 0 {
			t.Fatalf("member %s after bob approved staging: %s %v", id, tk.State, tk.Approvals)
		}
	}

	// alice's row follows, live.
	a.waitText(testid("group-summary-"+first), "3 accounts: 2 pending, 1 active")
	a.waitText(testid("group-member-"+staging), "active")
	a.axe("grouped-row")
	shot := a.screenshot("grouped-row")
	t.Logf("alice's grouped row: %s", shot)
}
