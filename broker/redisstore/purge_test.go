package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Ended tickets nothing wrote since the cutoff go, with every index entry;
// open tickets, and ended ones written after the cutoff, stay.
func TestPurgeEnded(t *testing.T) {
	s, rdb, _ := newStore(t)
	ctx := context.Background()
	cutoff := t0.Add(48 * time.Hour)
	end := func(st broker.State, at time.Time) func(*broker.Ticket) {
		return func(tk *broker.Ticket) { tk.State, tk.PendingApprovers, tk.UpdatedAt = st, nil, at }
	}
	mustCreate(t, s,
		newTicket("old-expired", 0, end(broker.StateExpired, t0.Add(time.Hour))),
		newTicket("old-terminated", 1, end(broker.StateTerminated, t0.Add(time.Hour))),
		newTicket("old-rejected", 2, end(broker.StateRejected, t0.Add(time.Hour))),
		newTicket("recent-expired", 3, end(broker.StateExpired, cutoff.Add(time.Minute))),
		newTicket("old-pending", 4),
		newTicket("old-active", 5, end(broker.StateActive, t0.Add(time.Hour))),
	)
	gone := []string{"old-expired", "old-terminated", "old-rejected"}
	var indexes []string
	for _, id := range gone {
		indexes = append(indexes, s.indexKeys(mustGet(t, s, id))...)
	}
	n, err := s.PurgeEnded(ctx, cutoff, 2)
	if err != nil || n != 2 {
		t.Fatalf("PurgeEnded(max 2): %d, %v; want 2", n, err)
	}
	if n, err = s.PurgeEnded(ctx, cutoff, 100); err != nil || n != 1 {
		t.Fatalf("PurgeEnded again: %d, %v; want the 1 left", n, err)
	}
	for _, id := range gone {
		if _, err := s.Ticket(ctx, id); broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Errorf("ticket %s: %v, want it purged", id, err)
		}
		for _, k := range indexes {
			if err := rdb.ZScore(ctx, k, id).Err(); err == nil {
				t.Errorf("purged ticket %s still in index %s", id, k)
			}
		}
	}
	for _, id := range []string{"recent-expired", "old-pending", "old-active"} {
		mustGet(t, s, id)
	}
	if n, err := s.PurgeEnded(ctx, cutoff, 100); err != nil || n != 0 {
		t.Fatalf("PurgeEnded with nothing left: %d, %v", n, err)
	}
}
