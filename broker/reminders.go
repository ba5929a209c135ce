package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Task kinds of the approval workflow.
const (
	// TaskRemind reminds the approvers of a ticket's open round who have not
	// acted, and schedules the next reminder.
	TaskRemind TaskKind = "ticket:remind"
	// TaskDeadline expires a pending ticket nobody decided in time.
	TaskDeadline TaskKind = "ticket:deadline"
	// TaskEscalate widens who may approve a pending ticket as its
	// approval deadline nears (Ticket.Escalation).
	TaskEscalate TaskKind = "ticket:escalate"
)

// scheduleRound schedules the deadline and the first reminder of t's open
// round. Task ids are deterministic, so doing it twice schedules once.
func (s *Service) scheduleRound(ctx context.Context, t *Ticket) error {
	if t.State == StatePending && !t.ApprovalDeadline.IsZero() {
		if err := s.cfg.Scheduler.Schedule(ctx, TaskDeadline, t.ID, t.ApprovalDeadline); err != nil {
			return err
		}
	}
	if t.State == StatePending && t.Escalation != nil {
		if err := s.cfg.Scheduler.Schedule(ctx, TaskEscalate, t.ID, t.Escalation.At); err != nil {
			return err
		}
	}
	if at, ok := nextReminder(t, s.now()); ok {
		return s.cfg.Scheduler.Schedule(ctx, TaskRemind, t.ID, at)
	}
	return nil
}

// unscheduleRound removes the deadline and reminders of a ticket whose
// round closed; failures are logged, since the handlers re-check the ticket.
func (s *Service) unscheduleRound(ctx context.Context, id string) {
	for _, k := range []TaskKind{TaskDeadline, TaskRemind, TaskEscalate} {
		if err := s.cfg.Scheduler.Unschedule(ctx, k, id); err != nil {
			s.cfg.Logger.Warn("unschedule", "ticket", id, "task", k, "err", err)
		}
	}
}

// nextReminder returns when the open round of t is next reminded after
// now: a whole number of RemindEvery after the round started, before the
// round's deadline (the ticket's end for an extension).
func nextReminder(t *Ticket, now time.Time) (time.Time, bool) {
	r, ok := t.OpenRound()
	every := time.Duration(t.RemindEvery)
	if !ok || every <= 0 {
		return time.Time{}, false
	}
	anchor, until := t.PlannedAt, t.ApprovalDeadline
	if r.Extension {
		anchor, until = t.Extension.RequestedAt, t.End
	}
	if anchor.IsZero() {
		return time.Time{}, false
	}
	n := int64(0)
	if now.After(anchor) {
		n = int64(now.Sub(anchor) / every)
	}
	at := anchor.Add(time.Duration(n+1) * every)
	if !until.IsZero() && !at.Before(until) {
		return time.Time{}, false
	}
	return at, true
}

// Remind notifies those the ticket's open round waits for and schedules
// the next reminder. It is run by the scheduler and is safe to repeat; a
// ticket nobody waits on is left alone.
func (s *Service) Remind(ctx context.Context, id string) error {
	now := s.now()
	var to []string
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if _, ok := t.OpenRound(); !ok {
			return errNoop
		}
		to = s.waitingFor(ctx, t, now)
		t.History = append(t.History, Event{At: now, Actor: "jit", Action: "remind", Comment: "waiting for " + strings.Join(to, ", ")})
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	} else if err != nil {
		return ignoreNotFound(err)
	}
	s.notify(ctx, Notification{Kind: NotifyReminder, TicketID: t.ID, To: to,
		Message: fmt.Sprintf("ticket %s (%s in %s for %s) is waiting for your decision", t.ID, t.PermissionSet, t.AccountID, strings.Join(t.Beneficiaries, ", "))})
	if at, ok := nextReminder(t, now); ok {
		return s.cfg.Scheduler.Schedule(ctx, TaskRemind, t.ID, at)
	}
	return nil
}

// Deadline expires a pending ticket whose approval deadline has come. It is
// run by the scheduler and is safe to repeat; a ticket that was decided,
// or resent with a later deadline, is left alone.
func (s *Service) Deadline(ctx context.Context, id string) error {
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		now := s.now()
		if t.State != StatePending || t.ApprovalDeadline.IsZero() || now.Before(t.ApprovalDeadline) {
			return errNoop
		}
		why := "no decision before the approval deadline"
		if !t.ApprovalDeadline.Before(t.End) {
			why = "ended before it was approved"
		}
		t.PendingApprovers = nil
		t.move(StateExpired, "jit", "expire", why, now)
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	}
	if err == nil {
		if uerr := s.cfg.Scheduler.Unschedule(ctx, TaskRemind, id); uerr != nil {
			s.cfg.Logger.Warn("unschedule", "ticket", id, "task", TaskRemind, "err", uerr)
		}
	}
	return ignoreNotFound(err)
}

// Escalate widens who may approve a pending ticket whose escalation time
// has come: the open stage's waiting list gains the escalation's people
// and groups (Ticket.Widen decides, at every decision, that they may
// approve), and they are told. It is run by the scheduler and is safe to
// repeat; a ticket decided meanwhile, or replanned with a later
// escalation, is left alone.
func (s *Service) Escalate(ctx context.Context, id string) error {
	now := s.now()
	var added []string
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		added = nil
		if t.State != StatePending || t.Escalation == nil || now.Before(t.Escalation.At) {
			return errNoop
		}
		for _, a := range t.Widen(t.Stages[t.Stage], now).Approvers {
			if !slices.Contains(t.PendingApprovers, a) {
				t.PendingApprovers = append(t.PendingApprovers, a)
				added = append(added, a)
			}
		}
		if len(added) == 0 {
			return errNoop
		}
		t.History = append(t.History, Event{At: now, Actor: "jit", Action: "escalate",
			Comment: fmt.Sprintf("approval deadline %s nears: %s may also approve", t.ApprovalDeadline.UTC().Format(time.RFC3339), strings.Join(added, ", "))})
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	} else if err != nil {
		return ignoreNotFound(err)
	}
	s.notify(ctx, Notification{Kind: NotifyApprovalNeeded, TicketID: t.ID, To: added,
		Message: fmt.Sprintf("escalated to you: ticket %s (%s in %s for %s) is waiting for a decision before %s", t.ID, t.PermissionSet, t.AccountID, strings.Join(t.Beneficiaries, ", "), t.ApprovalDeadline.UTC().Format(time.RFC3339))})
	return nil
}
