package broker

import (
	"context"
	"math"
	"slices"
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
	Limit        int
	// All returns every match, without the cap of 500 (ListTickets).
	All bool
}

// Tickets lists the tickets the caller may see, newest first.
// Errors: EUNAUTHENTICATED, EINVALID.
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
	if in.All {
		in.Limit = math.MaxInt
	}
	if in.PendingForMe {
		return s.pendingFor(ctx, u, in)
	}
	admin, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", "")
	if err != nil {
		return nil, err
	}
	var filters []TicketFilter
	switch {
	case in.Mine || !admin:
		filters = []TicketFilter{{State: in.State, Requester: u.Email}, {State: in.State, Beneficiary: u.Email}}
	default:
		filters = []TicketFilter{{State: in.State}}
	}
	var out []*Ticket
	add := func(t *Ticket) {
		if !slices.ContainsFunc(out, func(o *Ticket) bool { return o.ID == t.ID }) {
			out = append(out, t)
		}
	}
	for _, f := range filters {
		f.Limit, f.All = in.Limit, in.All
		ts, err := s.cfg.Store.Tickets(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			add(t)
		}
	}
	if !in.Mine && !admin {
		// Approvers see what they approve now, under the rules and
		// delegations in force (standingOf).
		dels, err := s.delegationsTo(ctx, u.Email, s.now())
		if err != nil {
			return nil, err
		}
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: in.State, Limit: in.Limit, All: in.All})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.Involves(u.Email) {
				continue // already listed
			}
			st, err := s.standingOf(ctx, t, u, dels)
			if err != nil {
				return nil, err
			}
			if st.approver || st.reviewer {
				add(t)
			}
		}
	}
	return newestFirst(out, in.Limit), nil
}

// pendingFor returns the tickets waiting for u's decision now: those
// whose open round, planned under the rule in force (see liveRound), u
// may decide now.
func (s *Service) pendingFor(ctx context.Context, u User, in ListInput) ([]*Ticket, error) {
	now := s.now()
	dels, err := s.delegationsTo(ctx, u.Email, now)
	if err != nil {
		return nil, err
	}
	// The store indexes pending approvers by the stored plan, which a rule
	// changed since does not update: the newest pending tickets are read
	// too, and the rule in force decides for each.
	var filters []TicketFilter
	if in.State == "" || in.State == StatePending {
		keys := approverKeys(u)
		for _, d := range dels {
			if !slices.Contains(keys, d.From) {
				keys = append(keys, d.From)
			}
		}
		if !in.All { // every pending ticket is read below anyway
			for _, k := range keys {
				filters = append(filters, TicketFilter{State: StatePending, PendingApprover: k})
			}
		}
		filters = append(filters, TicketFilter{State: StatePending})
	}
	if in.State == "" || in.State == StateActive {
		filters = append(filters, TicketFilter{State: StateActive})
	}
	var out []*Ticket
	for _, f := range filters {
		f.Limit, f.All = in.Limit, in.All
		ts, err := s.cfg.Store.Tickets(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if slices.ContainsFunc(out, func(o *Ticket) bool { return o.ID == t.ID }) {
				continue
			}
			if r, ok := t.OpenRound(); !ok || decidable(t, r, now) != nil {
				continue // too late: the deadline or expiry task will close it
			}
			c := t.Clone()
			if _, err := s.liveDecision(ctx, c, u, dels, now); err == nil {
				out = append(out, t)
			} else if ErrorCode(err) == EUNAVAILABLE {
				return nil, err
			}
		}
	}
	return newestFirst(out, in.Limit), nil
}

// approverKeys returns the names under which the store indexes u as a
// pending approver: the email and "group:<name>" for each group.
func approverKeys(u User) []string {
	keys := []string{u.Email}
	for _, g := range u.Groups {
		keys = append(keys, GroupPrefix+g)
	}
	return keys
}

func newestFirst(ts []*Ticket, limit int) []*Ticket {
	slices.SortFunc(ts, func(a, b *Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(ts) > limit {
		ts = ts[:limit]
	}
	return ts
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
