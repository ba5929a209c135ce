package broker

import (
	"context"
	"errors"
	"slices"
	"time"
)

// portalSessionMax is how long an Identity Center session can outlive its
// assignment: the longest permission set session duration AWS allows.
const portalSessionMax = 12 * time.Hour

// grant returns the ticket's grant of that kind and key, or nil.
func (t *Ticket) grant(kind GrantKind, key string) *Grant {
	for i := range t.Grants {
		if t.Grants[i].Kind == kind && t.Grants[i].Key == key {
			return &t.Grants[i]
		}
	}
	return nil
}

// recordGrant adds g to the ticket's grants, or updates the grant of the
// same kind and key (its state, time and error), with a compare-and-set.
func (s *Service) recordGrant(ctx context.Context, id string, g Grant) error {
	g.At = s.now()
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		if old := t.grant(g.Kind, g.Key); old != nil {
			if old.State == g.State && old.Error == g.Error {
				return errNoop
			}
			*old = g
			return nil
		}
		t.Grants = append(t.Grants, g)
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	}
	return err
}

// assign creates each beneficiary's Identity Center assignment: intent
// recorded first, the assignment held for this ticket and made under the
// assignment's lock, then confirmed.
func (s *Service) assign(ctx context.Context, t *Ticket, ps PermissionSet) error {
	if s.cfg.Assigner == nil || s.cfg.Holds == nil || s.cfg.Locker == nil {
		return Errorf(EUNAVAILABLE, "Identity Center is not configured; permission set %s cannot be granted", ps.Name)
	}
	for _, user := range t.ActiveBeneficiaries() {
		a := Assignment{AccountID: t.AccountID, PermissionSetARN: ps.ARN, User: user}
		if g := t.grant(GrantAssignment, a.Key()); g != nil && g.State == GrantDone {
			continue
		}
		if err := s.recordGrant(ctx, t.ID, Grant{Kind: GrantAssignment, User: user, Key: a.Key(), State: GrantIntent}); err != nil {
			return err
		}
		s.crash(CrashAssignIntent)
		err := s.locked(ctx, "assignment:"+a.Key(), func() error {
			if err := s.cfg.Holds.Hold(ctx, a.Key(), t.ID); err != nil {
				return err
			}
			if err := s.cfg.Assigner.Assign(ctx, a); err != nil {
				return err
			}
			s.crash(CrashAssignCreated)
			return nil
		})
		if err != nil {
			s.recordGrant(context.WithoutCancel(ctx), t.ID, Grant{Kind: GrantAssignment, User: user, Key: a.Key(), State: GrantIntent, Error: ErrorMessage(err)})
			return err
		}
		if err := s.recordGrant(ctx, t.ID, Grant{Kind: GrantAssignment, User: user, Key: a.Key(), State: GrantDone}); err != nil {
			return err
		}
	}
	return nil
}

// release takes back the ticket's assignments in reverse order: all of
// them, or with only set those of the users it picks. An assignment
// another ticket still holds stays; the last holder's release deletes it
// and cuts the user's portal sessions (cutAssignment).
func (s *Service) release(ctx context.Context, t *Ticket, only func(user string) bool) error {
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err != nil {
		return err
	}
	grants := slices.Clone(t.Grants)
	slices.Reverse(grants)
	for _, g := range grants {
		if g.Kind != GrantAssignment || g.State == GrantUndone || (only != nil && !only(g.User)) {
			continue
		}
		a := Assignment{AccountID: t.AccountID, PermissionSetARN: ps.ARN, User: g.User}
		err := s.locked(ctx, "assignment:"+a.Key(), func() error {
			last, err := s.cfg.Holds.Release(ctx, a.Key(), t.ID)
			if err != nil || !last {
				return err
			}
			s.crash(CrashReleaseReleased)
			if err := s.cutAssignment(ctx, t, a); err != nil {
				s.cfg.Holds.Hold(context.WithoutCancel(ctx), a.Key(), t.ID) // retry the whole step
				return err
			}
			s.crash(CrashReleaseCut)
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.recordGrant(ctx, t.ID, Grant{Kind: GrantAssignment, User: g.User, Key: g.Key, State: GrantUndone}); err != nil {
			return err
		}
	}
	return nil
}

// cutAssignment deletes an assignment and cuts the user's portal sessions
// of it, including any opened while the deletion ran (seconds to minutes
// in AWS). The deny is keyed on aws:TokenIssueTime, so it is written
// twice:
//
//  1. before the deletion, provisionally, for every session issued before
//     the deny may go (12 hours on), so nothing opened while the deletion
//     runs escapes, not even for a moment;
//  2. once the deletion is done, narrowed (Settle) to sessions issued
//     before the next whole second after it, kept until the longest
//     session issued before that has expired. A later ticket's new
//     assignment, made after this one's lock is released, gets sessions
//     issued after that bound, which the deny leaves alone.
//
// A failure at any step fails the whole cut, which the caller retries
// from the start; the provisional deny stays until then.
func (s *Service) cutAssignment(ctx context.Context, t *Ticket, a Assignment) error {
	if s.cfg.PortalRevoker != nil {
		now := s.now()
		cut := PortalCut{Assignment: a, TicketID: t.ID, Before: now.Add(portalSessionMax), Until: now.Add(2 * portalSessionMax)}
		if err := s.cfg.PortalRevoker.CutPortal(ctx, cut); err != nil {
			return err
		}
		s.crash(CrashCutPortalDenied)
	}
	if err := s.cfg.Assigner.Unassign(ctx, a); err != nil {
		return err
	}
	s.crash(CrashCutUnassigned)
	if s.cfg.PortalRevoker == nil {
		return nil
	}
	// aws:TokenIssueTime has whole seconds: a session issued in the second
	// the deletion was seen done is before the bound.
	bound := s.now().Truncate(time.Second).Add(time.Second)
	cut := PortalCut{Assignment: a, TicketID: t.ID, Before: bound, Until: bound.Add(portalSessionMax), Settle: true}
	return s.cfg.PortalRevoker.CutPortal(ctx, cut)
}

// locked runs fn holding the named lock, when a Locker is configured.
func (s *Service) locked(ctx context.Context, key string, fn func() error) error {
	if s.cfg.Locker == nil {
		return fn()
	}
	unlock, err := s.cfg.Locker.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}
