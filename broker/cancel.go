package broker

import (
	"context"
)

// Cancel withdraws a pending or approved ticket before it starts; only its
// requester may. Its scheduled tasks (activation, deadline, reminders) are
// removed. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
func (s *Service) Cancel(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if t.Requester != u.Email {
			return Errorf(EFORBIDDEN, "only the requester %s may cancel ticket %s", t.Requester, t.ID)
		}
		if t.State != StatePending && t.State != StateApproved {
			return stateError(t, "cancelled")
		}
		now := s.now()
		t.Closed = &Decision{Stage: t.Stage, By: u.Email, Comment: comment, At: now}
		t.PendingApprovers = nil
		t.move(StateCancelled, u.Email, "cancel", comment, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range []TaskKind{TaskActivate, TaskDeadline, TaskRemind, TaskEscalate} {
		if err := s.cfg.Scheduler.Unschedule(ctx, k, t.ID); err != nil {
			s.cfg.Logger.Warn("unschedule", "ticket", t.ID, "task", k, "err", err)
		}
	}
	return t, nil
}
