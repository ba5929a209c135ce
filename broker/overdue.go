package broker

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errActivating: another process holds the ticket's activation lock.
var errActivating = Errorf(ECONFLICT, "the ticket is being activated elsewhere")

// Agenda lists tickets by when their next scheduled transition is due:
// a pending ticket's approval deadline, an approved ticket's start, an
// active ticket's end, an unreviewed break-glass ticket's review deadline. Repair keeps it, so it follows every write within
// the outbox's grace.
type Agenda interface {
	// SetDue records when the ticket's next transition is due; the zero
	// time removes the ticket.
	SetDue(ctx context.Context, id string, at time.Time) error
	// Overdue returns up to max tickets due before the given time, earliest first.
	Overdue(ctx context.Context, before time.Time, max int) ([]string, error)
}

// Overdue sweep settings. A transition more than OverdueGrace late means
// the task that should have run it is lost or stuck (its process died
// holding it: Asynq recovers such a task only after its 30 s lease, a
// one-minute recovery pass and a retry delay, minutes in all). The sweep
// then runs it directly; a ticket it could not move is tried again after
// overdueRetry; one whose activation lock is held is tried again after
// overdueBusyRetry, since a holder that died (the usual reason a task is
// overdue) loses the lock within one lease, a few seconds: waiting the
// full overdueRetry there made recovery after a crash take 40 s.
const (
	OverdueGrace     = 5 * time.Second
	overdueRetry     = 30 * time.Second
	overdueBusyRetry = 2 * time.Second
	overdueBatch     = 100
	overdueLockIn    = time.Second
)

// dueAt returns when t's next scheduled transition is due, or zero: the
// earlier of its state's (stateDue) and its break-glass review deadline
// (reviewDue).
func dueAt(t *Ticket) time.Time {
	due, review := stateDue(t), reviewDue(t)
	if !review.IsZero() && (due.IsZero() || review.Before(due)) {
		return review
	}
	return due
}

// stateDue returns when t's state is due to move on: a pending ticket's
// approval deadline, an approved ticket's start, an active ticket's end;
// zero for the others.
func stateDue(t *Ticket) time.Time {
	switch t.State {
	case StatePending:
		return t.ApprovalDeadline
	case StateApproved:
		return t.Start
	case StateActive:
		return t.End
	}
	return time.Time{}
}

// reviewDue returns the review deadline of a break-glass ticket still
// waiting for its review and not yet escalated (ReviewOverdue), or zero.
func reviewDue(t *Ticket) time.Time {
	if b := t.BreakGlass; b != nil && len(t.Reviews) == 0 && b.EscalatedAt.IsZero() {
		return b.ReviewBy
	}
	return time.Time{}
}

// setDue records t's next due time in the agenda, when there is one.
func (s *Service) setDue(ctx context.Context, t *Ticket) error {
	if s.cfg.Agenda == nil {
		return nil
	}
	return s.cfg.Agenda.SetDue(ctx, t.ID, dueAt(t))
}

// RunOverdue runs every transition that is more than OverdueGrace late,
// directly rather than through its task: the approval deadline, the
// activation, the expiry and a break-glass ticket's review escalation,
// each of which re-checks the ticket and the clock and is safe to repeat
// (so a task that does run as well changes nothing more). An activation still running elsewhere (its
// lock is held) is left to its holder; a holder that died loses the lock
// within one lease. It returns how many tickets it moved on. The worker
// runs it every second; several workers may run it at once.
func (s *Service) RunOverdue(ctx context.Context) (int, error) {
	if s.cfg.Agenda == nil {
		return 0, nil
	}
	now := s.now()
	ids, err := s.cfg.Agenda.Overdue(ctx, now.Add(-OverdueGrace), overdueBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.runDue(ctx, id)
		if err == nil {
			err = s.Repair(ctx, id) // the agenda's next entry for the ticket
		}
		if err != nil {
			s.cfg.Logger.Warn("overdue ticket; will retry", "ticket", id, "err", err)
			retry := overdueRetry
			if errors.Is(err, errActivating) {
				retry = overdueBusyRetry
			}
			// The sweep takes entries OverdueGrace after their time: this
			// one is taken again after retry.
			if serr := s.cfg.Agenda.SetDue(ctx, id, s.now().Add(retry-OverdueGrace)); serr != nil {
				return n, serr
			}
			continue
		}
		n++
	}
	return n, nil
}

// runDue runs the transitions due for the ticket now: the escalation of
// its break-glass review, and its state's.
func (s *Service) runDue(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return s.cfg.Agenda.SetDue(ctx, id, time.Time{})
	} else if err != nil {
		return err
	}
	now := s.now()
	if due := reviewDue(t); !due.IsZero() && !now.Before(due) {
		if err := s.ReviewOverdue(ctx, id); err != nil {
			return err
		}
	}
	if due := stateDue(t); due.IsZero() || now.Before(due) {
		return nil // here for its review deadline only
	}
	switch t.State {
	case StatePending:
		return s.Deadline(ctx, id)
	case StateActive:
		return s.Expire(ctx, id)
	case StateApproved:
		if s.cfg.Locker == nil {
			return s.activate(ctx, id)
		}
		lockCtx, cancel := context.WithTimeout(ctx, overdueLockIn)
		unlock, err := s.cfg.Locker.Lock(lockCtx, activateLock(id))
		cancel()
		if err != nil {
			return fmt.Errorf("ticket %s: %w", id, errActivating)
		}
		defer unlock()
		return s.activate(ctx, id)
	}
	return nil
}
