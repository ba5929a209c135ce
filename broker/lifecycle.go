package broker

import (
	"context"
	"errors"
	"strings"
	"time"
)

// errNoop stops a transition that has nothing to do.
var errNoop = errors.New("no-op")

// Activate makes an approved ticket active once its start has come, and
// schedules its expiry. It is run by the scheduler and is safe to repeat.
func (s *Service) Activate(ctx context.Context, id string) error {
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		now := s.now()
		switch {
		case t.State != StateApproved:
			return errNoop
		case now.Before(t.Start):
			return Errorf(ECONFLICT, "ticket %s starts at %s", t.ID, t.Start.Format(time.RFC3339Nano))
		case !now.Before(t.End):
			t.move(StateExpired, "jit", "expire", "ended before it was activated", now)
		default:
			t.move(StateActive, "jit", "activate", "", now)
		}
		return nil
	})
	if errors.Is(err, errNoop) {
		if t, err = s.cfg.Store.Ticket(ctx, id); err != nil || t.State != StateActive {
			return ignoreNotFound(err)
		}
	} else if err != nil {
		return ignoreNotFound(err)
	}
	if t.State != StateActive {
		return nil
	}
	return s.cfg.Scheduler.Schedule(ctx, TaskExpire, t.ID, t.End)
}

// Expire ends a ticket whose end has come. It is run by the scheduler and is
// safe to repeat; a ticket whose end moved later is left alone.
func (s *Service) Expire(ctx context.Context, id string) error {
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		now := s.now()
		if t.State.Final() || now.Before(t.End) {
			return errNoop
		}
		t.PendingApprovers = nil
		t.move(StateExpired, "jit", "expire", "", now)
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	}
	return ignoreNotFound(err)
}

// Terminate ends an approved or active ticket now and cuts every session
// already issued for it. Approvers of the ticket and administrators may
// terminate. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
func (s *Service) Terminate(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	comment = strings.TrimSpace(comment)
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if !t.IsApprover(u.Email) {
			if ok, err := s.isAdmin(ctx, u, t); err != nil {
				return err
			} else if !ok {
				return Errorf(EFORBIDDEN, "%s may not terminate ticket %s", u.Email, t.ID)
			}
		}
		if t.State != StateApproved && t.State != StateActive {
			return stateError(t, "terminated")
		}
		now := s.now()
		t.Closed = &Decision{Stage: t.Stage, By: u.Email, Comment: comment, At: now}
		t.move(StateTerminated, u.Email, "terminate", comment, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range []TaskKind{TaskActivate, TaskExpire} {
		if err := s.cfg.Scheduler.Unschedule(ctx, k, t.ID); err != nil {
			s.cfg.Logger.Warn("unschedule", "ticket", t.ID, "task", k, "err", err)
		}
	}
	if err := s.revoke(ctx, t); err != nil {
		s.cfg.Logger.Error("revoke failed; retrying in the background", "ticket", t.ID, "err", err)
		if err := s.cfg.Scheduler.Schedule(ctx, TaskRevoke, t.ID, s.now()); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Revoke cuts the sessions of a terminated ticket. It is run by the
// scheduler when the cut made by Terminate failed, and is safe to repeat.
func (s *Service) Revoke(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	if t.State != StateTerminated {
		return nil
	}
	return s.revoke(ctx, t)
}

// revoke adds the ticket to the deny entry of its role. Every session of
// the ticket already dies at its end (the session policy), so the entry is
// needed only until then.
func (s *Service) revoke(ctx context.Context, t *Ticket) error {
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err != nil {
		return err
	}
	return s.cfg.Revoker.Revoke(ctx, RevokeRequest{TicketID: t.ID, AccountID: t.AccountID, RoleName: ps.RoleName, Until: t.End})
}

func ignoreNotFound(err error) error {
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	return err
}
