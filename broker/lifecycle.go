package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// errNoop stops a transition that has nothing to do.
var errNoop = errors.New("no-op")

// Activate makes an approved ticket active once its start has come: on the
// Identity Center path it first creates each beneficiary's assignment
// (intent recorded before, confirmed after). Then it schedules the expiry.
// It is run by the scheduler and is safe to repeat; one activation of a
// ticket runs at a time (the scheduled task, and the overdue sweep when
// that task's process died).
func (s *Service) Activate(ctx context.Context, id string) error {
	return s.locked(ctx, activateLock(id), func() error { return s.activate(ctx, id) })
}

func activateLock(id string) string { return "activate:" + id }

func (s *Service) activate(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	switch t.State {
	case StateActive:
		return s.cfg.Scheduler.Schedule(ctx, TaskExpire, t.ID, t.End)
	case StateApproved:
	default:
		return nil
	}
	now := s.now()
	if now.Before(t.Start) {
		return Errorf(ECONFLICT, "ticket %s starts at %s", t.ID, t.Start.Format(time.RFC3339Nano))
	}
	if !now.Before(t.End) {
		return s.Expire(ctx, id)
	}
	if t, err = s.recheck(ctx, t); err != nil || t == nil {
		return err
	}
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err != nil {
		return err
	}
	if usesIdentityCenter(ps) {
		if err := s.assign(ctx, t, ps); err != nil {
			if c := ErrorCode(err); c == EINVALID || c == ENOTFOUND || c == EUNAVAILABLE {
				return s.failActivation(ctx, id, err)
			}
			return err
		}
	}
	t, err = s.transition(ctx, id, func(t *Ticket) error {
		if t.State != StateApproved {
			return errNoop
		}
		t.move(StateActive, "jit", "activate", "", s.now())
		return nil
	})
	if errors.Is(err, errNoop) {
		// Ended while the grants were made: take them back.
		return s.cleanup(ctx, id)
	} else if err != nil {
		return ignoreNotFound(err)
	}
	s.crash(CrashActivateSaved)
	return s.cfg.Scheduler.Schedule(ctx, TaskExpire, t.ID, t.End)
}

// failActivation ends a ticket whose access could not be granted, and
// takes back what was granted.
func (s *Service) failActivation(ctx context.Context, id string, cause error) error {
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		if t.State.Final() {
			return errNoop
		}
		now := s.now()
		msg := "activation failed: " + ErrorMessage(cause)
		t.Closed = &Decision{By: "jit", Comment: msg, At: now}
		t.move(StateTerminated, "jit", "activation failed", msg, now)
		return nil
	})
	if err != nil && !errors.Is(err, errNoop) {
		return err
	}
	return s.cleanup(ctx, id)
}

// Expire ends a ticket whose end has come and takes back its grants. It is
// run by the scheduler and is safe to repeat; a ticket whose end moved
// later is left alone.
func (s *Service) Expire(ctx context.Context, id string) error {
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		now := s.now()
		if t.State.Final() || now.Before(t.End) {
			return errNoop
		}
		t.PendingApprovers = nil
		closeExtension(t, now, "not decided before the ticket ended")
		t.move(StateExpired, "jit", "expire", "", now)
		return nil
	})
	if err != nil && !errors.Is(err, errNoop) {
		return ignoreNotFound(err)
	}
	if err == nil {
		s.crash(CrashExpireSaved)
	}
	return s.cleanup(ctx, id)
}

// Terminate ends an approved or active ticket now and cuts every session
// already issued for it: the role path's deny entry is written before it
// returns; the rest (Identity Center) runs in the revoke task at once.
// Approvers of the ticket (also as delegates) and administrators under the
// rules and delegations in force now may terminate (see standingOf). A ticket
// whose end has already passed is recorded as expired. Errors:
// EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
func (s *Service) Terminate(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "terminate tickets"); err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		st, err := s.standingOn(ctx, t, u)
		if err != nil {
			return err
		}
		if !st.oversees() {
			return Errorf(EFORBIDDEN, "%s may not terminate ticket %s", u.Email, t.ID)
		}
		return s.end(t, u.Email, comment, "terminate")
	})
	if err != nil {
		return nil, err
	}
	s.crash(CrashTerminateSaved)
	return t, s.afterEnd(ctx, t)
}

// end moves an approved or active ticket to terminated, closing a pending
// extension; action names it in the history ("terminate", or ActionDone
// for an "I'm done"). A ticket whose end has passed (its expiry task not
// run yet) expired at its end, so it is recorded as expired, not
// terminated.
func (s *Service) end(t *Ticket, by, comment, action string) error {
	if t.State != StateApproved && t.State != StateActive {
		return stateError(t, "terminated")
	}
	now := s.now()
	if !now.Before(t.End) {
		closeExtension(t, now, "not decided before the ticket ended")
		t.PendingApprovers = nil
		t.move(StateExpired, "jit", "expire", fmt.Sprintf("ended at %s, before %s asked to end it", t.End.Format(time.RFC3339), by), now)
		return nil
	}
	closeExtension(t, now, fmt.Sprintf("the ticket was terminated by %s", by))
	t.Closed = &Decision{Stage: t.Stage, By: by, Comment: comment, At: now}
	t.move(StateTerminated, by, action, comment, now)
	return nil
}

// afterEnd cuts a ticket that was just terminated: its tasks are
// unscheduled, the role deny entry is written now, and the revoke task
// takes back everything else at once (and retries the deny if it failed).
func (s *Service) afterEnd(ctx context.Context, t *Ticket) error {
	for _, k := range []TaskKind{TaskActivate, TaskExpire} {
		if err := s.cfg.Scheduler.Unschedule(ctx, k, t.ID); err != nil {
			s.cfg.Logger.Warn("unschedule", "ticket", t.ID, "task", k, "err", err)
		}
	}
	if err := s.denyRole(ctx, t); err != nil {
		s.cfg.Logger.Error("deny entry failed; retrying in the background", "ticket", t.ID, "err", err)
	}
	s.crash(CrashTerminateDenied)
	return s.cfg.Scheduler.Schedule(ctx, TaskRevoke, t.ID, s.now())
}

// Revoke takes back everything a terminated or expired ticket was granted:
// the role deny entry, and on the Identity Center path the portal deny and
// the assignments no other ticket needs. Run by the scheduler; safe to repeat.
func (s *Service) Revoke(ctx context.Context, id string) error {
	return s.cleanup(ctx, id)
}

// cleanup takes back the grants of an ended ticket (see Revoke), one
// cleanup of a ticket at a time: the expiry's own cleanup and a revoke
// task the outbox scheduled for the same ending (Repair) would otherwise
// both cut and delete.
func (s *Service) cleanup(ctx context.Context, id string) error {
	return s.locked(ctx, "cleanup:"+id, func() error { return s.cleanupLocked(ctx, id) })
}

func (s *Service) cleanupLocked(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	if t.State == StateApproved || t.State == StateActive {
		// Still open: cut only the beneficiaries who said they were done.
		return s.cutDone(ctx, t)
	}
	if t.State != StateTerminated && t.State != StateExpired {
		return nil
	}
	if err := s.denyRole(ctx, t); err != nil {
		return err
	}
	return s.release(ctx, t, nil)
}

// chainedSessionMax is the longest a session made by role chaining
// lives: AWS caps it at one hour, whatever the role allows.
const chainedSessionMax = time.Hour

// denyRole adds the ticket to the deny entry of its role, when the
// permission set grants through a role and a session may outlive the
// ticket, and records it. Every session already dies at the ticket's end
// by its session policy, so the entry is needed only until then, and an
// ordinary expiry writes none: the role's deny list holds only what must
// be cut (terminations) and never fills up with expiries.
//
// A permission set that allows role chaining hands out sessions whose
// chained sessions keep the jit-ticket tag (transitive) but neither the
// session policy nor its end-time deny. So the ticket is denied on every
// role JIT manages in the account, whether it was terminated or ended,
// until the last session chained before now has expired. That holds for
// a ticket that was handed such a session even if the permission set no
// longer allows chaining.
func (s *Service) denyRole(ctx context.Context, t *Ticket) error {
	return s.denyRoles(ctx, t, "")
}

// denyRoles is denyRole, or with user set the cut of that beneficiary's
// sessions of the ticket only (a beneficiary who said they were done),
// on the same roles and for as long, recorded as a user_deny grant.
func (s *Service) denyRoles(ctx context.Context, t *Ticket, user string) error {
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err != nil {
		return err
	}
	if !usesRole(ps) {
		return nil
	}
	chaining := ps.AllowRoleChaining || slices.ContainsFunc(t.Sessions, func(se Session) bool { return se.RoleChaining })
	if t.State == StateExpired && user == "" && (len(t.Sessions) == 0 || !chaining) {
		return nil // every session stopped at the end by its session policy
	}
	roles, until := []string{ps.RoleName}, t.End
	if chaining {
		more, err := s.managedRoles(ctx)
		if err != nil {
			return err
		}
		for _, r := range more {
			if !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
		if u := s.now().Add(chainedSessionMax); u.After(until) {
			until = u
		}
	}
	var errs []error
	for i, role := range roles {
		kind, key := GrantRoleDeny, t.AccountID+"/"+role
		if user != "" {
			kind, key = GrantUserDeny, key+"/"+user
		}
		if g := t.grant(kind, key); g != nil && g.State == GrantDone {
			continue
		}
		err := s.cfg.Revoker.Revoke(ctx, RevokeRequest{TicketID: t.ID, AccountID: t.AccountID, RoleName: role, User: user, Until: until})
		if i > 0 && ErrorCode(err) == ENOTFOUND {
			continue // no such role in this account: no session can land there
		}
		if err == nil {
			s.crash(CrashDenyWritten)
			err = s.recordGrant(ctx, t.ID, Grant{Kind: kind, User: user, Key: key, State: GrantDone, Until: until})
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// managedRoles returns the roles of every permission set that grants
// through a role: the roles JIT manages, in any account. Without a
// RegistryStore there is no list, and only the ticket's own role is cut.
func (s *Service) managedRoles(ctx context.Context) ([]string, error) {
	if s.cfg.RegistryStore == nil {
		return nil, nil
	}
	reg, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return nil, err
	}
	var roles []string
	for _, p := range reg.PermissionSets {
		if usesRole(p) && p.RoleName != "" && !slices.Contains(roles, p.RoleName) {
			roles = append(roles, p.RoleName)
		}
	}
	return roles, nil
}

func ignoreNotFound(err error) error {
	if ErrorCode(err) == ENOTFOUND {
		return nil
	}
	return err
}

func usesIdentityCenter(ps PermissionSet) bool {
	return ps.GrantPath == GrantIdentityCenter || ps.GrantPath == GrantBoth
}

func usesRole(ps PermissionSet) bool {
	return ps.GrantPath == "" || ps.GrantPath == GrantRole || ps.GrantPath == GrantBoth
}
