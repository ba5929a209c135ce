package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/broker"
)

// browser is a headless Chromium tab for the approver page.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Debian's Chromium headless. Chromium is required: .ci/run
// installs it.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Fatal("chromium is missing: apt-get install -y chromium (.ci/run does this)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now, without a timeout
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx}
}

// do runs steps with a deadline, failing the test with a screenshot's path.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (page: %s)", what, err, b.screenshot("failed"))
	}
}

// text returns the text of the first element matching css.
func (b *browser) text(css string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v (page: %s)", css, err, b.screenshot("failed"))
	}
	return s
}

// waitText waits until the element matching css contains want.
func (b *browser) waitText(css, want string) {
	b.t.Helper()
	b.waitFor(css, want, true)
}

// waitNoText waits until the element matching css is there and does not
// contain unwanted (a filter applied, a row gone).
func (b *browser) waitNoText(css, unwanted string) {
	b.t.Helper()
	b.waitFor(css, unwanted, false)
}

func (b *browser) waitFor(css, want string, present bool) {
	b.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q) === %t; })()`, css, want, present)
	// Evaluated again and again rather than with chromedp.Poll, which fails
	// when the page navigates meanwhile (the sign-in redirects do).
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting for %q to be there (%t) in %s: %v (page: %s)", want, present, css, err, b.screenshot("failed"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshot saves the page under $JIT_SCREENSHOTS (or the test's temp
// dir) and returns the file's path.
func (b *browser) screenshot(name string) string {
	dir := os.Getenv("JIT_SCREENSHOTS")
	if dir == "" {
		dir = b.t.TempDir()
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "no screenshot: " + err.Error()
	}
	path := filepath.Join(dir, b.t.Name()+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "no screenshot: " + err.Error()
	}
	return path
}

// newWebHarness is a harness whose OIDC issuer lets the approver page sign in.
func newWebHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.idp.AllowRedirectURI(h.apiURL + "/callback")
	return h
}

// requestReadOnly files alice's request for ReadOnlyAccess in dev, for an hour.
func (h *harness) requestReadOnly(reason string) broker.Ticket {
	h.t.Helper()
	return h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", reason)
}

func testid(id string) string { return `[data-testid="` + id + `"]` }

// decide opens the approve, reject or terminate dialog of a ticket, types
// a comment and confirms.
func (b *browser) decide(action, id, comment string) {
	b.t.Helper()
	b.do(action+" "+id,
		chromedp.WaitVisible(chromedp.CSS(testid(action+"-"+id))),
		chromedp.Click(chromedp.CSS(testid(action+"-"+id))),
		chromedp.WaitVisible(chromedp.CSS(testid("comment")+" textarea")),
	)
	if comment != "" {
		b.do("type comment", chromedp.SendKeys(chromedp.CSS(testid("comment")+" textarea"), comment))
	}
	b.do("confirm", chromedp.Click(chromedp.CSS(testid("confirm"))))
}

// openDecision opens the approve, reject or terminate dialog of a ticket.
func (b *browser) openDecision(action, id string) {
	b.t.Helper()
	b.do("open "+action+" "+id,
		chromedp.WaitVisible(chromedp.CSS(testid(action+"-"+id))),
		chromedp.Click(chromedp.CSS(testid(action+"-"+id))),
		chromedp.WaitVisible(chromedp.CSS(testid("comment")+" textarea")),
	)
}

// signIn opens the approver page, which sends the browser to the OIDC
// issuer's sign-in page; choosing user brings it back signed in.
func (b *browser) signIn(h *harness, user string) {
	b.t.Helper()
	b.do("open the approver page",
		chromedp.Navigate(h.apiURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`button[value="`+user+`"]`)),
		chromedp.Click(chromedp.CSS(`button[value="`+user+`"]`)),
	)
	b.waitText(testid("user-email"), user)
}

// The approver page end to end: bob signs in through the OIDC code flow,
// approves alice's ticket, rejects another with a comment, sees the error
// of a ticket that changed under him, and terminates the approved one,
// which cuts alice's open AWS session.
func TestApproverPage(t *testing.T) {
	needAWSCLI(t)
	h := newWebHarness(t)
	req := h.requestReadOnly
	approveMe, rejectMe, cancelled := req("web approve"), req("web reject"), req("web cancelled")

	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.waitText(testid("pending-"+approveMe.ID), approveMe.ID)
	b.waitText(testid("pending-"+cancelled.ID), cancelled.ID)
	b.screenshot("approvals")

	// Approve.
	b.decide("approve", approveMe.ID, "looks fine")
	b.waitText(testid("flash-success"), approveMe.ID)
	tk := h.waitState(approveMe.ID, broker.StateActive, 10*time.Second)
	if len(tk.Approvals) != 1 || tk.Approvals[0].By != "bob@example.com" || tk.Approvals[0].Comment != "looks fine" {
		t.Fatalf("approvals after the page approved: %+v", tk.Approvals)
	}

	// alice asks for 30 more minutes; the extension waits for bob on the
	// same page, and his approval moves the end.
	if _, errOut, err := h.jit("alice@example.com", "extend", approveMe.ID, "--duration", "30m", "--reason", "still on it"); err != nil {
		t.Fatalf("extend: %v %s", err, errOut)
	}
	b.do("refresh", chromedp.Click(chromedp.CSS(testid("refresh"))))
	b.waitText(testid("pending-"+approveMe.ID), approveMe.ID)
	b.decide("approve", approveMe.ID, "")
	b.waitText(testid("flash-success"), approveMe.ID)
	if tk := h.ticket(approveMe.ID); tk.State != broker.StateActive || !tk.End.Equal(approveMe.End.Add(30*time.Minute)) {
		t.Fatalf("after the extension was approved on the page: state %s end %s, want active until %s", tk.State, tk.End, approveMe.End.Add(30*time.Minute))
	}

	// Reject needs a comment: the button stays disabled without one.
	b.do("open reject", chromedp.Click(chromedp.CSS(testid("reject-"+rejectMe.ID))), chromedp.WaitVisible(chromedp.CSS(testid("comment")+" textarea")))
	disabled, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="confirm"]').disabled || document.querySelector('[data-testid="confirm"]').getAttribute('aria-disabled') === 'true'`))
	if err != nil || !disabled {
		t.Fatalf("reject without a comment: confirm disabled=%v err=%v (page: %s)", disabled, err, b.screenshot("reject"))
	}
	b.do("type reason", chromedp.SendKeys(chromedp.CSS(testid("comment")+" textarea"), "use the staging account"))
	b.do("confirm reject", chromedp.Click(chromedp.CSS(testid("confirm"))))
	b.waitText(testid("flash-success"), rejectMe.ID)
	if tk := h.ticket(rejectMe.ID); tk.State != broker.StateRejected || tk.Closed == nil || tk.Closed.Comment != "use the staging account" {
		t.Fatalf("rejected ticket: state %s closed %+v", tk.State, tk.Closed)
	}

	// A ticket cancelled while bob's dialog is open (the live list would
	// drop its row otherwise): the server's refusal is shown in the dialog,
	// and nothing changes.
	b.openDecision("approve", cancelled.ID)
	if _, errOut, err := h.jit("alice@example.com", "cancel", cancelled.ID); err != nil {
		t.Fatalf("cancel: %v %s", err, errOut)
	}
	b.do("confirm", chromedp.Click(chromedp.CSS(testid("confirm"))))
	b.waitText(testid("modal-error"), "cancelled")
	b.screenshot("refused")
	if tk := h.ticket(cancelled.ID); tk.State != broker.StateCancelled || len(tk.Approvals) != 0 {
		t.Fatalf("cancelled ticket changed: state %s approvals %+v", tk.State, tk.Approvals)
	}

	// alice's open session works until bob presses Terminate.
	creds := h.credentials("alice@example.com", approveMe.ID)
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err != nil {
		t.Fatalf("list-buckets before terminate: %v %s", err, out)
	}
	b.do("all tickets",
		chromedp.Navigate(h.apiURL+"/"),
		chromedp.WaitVisible(chromedp.Search(`//a[normalize-space()="All tickets"]`)),
		chromedp.Click(chromedp.Search(`//a[normalize-space()="All tickets"]`)),
	)
	b.waitText(testid("state-"+approveMe.ID), "active")
	b.screenshot("tickets")
	b.decide("terminate", approveMe.ID, "incident over")
	b.waitText(testid("state-"+approveMe.ID), "terminated")
	b.screenshot("terminated")
	tk = h.ticket(approveMe.ID)
	if tk.State != broker.StateTerminated || tk.Closed == nil || tk.Closed.By != "bob@example.com" || tk.Closed.Comment != "incident over" {
		t.Fatalf("terminated ticket: state %s closed %+v", tk.State, tk.Closed)
	}
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("list-buckets with the open session after Terminate on the page: err=%v %s", err, out)
	}
}

// Signing out forgets the ID token and leaves the page signed out; a token
// the server refuses is forgotten too.
func TestApproverPageSignOut(t *testing.T) {
	h := newWebHarness(t)
	b := newBrowser(t)
	b.signIn(h, "alice@example.com")
	stored, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("jit.id_token") || ""`))
	if err != nil || strings.Count(stored, ".") != 2 {
		t.Fatalf("no ID token in session storage after sign-in (%v)", err)
	}
	b.do("sign out",
		chromedp.Click(chromedp.Search(`//header//button[contains(., "alice@example.com")]`)),
		chromedp.WaitVisible(chromedp.Search(`//*[@role="menuitem"][contains(., "Sign out")]`)),
		chromedp.Click(chromedp.Search(`//*[@role="menuitem"][contains(., "Sign out")]`)),
	)
	b.waitText(testid("signed-out"), "")
	stored, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("jit.id_token") || ""`))
	if err != nil || stored != "" {
		t.Fatalf("token still stored after sign-out: %q %v", stored, err)
	}

	// A token the server refuses (here signed with another key) is
	// dropped, and the page asks to sign in again instead of looping.
	forger, err := newForger(h.idp.IssuerURL())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := forger.Token("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Still on the signed-out screen of the page's origin, which does not
	// redirect: store the token there, then load the page again with it.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`sessionStorage.setItem("jit.id_token", "`+forged+`") || true`)); err != nil {
		t.Fatal(err)
	}
	b.do("reload with a forged token", chromedp.Reload())
	b.waitText(testid("sign-in"), "Sign in again")
	stored, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](`sessionStorage.getItem("jit.id_token") || ""`))
	if err != nil || stored != "" {
		t.Fatalf("a refused token is still stored: %v", err)
	}
}

// The requester's own buttons: "Cancel request" withdraws a pending ticket,
// and "I'm done" ends an active one and cuts its open session.
func TestApproverPageRequesterEndsOwnTicket(t *testing.T) {
	needAWSCLI(t)
	h := newWebHarness(t)
	req := h.requestReadOnly
	active, withdrawn := req("web done"), req("web withdrawn")
	if _, errOut, err := h.jit("bob@example.com", "approve", active.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(active.ID, broker.StateActive, 10*time.Second)
	creds := h.credentials("alice@example.com", active.ID)

	b := newBrowser(t)
	b.signIn(h, "alice@example.com")
	b.do("my tickets", chromedp.Navigate(h.apiURL+"/#/mine"))
	b.waitText(testid("state-"+active.ID), "active")
	// Her own ticket offers "I'm done", not Terminate.
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="terminate-`+active.ID+`"]').length`)); err != nil || n != 0 {
		t.Errorf("Terminate shown to the requester (%d, %v)", n, err)
	}
	b.screenshot("mine")

	b.decide("cancel", withdrawn.ID, "not needed")
	b.waitText(testid("state-"+withdrawn.ID), "cancelled")
	if tk := h.ticket(withdrawn.ID); tk.State != broker.StateCancelled {
		t.Fatalf("withdrawn ticket is %s", tk.State)
	}

	b.decide("done", active.ID, "")
	b.waitText(testid("state-"+active.ID), "terminated")
	if tk := h.ticket(active.ID); tk.State != broker.StateTerminated || tk.Closed == nil || tk.Closed.By != "alice@example.com" {
		t.Fatalf("ended ticket: state %s closed %+v", tk.State, tk.Closed)
	}
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("list-buckets with the open session after I'm done: err=%v %s", err, out)
	}
}

// choose picks option in the Cloudscape select with the given data-testid.
func (b *browser) choose(id, option string) {
	b.t.Helper()
	b.do("choose "+option+" in "+id,
		chromedp.Click(chromedp.CSS(testid(id)+" button")),
		chromedp.WaitVisible(chromedp.Search(`//*[@role="option"][contains(., "`+option+`")]`)),
		chromedp.Click(chromedp.Search(`//*[@role="option"][contains(., "`+option+`")]`)),
	)
}

// replace selects the text of the input matching css and types text over it.
func (b *browser) replace(css, text string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { const i = document.querySelector(`+"`"+css+"`"+`); i.focus(); i.select(); return true })()`)); err != nil {
		b.t.Fatalf("select %s: %v", css, err)
	}
	b.do("type "+text, chromedp.SendKeys(chromedp.CSS(css), text))
}

// tickets lists every ticket, through the CLI as carol, the admin.
func (h *harness) tickets() []broker.Ticket {
	h.t.Helper()
	out, errOut, err := h.jit("carol@example.com", "tickets", "list", "--output", "json")
	if err != nil {
		h.t.Fatalf("jit tickets list: %v %s", err, errOut)
	}
	var list struct{ Tickets []broker.Ticket }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		h.t.Fatalf("jit tickets list output: %v\n%s", err, out)
	}
	return list.Tickets
}

// alice asks for access on the page: a duration over the permission set's
// maximum is refused with the server's message and stores nothing; a good
// request files exactly the ticket she filled in.
func TestApproverPageRequestForm(t *testing.T) {
	h := newWebHarness(t)
	b := newBrowser(t)
	b.signIn(h, "alice@example.com")
	b.do("request view", chromedp.Navigate(h.apiURL+"/#/request"), chromedp.WaitVisible(chromedp.CSS(testid("request-submit"))))
	b.choose("request-permission-set", "ReadOnlyAccess")
	b.choose("request-account", "222222222222")
	b.replace(testid("request-duration")+" input", "100h")
	b.do("fill in",
		chromedp.SendKeys(chromedp.CSS(testid("request-reason")+" textarea"), "quarterly audit"),
		chromedp.Click(chromedp.CSS(testid("request-submit"))),
	)
	b.waitText(testid("request-error"), "duration")
	b.screenshot("refused")
	if n := len(h.tickets()); n != 0 {
		t.Fatalf("%d tickets stored after a refused request", n)
	}

	b.replace(testid("request-duration")+" input", "45m")
	b.do("send again", chromedp.Click(chromedp.CSS(testid("request-submit"))))
	b.waitText(testid("flash-success"), "requested")
	b.screenshot("requested")
	ts := h.tickets()
	if len(ts) != 1 {
		t.Fatalf("%d tickets after the form, want alice's one", len(ts))
	}
	tk := ts[0]
	if tk.State != broker.StatePending || tk.Requester != "alice@example.com" || tk.AccountID != "222222222222" || tk.PermissionSet != "ReadOnlyAccess" ||
		tk.Reason != "quarterly audit" || tk.End.Sub(tk.Start) != 45*time.Minute || len(tk.Beneficiaries) != 1 || tk.Beneficiaries[0] != "alice@example.com" {
		t.Fatalf("ticket filed by the form: %+v", tk)
	}
	b.waitText(testid("state-"+tk.ID), "pending")
}

// bob opens the details of alice's active ticket: its history, the
// session she took, and (on request) her CloudTrail activity.
func TestApproverPageTicketDetails(t *testing.T) {
	needAWSCLI(t)
	h := newWebHarness(t)
	tk := h.requestReadOnly("details")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "fine"); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	creds := h.credentials("alice@example.com", tk.ID)
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err != nil {
		t.Fatalf("list-buckets: %v %s", err, out)
	}

	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.do("all tickets", chromedp.Navigate(h.apiURL+"/#/tickets"))
	b.waitText(testid("ticket-"+tk.ID), tk.ID)
	b.do("open details", chromedp.Click(chromedp.CSS(testid("ticket-"+tk.ID))))
	b.waitText(testid("details-history"), "approve")
	b.waitText(testid("details-sessions"), creds.AccessKeyID)
	b.do("load activity", chromedp.Click(chromedp.CSS(testid("load-activity"))))
	b.waitText(testid("activity-events"), "ListBuckets")
	b.screenshot("details")
}

// The page decides the revision it shows (issue 19 §9): alice's ticket is
// rejected and edited (revision 2, another permission set) while bob's
// page still shows revision 1; his approval from that page is refused with
// the current revision, and after a refresh he approves revision 2.
func TestApproverPageRevision(t *testing.T) {
	h := newWebHarness(t)
	tk := h.requestReadOnly("web revision")
	b := newBrowser(t)
	b.signIn(h, "bob@example.com")
	b.waitText(testid("pending-"+tk.ID), tk.ID)

	// bob's dialog is open on revision 1 while it changes (the live list
	// would show revision 2 otherwise).
	b.openDecision("approve", tk.ID)
	path := "/api/v1/tickets/" + tk.ID
	if code, m := h.api("bob@example.com", "POST", path+"/reject", map[string]any{"comment": "why?", "revision": 1}); code != 200 {
		t.Fatalf("reject: %d %v", code, m)
	}
	if code, m := h.api("alice@example.com", "PUT", path, map[string]string{"permission_set": "PowerUserAccess"}); code != 200 {
		t.Fatalf("edit: %d %v", code, m)
	}
	b.do("confirm", chromedp.Click(chromedp.CSS(testid("confirm"))))
	b.waitText(testid("modal-error"), "revision 2")
	if got := h.ticket(tk.ID); got.State != broker.StatePending || got.Revision != 2 || len(got.Approvals) != 0 {
		t.Fatalf("after the stale approval: %s revision %d approvals %+v, want revision 2 pending", got.State, got.Revision, got.Approvals)
	}
	b.do("close", chromedp.Click(chromedp.Search(`//button[normalize-space()="Cancel"]`)))
	b.do("refresh", chromedp.Click(chromedp.CSS(testid("refresh"))))
	b.waitText(testid("pending-"+tk.ID), tk.ID)
	b.decide("approve", tk.ID, "")
	b.waitText(testid("flash-success"), tk.ID)
	if got := h.ticket(tk.ID); got.State == broker.StatePending || got.Revision != 2 || len(got.Approvals) != 1 {
		t.Fatalf("after approving revision 2: %s revision %d approvals %+v", got.State, got.Revision, got.Approvals)
	}
}
