package main

import (
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Edit with a duration through the API counts it from the start the
// ticket keeps (the CLI help says "from the start"): a 20-minute window an
// hour away edited to 30m keeps its start and lasts 30 minutes.
func TestEditDurationFromKeptStart(t *testing.T) {
	h := newWorkflowHarness(t)
	start := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	id := h.file("alice@example.com", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess",
		"start": start.Format(time.RFC3339), "duration": "20m", "reason": "later"})
	path := "/api/v1/tickets/" + id
	h.must("bob@example.com", "POST", path+"/reject", map[string]string{"comment": "longer"})
	tk := h.must("alice@example.com", "PUT", path, map[string]any{"duration": "30m"})
	if tk.State != broker.StatePending || !tk.Start.Equal(start) || !tk.End.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("edited: %s, %s to %s; want pending, %s to %s", tk.State, tk.Start, tk.End, start, start.Add(30*time.Minute))
	}
	if code, _ := h.api("alice@example.com", "PUT", path, map[string]any{"duration": "30m", "end": start.Add(time.Hour).Format(time.RFC3339)}); code != 400 {
		t.Fatalf("edit with end and duration: %d, want 400", code)
	}
}
