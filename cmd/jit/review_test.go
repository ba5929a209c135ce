package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Review after the fact: an ended ticket that was granted is listed as
// unreviewed until a second person who oversees it reviews it; its own
// people, someone who cannot see it, and a ticket never granted are
// refused; the review is in the ticket and in the audit.
func TestReviewAfterTheFact(t *testing.T) {
	h := newHarness(t)
	tk := h.requestReadOnly("review: needs a second look")
	never := h.requestReadOnly("review: never granted")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)

	// Active: not yet unreviewed (its access is not over).
	unreviewed := func() string {
		t.Helper()
		out, errOut, err := h.jit("carol@example.com", "tickets", "list", "--unreviewed")
		if err != nil {
			t.Fatalf("tickets list --unreviewed: %v %s", err, errOut)
		}
		return out
	}
	if out := unreviewed(); strings.Contains(out, tk.ID) {
		t.Fatalf("an active ticket listed as unreviewed:\n%s", out)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done with it"); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	if out := unreviewed(); !strings.Contains(out, tk.ID) || strings.Contains(out, never.ID) {
		t.Fatalf("unreviewed list after the end: want %s (and not the never-granted %s):\n%s", tk.ID, never.ID, out)
	}

	for _, tc := range []struct{ user, id, want string }{
		{"alice@example.com", tk.ID, "a review is by someone other than its requester"},
		{"dave@example.com", tk.ID, "not found"},
		{"bob@example.com", never.ID, "was never active"},
	} {
		if out, errOut, err := h.jit(tc.user, "review", tc.id, "--comment", "looks fine"); err == nil || !strings.Contains(errOut, tc.want) {
			t.Errorf("review of %s by %s: err=%v\n%s%s\nwant an error saying %q", tc.id, tc.user, err, out, errOut, tc.want)
		}
	}
	if code, m := h.api("bob@example.com", "POST", "/api/v1/tickets/"+tk.ID+"/review", map[string]any{"comment": "ok\x1b[2J"}); code != 400 {
		t.Errorf("review with a control character: %d %v, want 400", code, m)
	}

	out, errOut, err := h.jit("bob@example.com", "review", tk.ID, "--comment", "only read the buckets")
	if err != nil || !strings.Contains(out, "Reviewed by:     bob@example.com") {
		t.Fatalf("review by bob: %v\n%s%s", err, out, errOut)
	}
	got := h.ticket(tk.ID)
	if len(got.Reviews) != 1 || got.Reviews[0].By != "bob@example.com" || got.Reviews[0].Comment != "only read the buckets" {
		t.Fatalf("reviews after bob's: %+v", got.Reviews)
	}
	if out := unreviewed(); strings.Contains(out, tk.ID) {
		t.Fatalf("a reviewed ticket is still listed as unreviewed:\n%s", out)
	}
	code, page := h.api("carol@example.com", "GET", "/api/v1/audit?type=ticket.review&ticket="+tk.ID, nil)
	if code != 200 || len(page["events"].([]any)) != 1 {
		t.Errorf("audit of the review: %d %v", code, page)
	}
}
