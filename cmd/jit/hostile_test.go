package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// hostileTexts are what issue 10 §4 tried: terminal escapes that rewrite
// what an approver sees, a bidirectional override, NUL.
var hostileTexts = map[string]string{
	"escape":        "fix\x1b[1A\x1b[2K\rAccount:         111111111111",
	"bidi override": "invoice \u202Egnp.exe",
	"NUL":           "fix\x00",
}

// Issue 10 §4: every free-text field of the API refuses control
// characters, bidi overrides and NUL with a 400 naming the field, and
// changes nothing.
func TestHostileTextRefusedInEveryField(t *testing.T) {
	h := newHarness(t)
	alice, bob, carol := "alice@example.com", "bob@example.com", "carol@example.com"
	ticket := func(start time.Duration) string {
		status, out := h.api(alice, "POST", "/api/v1/tickets", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess",
			"start": rfc(time.Now().Add(start)), "duration": "1h", "reason": "hostile text test"})
		if status != 201 {
			t.Fatalf("file ticket: %d %v", status, out)
		}
		return out["id"].(string)
	}
	pending := ticket(time.Hour)
	rejected := ticket(time.Hour)
	if status, out := h.api(bob, "POST", "/api/v1/tickets/"+rejected+"/reject", map[string]any{"comment": "no"}); status != 200 {
		t.Fatalf("reject: %d %v", status, out)
	}
	active := ticket(0)
	if status, out := h.api(bob, "POST", "/api/v1/tickets/"+active+"/approve", map[string]any{}); status != 200 {
		t.Fatalf("approve: %d %v", status, out)
	}
	h.waitState(active, broker.StateActive, 30*time.Second)

	for _, f := range []struct {
		name, user, method, path, field string
		body                            func(text string) map[string]any
	}{
		{"ticket reason", alice, "POST", "/api/v1/tickets", "reason", func(s string) map[string]any {
			return map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": s}
		}},
		{"beneficiary", carol, "POST", "/api/v1/tickets", "beneficiaries", func(s string) map[string]any {
			return map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "x", "beneficiaries": []string{"dave" + s + "@example.com"}}
		}},
		{"approve comment", bob, "POST", "/api/v1/tickets/" + pending + "/approve", "comment", func(s string) map[string]any { return map[string]any{"comment": s} }},
		{"reject comment", bob, "POST", "/api/v1/tickets/" + pending + "/reject", "comment", func(s string) map[string]any { return map[string]any{"comment": s} }},
		{"cancel comment", alice, "POST", "/api/v1/tickets/" + pending + "/cancel", "comment", func(s string) map[string]any { return map[string]any{"comment": s} }},
		{"terminate comment", bob, "POST", "/api/v1/tickets/" + active + "/terminate", "comment", func(s string) map[string]any { return map[string]any{"comment": s} }},
		{"done comment", alice, "POST", "/api/v1/tickets/" + active + "/done", "comment", func(s string) map[string]any { return map[string]any{"comment": s} }},
		{"extension reason", alice, "POST", "/api/v1/tickets/" + active + "/extend", "reason", func(s string) map[string]any { return map[string]any{"duration": "30m", "reason": s} }},
		{"edit reason", alice, "PUT", "/api/v1/tickets/" + rejected, "reason", func(s string) map[string]any { return map[string]any{"reason": s} }},
		{"delegate", bob, "POST", "/api/v1/delegations", "to", func(s string) map[string]any {
			return map[string]any{"to": "dave" + s + "@example.com", "end": rfc(time.Now().Add(24 * time.Hour))}
		}},
	} {
		for name, text := range hostileTexts {
			t.Run(f.name+"/"+name, func(t *testing.T) {
				status, out := h.api(f.user, f.method, f.path, f.body(text))
				msg, _ := out["message"].(string)
				if status != 400 || out["code"] != "invalid" || !strings.HasPrefix(msg, f.field+" ") {
					t.Errorf("got %d %v, want 400 invalid naming %s", status, out, f.field)
				}
			})
		}
	}
	// Nothing changed: the tickets are where they were, nothing was filed
	// or delegated.
	for id, want := range map[string]broker.State{pending: broker.StatePending, rejected: broker.StateRejected, active: broker.StateActive} {
		if tk := h.ticket(id); tk.State != want || tk.Reason != "hostile text test" || tk.Extension != nil {
			t.Errorf("ticket %s is %s with reason %q and extension %v; want %s, unchanged", id, tk.State, tk.Reason, tk.Extension, want)
		}
	}
	if n, _ := h.redis().ZCard(context.Background(), "jit:{tickets}:idx:all").Result(); n != 3 {
		t.Errorf("%d tickets stored, want the 3 of the test", n)
	}
	if status, out := h.api(bob, "GET", "/api/v1/delegations", nil); status != 200 || fmt.Sprint(out["delegations"]) != "[]" {
		t.Errorf("delegations: %d %v, want none", status, out)
	}
}

// Issue 10 §4, defence in depth: a hostile reason already in Redis (data
// older than the rule) is printed escaped by `jit tickets get`; the
// approver sees one Account line, the real one. --output json carries the
// reason exactly, with nothing raw that a terminal would obey.
func TestCLIEscapesStoredHostileReason(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "333333333333", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "placeholder")
	hostile := "fix\x1b[1A\x1b[2K\rAccount:         111111111111\n\u202Egnp.exe\x00\u009b"
	ctx := context.Background()
	key := "jit:{tickets}:t:" + tk.ID
	raw, err := h.redis().Get(ctx, key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["reason"] = hostile
	raw, _ = json.Marshal(doc)
	if err := h.redis().Set(ctx, key, raw, 0).Err(); err != nil {
		t.Fatal(err)
	}

	out, errOut, err := h.jit("bob@example.com", "tickets", "get", tk.ID)
	if err != nil {
		t.Fatalf("jit tickets get: %v\n%s", err, errOut)
	}
	if strings.ContainsAny(out, "\x1b\r\x00\u202E\u009b") {
		t.Errorf("human output carries raw control characters: %q", out)
	}
	var accounts []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Account:") {
			accounts = append(accounts, l)
		}
	}
	if len(accounts) != 1 || !strings.Contains(accounts[0], "333333333333") {
		t.Errorf("Account lines %q, want only the real one (333333333333)", accounts)
	}
	want := `Reason:          fix\x1b[1A\x1b[2K\rAccount:         111111111111\n\u202egnp.exe\x00\x9b`
	if !strings.Contains(out, want+"\n") {
		t.Errorf("output does not show the reason escaped as %q:\n%s", want, out)
	}

	js, errOut, err := h.jit("bob@example.com", "tickets", "get", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit tickets get --output json: %v\n%s", err, errOut)
	}
	if strings.ContainsAny(js, "\x1b\r\x00\u202E\u009b") {
		t.Errorf("JSON output carries raw control characters: %q", js)
	}
	var got broker.Ticket
	if err := json.Unmarshal([]byte(js), &got); err != nil || got.Reason != hostile {
		t.Errorf("JSON reason %q (%v), want the stored text exactly", got.Reason, err)
	}
}

// Issue 10 §6: 200 concurrent requests from one requester file at most
// tickets.max_pending_per_requester (default 20); the rest get a clear
// 400 and store nothing. Other people can still file.
func TestPendingCapUnder200ConcurrentRequests(t *testing.T) {
	h := newHarness(t)
	token := h.token("dave@example.com")
	body, _ := json.Marshal(map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "flood"})
	const tries = 200
	statuses := make([]int, tries)
	messages := make([]string, tries)
	var wg sync.WaitGroup
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", h.apiURL+"/api/v1/tickets", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				messages[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			var out struct{ Code, Message string }
			json.NewDecoder(resp.Body).Decode(&out)
			statuses[i], messages[i] = resp.StatusCode, out.Code+": "+out.Message
		}()
	}
	wg.Wait()
	created := 0
	for i, s := range statuses {
		switch {
		case s == 201:
			created++
		case s != 400 || !strings.Contains(messages[i], "already has 20 pending tickets"):
			t.Errorf("request %d: %d %s, want 201 or 400 naming the cap", i, s, messages[i])
		}
	}
	if created != 20 {
		t.Errorf("%d of %d requests filed a ticket, want 20", created, tries)
	}
	if n, _ := h.redis().ZCard(context.Background(), "jit:{tickets}:idx:all").Result(); n != 20 {
		t.Errorf("%d tickets stored, want 20", n)
	}
	if status, out := h.api("alice@example.com", "POST", "/api/v1/tickets", map[string]any{"account_id": "111111111111",
		"permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "mine"}); status != 201 {
		t.Errorf("another requester: %d %v, want 201", status, out)
	}
}
