package broker

import (
	"context"
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
		f.Limit = in.Limit
		ts, err := s.cfg.Store.Tickets(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			add(t)
		}
	}
	if !in.Mine && !admin {
		// Approvers also see what they decided or may decide.
		dels, err := s.delegationsTo(ctx, u.Email, s.now())
		if err != nil {
			return nil, err
		}
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: in.State, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if approverOrDelegate(t, u, dels) {
				add(t)
			}
		}
	}
	return newestFirst(out, in.Limit), nil
}

// pendingFor returns the tickets waiting for u's decision now.
func (s *Service) pendingFor(ctx context.Context, u User, in ListInput) ([]*Ticket, error) {
	now := s.now()
	dels, err := s.delegationsTo(ctx, u.Email, now)
	if err != nil {
		return nil, err
	}
	keys := approverKeys(u)
	for _, d := range dels {
		for _, k := range approverKeys(d.Delegator()) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	var filters []TicketFilter
	if in.State == "" || in.State == StatePending {
		for _, k := range keys {
			filters = append(filters, TicketFilter{State: StatePending, PendingApprover: k})
		}
	}
	if in.State == "" || in.State == StateActive {
		// Extensions wait on active tickets, which the store does not index by approver.
		filters = append(filters, TicketFilter{State: StateActive})
	}
	var out []*Ticket
	for _, f := range filters {
		f.Limit = in.Limit
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
			if _, err := s.cfg.Approvals.Decide(t, u, dels, now); err == nil {
				out = append(out, t)
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

// approverOrDelegate reports whether u approves t, or acts now, through one
// of dels (active delegations to u), for someone who does.
func approverOrDelegate(t *Ticket, u User, dels []Delegation) bool {
	if t.ApproverOf(u) {
		return true
	}
	for _, d := range dels {
		if d.To == u.Email && !t.Involves(d.To) && t.ApproverOf(d.Delegator()) {
			return true
		}
	}
	return false
}

// visible returns ENOTFOUND unless u requested, benefits from, approves
// (or is a delegate of an approver inside the window) or administers t.
func (s *Service) visible(ctx context.Context, t *Ticket, u User) error {
	if t.Involves(u.Email) {
		return nil
	}
	if ok, err := s.overseer(ctx, t, u); err != nil || ok {
		return err
	}
	return Errorf(ENOTFOUND, "ticket %s not found", t.ID)
}

// overseer reports whether u approves t (also as a delegate inside the
// window) or administers its account.
func (s *Service) overseer(ctx context.Context, t *Ticket, u User) (bool, error) {
	if t.ApproverOf(u) {
		return true, nil
	}
	dels, err := s.delegationsTo(ctx, u.Email, s.now())
	if err != nil {
		return false, err
	}
	if approverOrDelegate(t, u, dels) {
		return true, nil
	}
	return s.isAdmin(ctx, u, t)
}

// isAdmin reports whether u administers t's account.
func (s *Service) isAdmin(ctx context.Context, u User, t *Ticket) (bool, error) {
	return s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, t.AccountID, t.PermissionSet)
}
