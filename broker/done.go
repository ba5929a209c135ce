package broker

import (
	"context"
	"errors"
)

// Done is the requester's or a beneficiary's "I'm done". The requester's
// done ends the ticket for everyone, as Terminate does. A beneficiary's
// done ends only that beneficiary's access: they are recorded in Done,
// get no new sessions, and their open sessions are cut (cutDone); the
// others keep theirs. The last beneficiary still using the ticket ends it.
// Saying done again repeats the cut. Errors: EUNAUTHENTICATED, ENOTFOUND,
// EFORBIDDEN, ECONFLICT.
func (s *Service) Done(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	if comment == "" {
		comment = "done"
	}
	// A crash between the transition below and the cut after it would
	// leave a beneficiary's sessions working (the outbox repairs an
	// active ticket's expiry, not this), so the revoke task that repeats
	// the cut is scheduled first, due a little later; if nothing changes
	// it finds nothing to do.
	if _, err := s.Ticket(ctx, id); err != nil { // only for a ticket the caller sees
		return nil, err
	}
	if err := s.cfg.Scheduler.Schedule(ctx, TaskRevoke, id, s.now().Add(OutboxGrace)); err != nil {
		return nil, err
	}
	partial := false
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		partial = false
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		if !t.Involves(u.Email) {
			return Errorf(EFORBIDDEN, "only the requester or a beneficiary may say ticket %s is done", t.ID)
		}
		if t.State != StateApproved && t.State != StateActive {
			return stateError(t, "ended")
		}
		left := t.ActiveBeneficiaries()
		if t.Requester == u.Email || !s.now().Before(t.End) || (len(left) == 1 && left[0] == u.Email) {
			return s.end(t, u.Email, comment, ActionDone)
		}
		partial = true
		if t.IsDone(u.Email) {
			return errNoop // said before: repeat the cut below
		}
		now := s.now()
		t.Done = append(t.Done, Decision{By: u.Email, Comment: comment, At: now})
		t.History = append(t.History, Event{At: now, Actor: u.Email, Action: ActionDone, Comment: comment})
		return nil
	})
	if errors.Is(err, errNoop) {
		t, err = s.cfg.Store.Ticket(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if !partial {
		return t, s.afterEnd(ctx, t)
	}
	// The role deny now, before answering; the revoke task repeats the
	// whole cut (and does the Identity Center part) at once.
	if err := s.denyRoles(ctx, t, u.Email); err != nil {
		s.cfg.Logger.Error("deny entry for a beneficiary failed; retrying in the background", "ticket", t.ID, "err", err)
	}
	return t, s.cfg.Scheduler.Schedule(ctx, TaskRevoke, t.ID, s.now())
}

// ActionDone is the history action of a requester's or beneficiary's
// "I'm done".
const ActionDone = "done"

// cutDone takes back the access of the beneficiaries of an open ticket who
// said they were done: their role sessions of the ticket are denied and
// their Identity Center assignments released (an assignment another
// ticket still holds stays; the last holder's release cuts the portal).
// Safe to repeat: what is done is recorded as grants.
func (s *Service) cutDone(ctx context.Context, t *Ticket) error {
	var errs []error
	for _, d := range t.Done {
		if err := s.denyRoles(ctx, t, d.By); err != nil {
			errs = append(errs, err)
		}
	}
	if len(t.Done) > 0 && s.cfg.Holds != nil {
		if err := s.release(ctx, t, t.IsDone); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
