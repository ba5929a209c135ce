package broker

import (
	"context"
)

// Ticket returns a ticket the caller may see: its requester, beneficiaries,
// approvers (also through a group, or as a delegate inside the
// delegation's window) and administrators. Others get ENOTFOUND, so ticket
// ids do not leak. Errors: EUNAUTHENTICATED, ENOTFOUND.
func (s *Service) Ticket(ctx context.Context, id string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.visible(ctx, t, u); err != nil {
		return nil, err
	}
	return t, nil
}

// ListInput selects tickets for Tickets.
type ListInput struct {
	State State
	// Mine selects tickets the caller requested or benefits from.
	Mine bool
	// PendingForMe selects tickets waiting for the caller's decision, as
	// themself or as a delegate: pending tickets and active tickets with a
	// pending extension.
	PendingForMe bool
	// Limit caps the list: 1 to 500 (default 500). ListTickets pages
	// instead.
	Limit int
}

// Tickets lists the tickets the caller may see, newest first (see view
// for who sees what). Errors: EUNAUTHENTICATED, EINVALID, EUNAVAILABLE.
func (s *Service) Tickets(ctx context.Context, in ListInput) ([]*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in.State != "" && !in.State.Valid() {
		return nil, Errorf(EINVALID, "unknown state %q", in.State)
	}
	if in.Limit <= 0 || in.Limit > 500 {
		in.Limit = 500
	}
	st, err := s.view(ctx, u, in, false, nil)
	if err != nil {
		return nil, err
	}
	out := []*Ticket{}
	for len(out) < in.Limit {
		t, err := st.next(ctx, true)
		if err != nil {
			return nil, err
		}
		if t == nil {
			break
		}
		out = append(out, t)
	}
	return out, nil
}

// standing is what a user may do with a ticket under the registry and
// delegations in force now. It is the one answer behind every read and
// action on a ticket (see standingOf); nothing here rests on the ticket's
// stored plan or on past decisions.
type standing struct {
	// party: the user requested the ticket or benefits from it.
	party bool
	// admin: the user administers the ticket's account.
	admin bool
	// approver: the user approves a stage of the rule in force for the
	// ticket (its stages or its extension stages), as themself or for a
	// delegator inside a delegation's window. Not asked for parties (who
	// never decide their own ticket) nor admins (who oversee it anyway).
	approver bool
	// reviewer: the ticket is a break-glass ticket whose rule in force
	// names the user (reviewsNow), who oversees it like an approver.
	reviewer bool
}

// sees reports whether the ticket is the user's to see.
func (st standing) sees() bool { return st.party || st.approver || st.admin || st.reviewer }

// oversees reports whether the user may terminate the ticket and read its
// activity as an approver, administrator or break-glass reviewer.
func (st standing) oversees() bool { return st.approver || st.admin || st.reviewer }

// standingOf decides u's standing on t now: dels are u's delegations in
// force (delegationsTo). The approvers are those of the rule in force for
// t's account and permission set, planned by the approval engine exactly
// as a new ticket would be (live, never the ticket's stored plan), and
// the engine's Approves decides (a delegate stands for a delegator the
// rule names by email or through their groups now). Errors: EUNAVAILABLE when the rules in force
// cannot be confirmed.
func (s *Service) standingOf(ctx context.Context, t *Ticket, u User, dels []Delegation) (standing, error) {
	st := standing{party: t.Involves(u.Email)}
	var err error
	if st.admin, err = s.isAdmin(ctx, u, t); err != nil || st.admin || st.party {
		return st, err
	}
	if st.reviewer, err = s.reviewsNow(ctx, t, u); err != nil {
		return standing{}, err
	} else if st.reviewer {
		return st, nil
	}
	if st.approver, err = s.approvesNow(ctx, t, u, dels); err != nil {
		return standing{}, err
	}
	return st, nil
}

// approvesNow reports whether u, or a delegator u acts for through dels,
// approves some stage of t's rule in force (stages or extension stages).
func (s *Service) approvesNow(ctx context.Context, t *Ticket, u User, dels []Delegation) (bool, error) {
	now := s.now()
	for _, extension := range []bool{false, true} {
		p, err := s.livePlan(ctx, t, extension)
		if err != nil {
			return false, err
		}
		for _, stage := range p.Stages {
			if s.cfg.Approvals.Approves(t, stage, u, dels, now) {
				return true, nil
			}
		}
	}
	return false, nil
}

// livePlan is the approval plan the rule in force gives t (or its
// extension). A ticket no rule covers now, or whose rule cannot be met
// without its own parties, has no approvers: an empty plan.
func (s *Service) livePlan(ctx context.Context, t *Ticket, extension bool) (Plan, error) {
	p, err := s.cfg.Approvals.Plan(ctx, t, extension)
	if ErrorCode(err) == EINVALID {
		return Plan{}, nil
	}
	return p, err
}

// visible returns ENOTFOUND unless u may see t now (standing.sees).
func (s *Service) visible(ctx context.Context, t *Ticket, u User) error {
	_, err := s.standingOn(ctx, t, u)
	return err
}

// standingOn returns u's standing on t now, or ENOTFOUND when t is not
// u's to see.
func (s *Service) standingOn(ctx context.Context, t *Ticket, u User) (standing, error) {
	var dels []Delegation
	if !t.Involves(u.Email) {
		var err error
		if dels, err = s.delegationsTo(ctx, u.Email, s.now()); err != nil {
			return standing{}, err
		}
	}
	st, err := s.standingOf(ctx, t, u, dels)
	if err != nil {
		return standing{}, err
	}
	if !st.sees() {
		return standing{}, Errorf(ENOTFOUND, "ticket %s not found", t.ID)
	}
	return st, nil
}

// isAdmin reports whether u administers t's account.
func (s *Service) isAdmin(ctx context.Context, u User, t *Ticket) (bool, error) {
	return s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, t.AccountID, t.PermissionSet)
}
