package broker_test

import (
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Edit with a duration counts it from the start the ticket keeps: a start
// still ahead, a new start, or now when the start has passed.
func TestEditDurationFromStart(t *testing.T) {
	e := newTimingEnv(t, broker.ApprovalRule{})
	now := e.clock.Now()
	file := func(start time.Time, d time.Duration) string {
		t.Helper()
		tk, err := e.svc.CreateTicket(asEmail(tRequester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
			Start: start, End: start.Add(d), Reason: "edit"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reject(asEmail(tApprover), tk.ID, "no"); err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	cases := []struct {
		name       string
		start      time.Time // of the filed ticket
		in         broker.EditInput
		wantStart  time.Time
		wantEnd    time.Time
		wantErrTag string
	}{
		{"start kept an hour away", now.Add(time.Hour), broker.EditInput{Duration: 30 * time.Minute}, now.Add(time.Hour), now.Add(90 * time.Minute), ""},
		{"start now", now, broker.EditInput{Duration: 30 * time.Minute}, now, now.Add(30 * time.Minute), ""},
		{"new start", now.Add(time.Hour), broker.EditInput{Start: now.Add(2 * time.Hour), Duration: 10 * time.Minute}, now.Add(2 * time.Hour), now.Add(130 * time.Minute), ""},
		{"no duration keeps the length", now.Add(time.Hour), broker.EditInput{Start: now.Add(2 * time.Hour)}, now.Add(2 * time.Hour), now.Add(140 * time.Minute), ""},
		{"end and duration", now.Add(time.Hour), broker.EditInput{End: now.Add(3 * time.Hour), Duration: time.Minute}, time.Time{}, time.Time{}, broker.EINVALID},
		{"negative duration", now.Add(time.Hour), broker.EditInput{Duration: -time.Minute}, time.Time{}, time.Time{}, broker.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := file(c.start, 20*time.Minute)
			got, err := e.svc.Edit(asEmail(tRequester), id, c.in)
			wantCode(t, "edit", err, c.wantErrTag)
			if c.wantErrTag != "" {
				if s := e.get(t, id); s.State != broker.StateRejected || s.Revision != 1 {
					t.Fatalf("refused edit changed the ticket: %s revision %d", s.State, s.Revision)
				}
				return
			}
			if !got.Start.Equal(c.wantStart) || !got.End.Equal(c.wantEnd) {
				t.Fatalf("window %s to %s, want %s to %s", got.Start, got.End, c.wantStart, c.wantEnd)
			}
		})
	}
}
