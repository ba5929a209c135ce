package main

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/broker"
)

// signedIn makes a token for email whose sign-in was at authTime (none
// when zero) with the given amr values.
func (h *harness) signedIn(email string, authTime time.Time, amr []string, groups ...string) {
	h.t.Helper()
	claims, err := h.idp.Claims("alice@example.com", time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	if groups == nil {
		groups = []string{}
	}
	claims["sub"], claims["email"], claims["name"], claims["groups"] = email, email, email, groups
	delete(claims, "auth_time")
	if !authTime.IsZero() {
		claims["auth_time"] = authTime.Unix()
	}
	claims["amr"] = amr
	tok, err := h.idp.Sign(claims)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tokens.Store(email, tok)
}

// The decision table's step-up dimension, through the real server: a rule
// asking for a sign-in at most 10 minutes old refuses an approval made
// with an older one (step_up_required, with the max age) and accepts it
// after a fresh sign-in; a permission set asking for mfa refuses a request
// signed in with a password only.
func TestWorkflowDecisionTableStepUp(t *testing.T) {
	h := newWorkflowHarness(t)
	h.putRule(map[string]any{"account": dev, "permission_set": ro, "step_up_max_age": "10m",
		"stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}})
	body := map[string]any{"account_id": dev, "permission_set": ro, "start": rfc(time.Now().Add(time.Hour)), "duration": "1h", "reason": "step-up"}
	id := h.file("alice@example.com", body)
	approve := "/api/v1/tickets/" + id + "/approve"
	now := time.Now()

	cases := []struct {
		name     string
		who      string
		authTime time.Time
		amr      []string
		code     int
		errCode  string
		state    broker.State
	}{
		{"stale sign-in", "bob@example.com", now.Add(-time.Hour), []string{"pwd"}, http.StatusForbidden, broker.ESTEPUP, broker.StatePending},
		{"no auth_time", "bob@example.com", time.Time{}, nil, http.StatusForbidden, broker.ESTEPUP, broker.StatePending},
		// Someone who may not decide learns nothing of the step-up.
		{"not an approver, stale", "eve@example.com", now.Add(-time.Hour), nil, http.StatusNotFound, broker.ENOTFOUND, broker.StatePending},
		{"fresh sign-in", "bob@example.com", now.Add(-time.Minute), []string{"pwd"}, http.StatusOK, "", broker.StateApproved},
	}
	for _, c := range cases {
		h.signedIn(c.who, c.authTime, c.amr)
		code, tk, m := h.call(c.who, "POST", approve, map[string]string{})
		if code != c.code || c.errCode != "" && m["code"] != c.errCode {
			t.Fatalf("%s: %d %v, want %d %s", c.name, code, m, c.code, c.errCode)
		}
		if c.errCode == broker.ESTEPUP && m["max_age"] != float64(600) {
			t.Errorf("%s: max_age %v, want 600", c.name, m["max_age"])
		}
		if got := h.get(id).State; got != c.state {
			t.Errorf("%s: ticket %s, want %s", c.name, got, c.state)
		}
		_ = tk
	}

	// A permission set asking for mfa within 5 minutes, at request time.
	ps := map[string]any{"name": pu, "role_name": pu, "max_duration": "8h", "approval_required": true,
		"scope":           map[string]any{"accounts": []string{"*"}, "requester_groups": []string{"*"}},
		"step_up_max_age": "5m", "step_up_amr": []string{"mfa", "hwk"}}
	if code, m := h.api("carol@example.com", "POST", "/api/v1/permission-sets", ps); code/100 != 2 {
		t.Fatalf("put permission set: %d %v", code, m)
	}
	req := map[string]any{"account_id": dev, "permission_set": pu, "start": rfc(time.Now().Add(time.Hour)), "duration": "1h", "reason": "step-up"}
	h.signedIn("alice@example.com", time.Now(), []string{"pwd"}, "engineers")
	if code, _, m := h.call("alice@example.com", "POST", "/api/v1/tickets", req); code != http.StatusForbidden || m["code"] != broker.ESTEPUP || m["max_age"] != float64(300) {
		t.Fatalf("request with a password sign-in: %d %v, want 403 step_up_required max_age 300", code, m)
	}
	h.signedIn("alice@example.com", time.Now().Add(-10*time.Minute), []string{"mfa"}, "engineers")
	if code, _, m := h.call("alice@example.com", "POST", "/api/v1/tickets", req); code != http.StatusForbidden || m["code"] != broker.ESTEPUP {
		t.Fatalf("request with an old mfa sign-in: %d %v, want 403 step_up_required", code, m)
	}
	h.signedIn("alice@example.com", time.Now(), []string{"mfa", "pwd"}, "engineers")
	h.file("alice@example.com", req)
}

// `jit login --step-up` sends the user through the identity provider again
// (prompt=login, max_age=0), and the fresh sign-in it keeps passes a
// rule's step-up where an old one is refused with the hint to run it.
func TestLoginStepUp(t *testing.T) {
	h := newWorkflowHarness(t)
	h.idp.AllowRedirectURI("http://127.0.0.1/callback")
	h.putRule(map[string]any{"account": dev, "permission_set": ro, "step_up_max_age": "10m",
		"stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}})
	id := h.file("alice@example.com", map[string]any{"account_id": dev, "permission_set": ro,
		"start": rfc(time.Now().Add(time.Hour)), "duration": "1h", "reason": "step-up"})

	// An old sign-in, as a CLI token: refused, and told what to run.
	h.signedIn("bob@example.com", time.Now().Add(-time.Hour), []string{"pwd"})
	if _, errOut, err := h.jit("bob@example.com", "approve", id); err == nil || !strings.Contains(errOut, "jit login --step-up") {
		t.Fatalf("approve with an old sign-in: %v %s, want a refusal naming jit login --step-up", err, errOut)
	}

	m := newUserMachine(t)
	seen := make(chan string, 1)
	stderr := m.login(func(link string, _ io.Writer) {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		resp, err := browser.Get(link)
		if err != nil {
			seen <- err.Error()
			return
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		form := url.Values{}
		for _, f := range regexp.MustCompile(`type="hidden" name="(\w+)" value="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
			form.Set(f[1], html.UnescapeString(f[2]))
		}
		form.Set("login_hint", "bob@example.com")
		resp, err = browser.PostForm(link, form)
		if err != nil {
			seen <- err.Error()
			return
		}
		resp.Body.Close()
		seen <- link + "\n" + string(page)
	}, "--url", h.apiURL, "--step-up")
	got := <-seen
	if !strings.Contains(got, "prompt=login") || !strings.Contains(got, "max_age=0") || !strings.Contains(got, "Sign in again") {
		t.Fatalf("the sign-in did not ask for a fresh authentication:\n%s", got)
	}
	if !strings.Contains(stderr, "as bob@example.com") {
		t.Fatalf("jit login --step-up said:\n%s", stderr)
	}
	if _, errOut, code := m.jit("approve", id); code != 0 {
		t.Fatalf("approve after jit login --step-up: %d %s", code, errOut)
	}
	if st := h.get(id).State; st != broker.StateApproved {
		t.Errorf("ticket %s, want approved", st)
	}
}

// The approver page answers step_up_required by sending bob through the
// identity provider again with max_age and prompt=login, and back: the
// approval then goes through.
func TestApproverPageStepUp(t *testing.T) {
	h := newWebHarness(t)
	h.putRule(map[string]any{"account": dev, "permission_set": ro, "step_up_max_age": "10m",
		"stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}})
	tk := h.requestReadOnly("step-up on the page")
	b := newBrowser(t)
	b.signIn(h, "bob@example.com")

	// bob's page holds a sign-in an hour old.
	h.signedIn("bob@example.com", time.Now().Add(-time.Hour), []string{"pwd"}, "approvers")
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`sessionStorage.setItem("jit.id_token", "`+h.token("bob@example.com")+`") || true`)); err != nil {
		t.Fatal(err)
	}
	b.do("reload with the old sign-in", chromedp.Reload())
	b.decide("approve", tk.ID, "ok")
	b.do("the identity provider's page", chromedp.WaitVisible(chromedp.CSS(`#step-up`)))
	loc, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.location.href`))
	if err != nil || !strings.Contains(loc, "max_age=600") || !strings.Contains(loc, "prompt=login") {
		t.Fatalf("the page went to %q (%v), want the authorize endpoint with max_age=600 and prompt=login", loc, err)
	}
	if st := h.get(tk.ID).State; st != broker.StatePending {
		t.Fatalf("ticket %s after the refused approval, want pending", st)
	}
	b.do("sign in again", chromedp.Click(chromedp.CSS(`button[value="bob@example.com"]`)))
	b.waitText(testid("user-email"), "bob@example.com")
	b.decide("approve", tk.ID, "ok")
	h.waitTicket(tk.ID, 10*time.Second, "approval after the fresh sign-in", func(x broker.Ticket) bool {
		return x.State == broker.StateApproved || x.State == broker.StateActive // it starts now: approved, then active at once
	})
}
