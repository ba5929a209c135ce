package broker

import (
	"context"
	"slices"
	"time"
)

// Deciding is what a ticket's open round needs, as one user sees it: which
// round (the ticket's own, or its pending extension's, with the new end
// and the reason asked), the stage and quorum progress, until when it can
// be decided, whom it still waits for, and whether (and for whom) the user
// may decide it now. The API carries it on each ticket that waits for
// decisions (Service.Deciding), so the CLI and the page show it as it is
// decided here.
type Deciding struct {
	// Extension: the round decides a request to extend the active ticket
	// to End (from PreviousEnd), for Reason.
	Extension   bool      `json:"extension"`
	End         time.Time `json:"end,omitzero"`
	PreviousEnd time.Time `json:"previous_end,omitzero"`
	Reason      string    `json:"reason,omitempty"`
	// Stage is the stage waiting for decisions, from 1, of Stages.
	Stage  int `json:"stage"`
	Stages int `json:"stages"`
	// Approvals is how many of the Required approvals the stage has.
	Approvals int `json:"approvals"`
	Required  int `json:"required"`
	// Deadline is when the round can no longer be decided: the approval
	// deadline (or the ticket's end, if earlier) for the ticket's own
	// round, the ticket's end for an extension.
	Deadline time.Time `json:"deadline"`
	// WaitingFor are the stage's approvers (emails and "group:<name>")
	// who have not approved it, directly or through a delegate.
	WaitingFor []string `json:"waiting_for"`
	// MayDecide reports whether the user may approve or reject the stage
	// now; For then names the delegator they would decide for, and Why
	// otherwise says why not.
	MayDecide bool   `json:"may_decide"`
	For       string `json:"for,omitempty"`
	Why       string `json:"why,omitempty"`
}

// Deciding returns, for each ticket of ts, the caller's view of its open
// round (nil for a ticket that waits for no decision), with the round
// planned under the rule in force, as a decision now would see it. The
// tickets are not changed. Errors: EUNAUTHENTICATED, EUNAVAILABLE.
func (s *Service) Deciding(ctx context.Context, ts []*Ticket) ([]*Deciding, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Deciding, len(ts))
	var dels []Delegation
	read := false
	now := s.now()
	for i, t := range ts {
		if _, ok := t.OpenRound(); !ok {
			continue
		}
		if !read {
			if dels, err = s.delegationsTo(ctx, u.Email, now); err != nil {
				return nil, err
			}
			read = true
		}
		out[i] = s.deciding(ctx, t.Clone(), u, dels, now)
	}
	return out, nil
}

// deciding is Deciding of one ticket with an open round; it plans (and so
// changes) t.
func (s *Service) deciding(ctx context.Context, t *Ticket, u User, dels []Delegation, now time.Time) *Deciding {
	d := &Deciding{}
	r, _ := t.OpenRound()
	if err := decidable(t, r, now); err != nil {
		d.Why = ErrorMessage(err)
	} else if dec, err := s.liveDecision(ctx, t, u, dels, now); err != nil {
		d.Why = ErrorMessage(err)
	} else {
		d.MayDecide, d.For = true, dec.For
	}
	r, _ = t.OpenRound() // as planned now
	d.Extension = r.Extension
	d.Stage, d.Stages = *r.Stage+1, len(r.Stages)
	d.Required = r.Stages[*r.Stage].Required
	for _, a := range *r.Approvals {
		if a.Stage == *r.Stage {
			d.Approvals++
		}
	}
	d.WaitingFor = r.Undecided()
	if r.Extension {
		d.End, d.PreviousEnd, d.Reason = t.Extension.End, t.Extension.PreviousEnd, t.Extension.Reason
		d.Deadline = t.End
	} else {
		d.Deadline = t.End
		if !t.ApprovalDeadline.IsZero() && t.ApprovalDeadline.Before(t.End) {
			d.Deadline = t.ApprovalDeadline
		}
	}
	return d
}

// Undecided returns the current stage's approvers who have not approved
// it, directly or through a delegate (a group stays while it can still
// add approvals).
func (r Round) Undecided() []string {
	out := []string{}
	for _, a := range *r.PendingApprovers {
		if !slices.ContainsFunc(*r.Approvals, func(d Decision) bool { return d.By == a || d.For == a }) {
			out = append(out, a)
		}
	}
	return out
}
