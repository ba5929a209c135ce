package broker

import (
	"context"
	"strings"
)

// Approve records the caller's approval of the ticket's current stage. When
// the last stage completes, the ticket is approved and its activation is
// scheduled at its start. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN,
// ECONFLICT (not pending, or already approved by the caller).
func (s *Service) Approve(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var approved bool
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if t.State != StatePending {
			return stateError(t, "approved")
		}
		now := s.now()
		done, err := s.cfg.Approvals.Approve(t, u, strings.TrimSpace(comment), now)
		if err != nil {
			return err
		}
		approved = done
		if done {
			t.PendingApprovers = nil
			t.move(StateApproved, u.Email, "approve", comment, now)
		} else {
			t.History = append(t.History, Event{At: now, Actor: u.Email, Action: "approve", Comment: comment})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if approved {
		if err := s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Reject rejects a pending ticket with the caller's comment, which is
// required. Errors: EUNAUTHENTICATED, EINVALID, ENOTFOUND, EFORBIDDEN, ECONFLICT.
func (s *Service) Reject(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	if comment == "" {
		return nil, Errorf(EINVALID, "a comment is required to reject a ticket")
	}
	return s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if t.State != StatePending {
			return stateError(t, "rejected")
		}
		if !s.cfg.Approvals.MayDecide(t, u) {
			return Errorf(EFORBIDDEN, "%s may not decide ticket %s", u.Email, t.ID)
		}
		now := s.now()
		t.Closed = &Decision{Stage: t.Stage, By: u.Email, Comment: comment, At: now}
		t.PendingApprovers = nil
		t.move(StateRejected, u.Email, "reject", comment, now)
		return nil
	})
}
