package broker

import (
	"context"
	"time"
)

// Outbox lists tickets written since their consequences were last put in
// place. The ticket store marks a ticket in the same atomic step as every
// write, so a crash between a transition and what must follow it (a task
// scheduled, a session cut) leaves the mark behind, and DrainOutbox
// finishes the work.
type Outbox interface {
	// Due returns up to max entries marked at least olderThan ago, oldest first.
	Due(ctx context.Context, olderThan time.Duration, max int) ([]OutboxEntry, error)
	// Clear removes e unless the ticket was written again since e was read.
	Clear(ctx context.Context, e OutboxEntry) error
}

// OutboxEntry is one marked ticket; Mark identifies the write that marked it.
type OutboxEntry struct {
	TicketID string
	Mark     string
}

// Outbox draining defaults. The grace leaves the request that made the
// change time to put its consequences in place itself, so the drainer
// normally finds them there and does nothing.
const (
	OutboxGrace = 2 * time.Second
	outboxBatch = 100
)

// DrainOutbox repairs (see Repair) every ticket marked at least
// OutboxGrace ago and clears its mark; a ticket that cannot be repaired now
// keeps its mark for the next pass. It returns how many were repaired. The
// worker runs it every second; several workers may run it at once.
func (s *Service) DrainOutbox(ctx context.Context) (int, error) {
	if s.cfg.Outbox == nil {
		return 0, nil
	}
	entries, err := s.cfg.Outbox.Due(ctx, OutboxGrace, outboxBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if err := s.Repair(ctx, e.TicketID); err != nil {
			s.cfg.Logger.Warn("repair ticket; will retry", "ticket", e.TicketID, "err", err)
			continue
		}
		if err := s.cfg.Outbox.Clear(ctx, e); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Repair puts in place what the ticket's current state requires, in case
// a crash came between its last transition and the work that follows it:
// a pending ticket's approval deadline and reminder, an approved ticket's
// activation, an active ticket's expiry at its (possibly extended) end,
// for an ended ticket the revoke task that cuts its sessions and takes back
// its grants, and an unreviewed break-glass ticket's review deadline. It
// also records the ticket's next due time in the agenda (RunOverdue). Every step is idempotent (deterministic task ids; the
// handlers re-check the ticket), so repairing a healthy ticket changes
// nothing. A ticket that no longer exists needs nothing.
func (s *Service) Repair(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	switch t.State {
	case StatePending:
		err = s.scheduleRound(ctx, t)
	case StateApproved:
		err = s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start)
	case StateActive:
		err = s.cfg.Scheduler.Schedule(ctx, TaskExpire, t.ID, t.End)
	case StateTerminated, StateExpired:
		err = s.cfg.Scheduler.Schedule(ctx, TaskRevoke, t.ID, endedAt(t))
	}
	if err == nil && !reviewDue(t).IsZero() {
		err = s.scheduleBreakGlass(ctx, t) // its review deadline
	}
	if err != nil {
		return err
	}
	return s.setDue(ctx, t)
}

// endedAt returns when t reached its final state (its last history event
// into that state), so the revoke task Repair schedules for one ending has
// one id however often it is repaired.
func endedAt(t *Ticket) time.Time {
	for i := len(t.History) - 1; i >= 0; i-- {
		if e := t.History[i]; e.To == t.State && !e.At.IsZero() {
			return e.At
		}
	}
	return t.UpdatedAt
}
