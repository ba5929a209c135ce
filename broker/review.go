package broker

import (
	"context"
	"slices"
)

// ActionReview is the history action of a review after the fact.
const ActionReview = "review"

// Review records that the caller reviewed what ticket id's sessions did
// (its activity), with an optional comment. Anyone who oversees the
// ticket under the rules in force now (an approver of its rule, or an
// administrator of its account; for a break-glass ticket also those its
// rule in force names, reviewsNow) may review it, but never one of its own
// people: a review is a second person's. A break-glass ticket may be
// reviewed while still active, and after its review was escalated. Only
// a ticket that was granted (it went active) has activity to review;
// reviewing twice adds a second review. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, EINVALID,
// ECONFLICT.
func (s *Service) Review(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "review tickets"); err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	return s.transition(ctx, id, func(t *Ticket) error {
		st, err := s.standingOn(ctx, t, u)
		if err != nil {
			return err
		}
		switch {
		case st.party:
			return Errorf(EFORBIDDEN, "%s may not review ticket %s: a review is by someone other than its requester and beneficiaries", u.Email, t.ID)
		case !st.oversees():
			return Errorf(EFORBIDDEN, "%s may not review ticket %s", u.Email, t.ID)
		case !t.WasActive():
			return Errorf(EINVALID, "ticket %s was never active: it has no activity to review", t.ID)
		}
		now := s.now()
		t.Reviews = append(t.Reviews, Decision{By: u.Email, Comment: comment, At: now})
		t.History = append(t.History, Event{At: now, Actor: u.Email, Action: ActionReview, Comment: comment})
		return nil
	})
}

// WasActive reports whether the ticket was ever granted (went active).
func (t *Ticket) WasActive() bool {
	return t.State == StateActive || slices.ContainsFunc(t.History, func(e Event) bool { return e.To == StateActive })
}

// Unreviewed reports whether the ticket was granted and nobody has
// reviewed what it did: once its access is over, or at once for a
// break-glass ticket (whose review is due by a deadline).
func (t *Ticket) Unreviewed() bool {
	return (t.State.Final() || t.BreakGlass != nil) && len(t.Reviews) == 0 && t.WasActive()
}
