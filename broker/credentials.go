package broker

import (
	"context"
	"time"
)

// Credentials issues an AWS session for the caller, who must be a
// beneficiary of the active ticket (and not one who said they were done).
// An approved ticket whose start has come is activated first, here,
// rather than waiting for its activation task, so a ticket is usable as
// soon as it is approved. The session stops working at the ticket's end,
// and its AccessKeyID is recorded on the ticket. The access is checked
// again under the registry in force (holdable). Errors: EUNAUTHENTICATED,
// ENOTFOUND, EFORBIDDEN (not a beneficiary, or no longer allowed),
// ECONFLICT (not active).
func (s *Service) Credentials(ctx context.Context, id string) (Credentials, error) {
	u, err := caller(ctx)
	if err != nil {
		return Credentials{}, err
	}
	t, err := s.Ticket(ctx, id)
	if err != nil {
		return Credentials{}, err
	}
	if !t.IsBeneficiary(u.Email) {
		return Credentials{}, Errorf(EFORBIDDEN, "%s is not a beneficiary of ticket %s", u.Email, t.ID)
	}
	if t.State == StateApproved && !s.now().Before(t.Start) {
		// Its activation task may not have run yet: do its work now (it
		// is safe to repeat, and the task then finds nothing to do).
		if err := s.Activate(ctx, t.ID); err != nil {
			return Credentials{}, err
		}
		if t, err = s.Ticket(ctx, id); err != nil {
			return Credentials{}, err
		}
		if !t.IsBeneficiary(u.Email) { // the activation's recheck took them off
			return Credentials{}, Errorf(EFORBIDDEN, "%s is no longer a beneficiary of ticket %s", u.Email, t.ID)
		}
	}
	if err := usableBy(t, u.Email, s.now()); err != nil {
		return Credentials{}, err
	}
	// The access must still be allowed under the registry in force, as at
	// request time; the requester's own sign-in carries their current groups.
	requester := ticketRequester(t)
	if u.Email == t.Requester {
		requester = u
	}
	if err := s.holdable(ctx, t, requester, u.Email); err != nil {
		return Credentials{}, err
	}
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err != nil {
		return Credentials{}, err
	}
	if IsWorkload(u.Email) {
		if err := workloadGrant(u.Email, ps); err != nil {
			return Credentials{}, err
		}
	}
	creds, err := s.cfg.Minter.Mint(ctx, MintRequest{
		TicketID: t.ID, AccountID: t.AccountID, RoleName: ps.RoleName,
		Requester: t.Requester, Beneficiary: u.Email, End: t.End,
		AllowRoleChaining: ps.AllowRoleChaining,
	})
	if err != nil {
		return Credentials{}, err
	}
	s.crash(CrashCredentialsMinted)
	_, err = s.transitionFrom(ctx, id, t, func(t *Ticket) error {
		if err := usableBy(t, u.Email, s.now()); err != nil {
			return err
		}
		t.Sessions = append(t.Sessions, Session{AccessKeyID: creds.AccessKeyID, User: u.Email, IssuedAt: s.now(), Expiration: creds.Expiration,
			RoleChaining: ps.AllowRoleChaining})
		return nil
	})
	if err != nil {
		// The ticket ended while the session was minted, or the caller
		// said they were done: cut it too.
		if t, gerr := s.cfg.Store.Ticket(ctx, id); gerr == nil && (t.State == StateTerminated || t.IsDone(u.Email)) {
			user := ""
			if t.State != StateTerminated {
				user = u.Email
			}
			if rerr := s.denyRoles(ctx, t, user); rerr != nil {
				s.cfg.Logger.Error("revoke session minted during termination", "ticket", id, "err", rerr)
			}
		}
		return Credentials{}, err
	}
	// The session is useless after the ticket's end (its session policy),
	// so tell the AWS CLI and SDKs to refresh by then: after an extension
	// they get a session with the new end, without a gap.
	if creds.Expiration.After(t.End) {
		creds.Expiration = t.End
	}
	return creds, nil
}

// ConsoleURL issues a session for the caller, as Credentials does, and
// turns it into an AWS console sign-in URL opening destination (default:
// the console home of region). Errors: as Credentials, and EUNAVAILABLE
// when no console signer is configured.
func (s *Service) ConsoleURL(ctx context.Context, id, region, destination string) (string, error) {
	if s.cfg.Signer == nil {
		return "", Errorf(EUNAVAILABLE, "console sign-in is not configured")
	}
	if err := s.cfg.Signer.CheckDestination(region, destination); err != nil {
		return "", err
	}
	creds, err := s.Credentials(ctx, id)
	if err != nil {
		return "", err
	}
	return s.cfg.Signer.SigninURL(ctx, creds, region, destination)
}

// usableBy returns why new sessions of t cannot be issued to the
// beneficiary email now, or nil.
func usableBy(t *Ticket, email string, now time.Time) error {
	if err := usable(t, now); err != nil {
		return err
	}
	for _, d := range t.Done {
		if d.By == email {
			return Errorf(ECONFLICT, "%s said they were done with ticket %s at %s; it cannot be used by them any more", email, t.ID, d.At.Format(time.RFC3339))
		}
	}
	n := 0
	for _, ss := range t.Sessions {
		if ss.User == email {
			n++
		}
	}
	if n >= MaxSessionsPerUser {
		return Errorf(ECONFLICT, "%s has been issued %d sessions of ticket %s, the most one person may have; use the ones issued (jit credentials caches them until they expire) or request a new ticket", email, n, t.ID)
	}
	return nil
}

// MaxSessionsPerUser caps the sessions one beneficiary is issued for one
// ticket. Every session is recorded on the ticket (its access key ties
// CloudTrail activity to it), so without a cap one caller minting in a
// loop would grow the ticket, and every read and write of it, without
// bound. A 12-hour ticket used through the CLI's cache needs about one
// session an hour per machine.
const MaxSessionsPerUser = 500

// usable returns why new sessions for t cannot be issued now, or nil.
func usable(t *Ticket, now time.Time) error {
	switch {
	case t.State == StateApproved && now.Before(t.Start):
		return Errorf(ECONFLICT, "ticket %s starts at %s", t.ID, t.Start.Format(time.RFC3339))
	case t.State != StateActive:
		return stateError(t, "used")
	case !now.Before(t.End):
		return Errorf(ECONFLICT, "ticket %s ended at %s; it cannot be used", t.ID, t.End.Format(time.RFC3339))
	}
	return nil
}
