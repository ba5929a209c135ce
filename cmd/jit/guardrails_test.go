package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The registry's guard rails through the real server: an overlapping
// ticket for the same account and permission set is refused naming the
// other ticket, the open tickets per beneficiary are capped, a resend is
// checked like a new ticket, and two requests at once cannot both pass.
func TestGuardRails(t *testing.T) {
	cfg := strings.Replace(workflowConfig, "registry:\n", "registry:\n  limits: {max_open_tickets_per_beneficiary: 3}\n", 1)
	h := newHarnessOpts(t, cfg, harnessOptions{guardRails: true})
	at := func(from time.Duration) map[string]any {
		return map[string]any{"account_id": dev, "permission_set": ro, "start": rfc(time.Now().Add(from)), "duration": "1h", "reason": "guard"}
	}
	with := func(b map[string]any, k string, v any) map[string]any { b[k] = v; return b }

	first := h.file("alice@example.com", at(time.Hour))
	// Same account and set, overlapping window: refused, naming the first.
	code, _, m := h.call("alice@example.com", "POST", "/api/v1/tickets", at(90*time.Minute))
	if code != http.StatusConflict || m["code"] != broker.EDUPLICATE || m["ticket_id"] != first || !strings.Contains(m["message"].(string), first) {
		t.Fatalf("overlapping ticket: %d %v, want 409 duplicate_ticket naming %s", code, m, first)
	}
	// For someone else, the beneficiary's tickets count, not the
	// requester's; carol is not told which ticket of alice's it is.
	code, _, m = h.call("carol@example.com", "POST", "/api/v1/tickets", with(at(90*time.Minute), "beneficiaries", []string{"alice@example.com"}))
	if code != http.StatusConflict || m["code"] != broker.EDUPLICATE || m["ticket_id"] != nil || strings.Contains(m["message"].(string), first) {
		t.Fatalf("overlapping ticket filed by carol for alice: %d %v, want 409 duplicate_ticket not naming %s", code, m, first)
	}
	// A window after it, and another permission set, are fine.
	h.file("alice@example.com", at(3*time.Hour))
	h.file("alice@example.com", with(at(time.Hour), "permission_set", pu))
	// The fourth open ticket is over the cap.
	code, _, m = h.call("alice@example.com", "POST", "/api/v1/tickets", with(at(time.Hour), "account_id", staging))
	if code != http.StatusConflict || m["code"] != broker.ETOOMANY {
		t.Fatalf("fourth open ticket: %d %v, want 409 too_many_tickets", code, m)
	}
	// Cancelling one frees a place.
	h.must("alice@example.com", "POST", "/api/v1/tickets/"+first+"/cancel", map[string]string{})
	second := h.file("alice@example.com", at(time.Hour))

	// A resend is checked like a new ticket: dave's rejected ticket
	// overlaps the one he filed after it.
	rejected := h.file("dave@example.com", at(time.Hour))
	h.must("bob@example.com", "POST", "/api/v1/tickets/"+rejected+"/reject", map[string]string{"comment": "no"})
	other := h.file("dave@example.com", at(time.Hour))
	code, _, m = h.call("dave@example.com", "PUT", "/api/v1/tickets/"+rejected, map[string]string{"reason": "again"})
	if code != http.StatusConflict || m["code"] != broker.EDUPLICATE || m["ticket_id"] != other {
		t.Fatalf("resend overlapping %s: %d %v, want 409 duplicate_ticket naming it", other, code, m)
	}
	if tk := h.get(rejected); tk.State != broker.StateRejected || tk.Revision != 1 {
		t.Errorf("refused resend left %s revision %d, want rejected revision 1", tk.State, tk.Revision)
	}
	h.must("dave@example.com", "POST", "/api/v1/tickets/"+other+"/cancel", map[string]string{})

	// Concurrent requests: of eight identical ones at once, one passes.
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Go(func() {
			codes[i], _ = h.api("dave@example.com", "POST", "/api/v1/tickets", at(5*time.Hour))
		})
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
		default:
			t.Errorf("concurrent request: %d, want 201 or 409", c)
		}
	}
	if created != 1 {
		t.Errorf("%d of %d concurrent identical requests created a ticket (%v), want exactly 1", created, len(codes), codes)
	}
	_ = second

	// Extensions: a longer window may not reach into another open ticket
	// of the same account and set, and a pending extension holds its window.
	a := h.file("carol@example.com", at(0))
	h.must("bob@example.com", "POST", "/api/v1/tickets/"+a+"/approve", map[string]string{})
	active := h.waitTicket(a, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
	b := h.file("carol@example.com", at(2*time.Hour))
	code, _, m = h.call("carol@example.com", "POST", "/api/v1/tickets/"+a+"/extend", map[string]string{"end": rfc(active.End.Add(90 * time.Minute)), "reason": "more"})
	if code != http.StatusConflict || m["code"] != broker.EDUPLICATE || m["ticket_id"] != b {
		t.Fatalf("extension into %s: %d %v, want 409 duplicate_ticket naming it", b, code, m)
	}
	h.must("carol@example.com", "POST", "/api/v1/tickets/"+a+"/extend", map[string]string{"end": rfc(active.End.Add(30 * time.Minute)), "reason": "a little more"})
	h.must("carol@example.com", "POST", "/api/v1/tickets/"+b+"/cancel", map[string]string{})
	code, _, m = h.call("carol@example.com", "POST", "/api/v1/tickets", at(70*time.Minute))
	if code != http.StatusConflict || m["code"] != broker.EDUPLICATE || m["ticket_id"] != a {
		t.Fatalf("a ticket inside %s's pending extension: %d %v, want 409 duplicate_ticket naming it", a, code, m)
	}
}
