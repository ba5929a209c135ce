package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
	"github.com/jitaccess/jit/internal/smtptest"
)

// breakGlassRule lets on call (and oc2) break glass into
// AdministratorAccess in prod for up to 30 minutes; bob is told too; a
// review is due within 4 s, then lee is told.
const breakGlassRule = `  break_glass:
    - people: ['group:oncall', oc2@example.com]
      accounts: ['333333333333']
      permission_sets: [AdministratorAccess]
      max_duration: 30m
      notify: [bob@example.com]
      review_within: 4s
      escalate_to: [lee@example.com]
`

// Break-glass through the API, the CLI and the real server: an on-call
// person is granted AdministratorAccess in prod at once (credentials from
// the sandbox work), the rule's people are mailed at once; a person the
// rule does not name, a duration over the rule's maximum and a missing
// reason are refused with their codes and store nothing; the requester
// may not review their own ticket; the ticket heads the unreviewed list;
// the review deadline passes and the escalation mails lee and is audited
// exactly once; bob's review afterwards clears it; a second ticket
// reviewed in time by lee is never escalated.
func TestBreakGlass(t *testing.T) {
	srv := smtptest.Start(t)
	cfg := strings.Replace(notifyConfig(srv), "  request_for_others: [carol@example.com]\n", "  request_for_others: [carol@example.com]\n"+breakGlassRule, 1)
	if !strings.Contains(cfg, "break_glass:") {
		t.Fatal("dev.yaml changed: the break-glass rule was not added")
	}
	// The requesters must be in the Identity Store.
	f := sandbox.DemoFixture()
	for _, u := range []string{"oc", "oc2", "lee"} {
		f.IdentityCenter.Users = append(f.IdentityCenter.Users, sandbox.IdentityUser{UserName: u, Email: u + "@example.com", DisplayName: u})
	}
	h := newHarnessOpts(t, cfg, harnessOptions{fixture: &f})
	h.as("oc@example.com", "oncall")
	h.as("oc2@example.com")
	h.as("lee@example.com")

	if out, errOut, err := h.jit("oc@example.com", "whoami"); err != nil || !strings.Contains(out, "May break glass (jit request --break-glass):\n  AdministratorAccess in 333333333333\n") {
		t.Errorf("whoami of an on-call person: %v\n%s%s", err, out, errOut)
	}
	if out, _, _ := h.jit("alice@example.com", "whoami"); strings.Contains(out, "break glass") {
		t.Errorf("whoami of alice offers break-glass:\n%s", out)
	}
	body := func(d, reason string) map[string]any {
		return map[string]any{"account_id": "333333333333", "permission_set": "AdministratorAccess", "duration": d, "reason": reason, "break_glass": true}
	}
	code, tk, m := h.call("oc@example.com", "POST", "/api/v1/tickets", body("20m", "prod is down, incident 7"))
	if code != 201 || tk.State != broker.StateActive || tk.BreakGlass == nil || len(tk.Approvals) != 0 {
		t.Fatalf("break glass: %d %v; want 201, active at once, marked break-glass", code, m)
	}
	if len(h.credentials("oc@example.com", tk.ID).AccessKeyID) == 0 {
		t.Fatal("no credentials for the break-glass ticket")
	}
	link := h.apiURL + "/#/tickets/" + tk.ID
	srv.Wait(t, 20*time.Second, "the break-glass mails to oc2 and bob", func(ms []smtptest.Mail) bool {
		told := func(who string) bool {
			return slices.ContainsFunc(ms, func(m smtptest.Mail) bool {
				return slices.Contains(m.To, who) && strings.Contains(m.Subject, "BREAK-GLASS") && strings.Contains(m.Text, "incident 7") && strings.Contains(m.Text, link)
			})
		}
		return told("oc2@example.com") && told("bob@example.com")
	})

	// Refusals: nothing stored.
	for _, tc := range []struct {
		user string
		body map[string]any
		code int
		want string
	}{
		{"alice@example.com", body("20m", "me too"), 403, "may not break glass"},
		{"oc@example.com", body("1h", "longer"), 400, "break-glass maximum of 30m"},
		{"oc@example.com", body("20m", ""), 400, "reason"},
		{"oc@example.com", map[string]any{"account_id": "111111111111", "permission_set": "AdministratorAccess", "duration": "20m", "reason": "dev", "break_glass": true}, 403, "may not break glass"},
	} {
		if code, m := h.api(tc.user, "POST", "/api/v1/tickets", tc.body); code != tc.code || !strings.Contains(m["message"].(string), tc.want) {
			t.Errorf("%s %v: %d %v; want %d saying %q", tc.user, tc.body, code, m, tc.code, tc.want)
		}
	}
	if _, errOut, err := h.jit("dave@example.com", "request", "--break-glass", "--account", "333333333333", "--permission-set", "AdministratorAccess", "--duration", "10m", "--reason", "x"); err == nil || !strings.Contains(errOut, "may not break glass") {
		t.Errorf("jit request --break-glass by dave: %v %s", err, errOut)
	}
	if code, all := h.api("carol@example.com", "GET", "/api/v1/tickets", nil); code != 200 || all["total"].(float64) != 1 {
		t.Fatalf("tickets after the refusals: %d %v, want only the break-glass one", code, all)
	}

	// A second break-glass ticket, through the CLI, reviewed in time by lee.
	out, errOut, err := h.jit("oc2@example.com", "request", "--break-glass", "--account", "333333333333", "--permission-set", "AdministratorAccess", "--duration", "10m", "--reason", "incident 8")
	if err != nil || !strings.Contains(out, "Break-glass:     granted without approval; review by") || !strings.Contains(out, "State:           active") {
		t.Fatalf("jit request --break-glass: %v\n%s%s", err, out, errOut)
	}
	second := strings.Fields(strings.SplitN(out, "\n", 2)[0])[1]

	if _, errOut, err := h.jit("oc@example.com", "review", tk.ID, "--comment", "fine"); err == nil || !strings.Contains(errOut, "someone other than its requester") {
		t.Errorf("self-review: %v %s", err, errOut)
	}
	out, errOut, err = h.jit("carol@example.com", "tickets", "list", "--unreviewed")
	if err != nil {
		t.Fatalf("tickets list --unreviewed: %v %s", err, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.Contains(lines[1], "BREAK-GLASS review by") {
		t.Errorf("unreviewed list:\n%s\nwant both break-glass tickets, marked", out)
	}
	if _, errOut, err := h.jit("lee@example.com", "review", second, "--comment", "checked the trail"); err != nil {
		t.Fatalf("lee's review of %s: %v %s", second, err, errOut)
	}

	// The deadline passes: lee is mailed once, the audit has it once.
	deadline := time.Now().Add(20 * time.Second)
	for h.ticket(tk.ID).BreakGlass.EscalatedAt.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("not escalated: %+v", h.ticket(tk.ID).BreakGlass)
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.Wait(t, 20*time.Second, "the overdue review mail to lee", func(ms []smtptest.Mail) bool {
		return slices.ContainsFunc(ms, func(m smtptest.Mail) bool {
			return slices.Contains(m.To, "lee@example.com") && strings.Contains(m.Subject, "Review overdue") && strings.Contains(m.Text, link)
		})
	})
	time.Sleep(2 * time.Second) // a second escalation would show by now
	audit := func(id string) int {
		t.Helper()
		code, page := h.api("carol@example.com", "GET", "/api/v1/audit?type=ticket.review_overdue&ticket="+id, nil)
		if code != 200 {
			t.Fatalf("audit: %d %v", code, page)
		}
		return len(page["events"].([]any))
	}
	if n := audit(tk.ID); n != 1 {
		t.Errorf("%d review_overdue audit events, want 1", n)
	}
	if n := audit(second); n != 0 {
		t.Errorf("the ticket reviewed in time was escalated (%d events)", n)
	}
	overdue := 0
	for _, m := range srv.Mails() {
		if strings.Contains(m.Subject, "Review overdue") {
			overdue++
		}
	}
	if overdue != 1 {
		t.Errorf("%d overdue mails, want 1", overdue)
	}
	if code, _ := h.api("carol@example.com", "GET", "/api/v1/audit?type=ticket.break_glass&ticket="+tk.ID, nil); code != 200 {
		t.Errorf("audit of the filing: %d", code)
	}

	// Reviewing after the escalation still works and clears it.
	if _, errOut, err := h.jit("bob@example.com", "review", tk.ID, "--comment", "checked with oc"); err != nil {
		t.Fatalf("bob's review after the escalation: %v %s", err, errOut)
	}
	if code, list := h.api("carol@example.com", "GET", "/api/v1/tickets?unreviewed=true", nil); code != 200 || list["total"].(float64) != 0 {
		t.Errorf("unreviewed after both reviews: %d %v", code, list)
	}
	if code, list := h.api("carol@example.com", "GET", "/api/v1/tickets?break_glass=true", nil); code != 200 || list["total"].(float64) != 2 {
		t.Errorf("break_glass filter: %d %v", code, list)
	}
}

// Break-glass rules go through the registry file both ways; one over the
// maximum duration is refused with its field and line, changing nothing.
func TestAdminApplyBreakGlass(t *testing.T) {
	h := newHarness(t)
	before := h.export()
	rule := "break_glass:\n  - people: ['group:oncall', dave@example.com]\n    accounts: ['*']\n    permission_sets: [AdministratorAccess]\n    max_duration: 1h\n    notify: [bob@example.com]\n    review_within: 24h\n    escalate_to: [carol@example.com]\n"
	with := before + rule
	out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "bg.yaml", with))
	if err != nil || !strings.Contains(out+errOut, "break-glass rule break_glass[0]") {
		t.Fatalf("apply with a break-glass rule: %v\n%s%s", err, out, errOut)
	}
	after := h.export()
	if !strings.Contains(after, rule) {
		t.Fatalf("export after the break-glass rule:\n%s\nwant it to contain:\n%s", after, rule)
	}
	long := before + strings.Replace(rule, "max_duration: 1h", "max_duration: 24h", 1)
	if _, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "long.yaml", long)); err == nil || !strings.Contains(errOut, "break_glass[0].max_duration") {
		t.Fatalf("a too long break-glass: %v %s", err, errOut)
	}
	if h.export() != after {
		t.Error("a refused apply changed the registry")
	}
}

// The page: dave switches the request form to Break-glass, sees the
// warning, and is granted at once; his ticket carries the Break-glass
// badge; bob, whom the rule tells, finds it first under Activity to
// review and marks it reviewed.
func TestApproverPageBreakGlass(t *testing.T) {
	rule := "  break_glass:\n    - {people: [dave@example.com], accounts: ['333333333333'], permission_sets: [AdministratorAccess], max_duration: 30m, notify: [bob@example.com], review_within: 1h, escalate_to: [carol@example.com]}\n"
	cfg := strings.Replace(string(devConfig), "  request_for_others: [carol@example.com]\n", "  request_for_others: [carol@example.com]\n"+rule, 1)
	h := newHarnessWith(t, cfg)
	h.idp.AllowRedirectURI(h.apiURL + "/callback")
	b := newBrowser(t)
	b.signIn(h, "dave@example.com")
	b.do("request view", chromedp.Navigate(h.apiURL+"/#/request"), chromedp.WaitVisible(chromedp.CSS(testid("request-break-glass"))))
	b.do("break glass", chromedp.Click(chromedp.CSS(testid("request-break-glass")+" input")))
	b.waitText(testid("request-break-glass-warning"), "without anyone approving it")
	b.waitText(testid("request-submit"), "Break glass")
	b.choose("request-permission-set", "AdministratorAccess")
	b.choose("request-account", "333333333333")
	b.replace(testid("request-duration")+" input", "20m")
	b.do("reason", chromedp.SendKeys(chromedp.CSS(testid("request-reason")+" textarea"), "prod down, incident 9"))
	b.axe("break-glass form")
	b.do("submit", chromedp.Click(chromedp.CSS(testid("request-submit"))))
	b.waitText(testid("flash-success"), "granted")
	ts := h.tickets()
	if len(ts) != 1 || ts[0].State != broker.StateActive || ts[0].BreakGlass == nil || ts[0].Requester != "dave@example.com" {
		t.Fatalf("tickets after the break-glass form: %+v", ts)
	}
	id := ts[0].ID
	b.waitText(testid("break-glass-"+id), "Break-glass")
	if evalOn[bool](b, `!!document.querySelector('[data-testid="extend-`+id+`"]')`) {
		t.Error("the page offers to extend a break-glass ticket")
	}

	// alice, whom no rule names, is offered no break-glass.
	if code, me := h.api("alice@example.com", "GET", "/api/v1/me", nil); code != 200 || len(me["may_break_glass"].([]any)) != 0 {
		t.Errorf("alice's /me: %d %v", code, me["may_break_glass"])
	}

	bob := newBrowser(t)
	bob.signIn(h, "bob@example.com")
	bob.do("to review", chromedp.Navigate(h.apiURL+"/#/unreviewed"))
	bob.waitText(testid("break-glass-"+id), "review by")
	bob.decide("review", id, "checked with dave")
	bob.waitText(testid("flash-success"), "reviewed")
	if got := h.ticket(id); len(got.Reviews) != 1 || got.Reviews[0].By != "bob@example.com" {
		t.Fatalf("reviews after bob's: %+v", got.Reviews)
	}
	bob.do("ticket page", chromedp.Navigate(h.apiURL+"/#/tickets/"+id))
	bob.waitText(testid("details-break-glass"), "reviewed")
	bob.axe("break-glass ticket")
}

// Break-glass on the Identity Center path: the ticket is approved at
// once, without approval, and activation assigns the permission set in
// the sandbox as for any ticket.
func TestBreakGlassIdentityCenter(t *testing.T) {
	rule := "  break_glass:\n    - {people: [dave@example.com], accounts: ['*'], permission_sets: [ReadOnlySSO], max_duration: 1h, review_within: 1h, escalate_to: [carol@example.com]}\n"
	cfg := strings.Replace(string(devConfig), "  request_for_others: [carol@example.com]\n", "  request_for_others: [carol@example.com]\n"+rule, 1)
	h := newHarnessWith(t, cfg)
	code, tk, m := h.call("dave@example.com", "POST", "/api/v1/tickets", map[string]any{"account_id": "222222222222", "permission_set": "ReadOnlySSO", "duration": "30m", "reason": "incident 11", "break_glass": true})
	if code != 201 || tk.BreakGlass == nil || len(tk.Approvals) != 0 || (tk.State != broker.StateApproved && tk.State != broker.StateActive) {
		t.Fatalf("break glass on the Identity Center path: %d %v", code, m)
	}
	got := h.waitState(tk.ID, broker.StateActive, 15*time.Second)
	if len(got.Grants) == 0 {
		t.Errorf("active break-glass ticket with no grants: %+v", got)
	}
}
