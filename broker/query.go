package broker

import (
	"context"
	"slices"
)

// Ticket returns a ticket the caller may see: its requester, beneficiaries,
// approvers and administrators. Others get ENOTFOUND, so ticket ids do not
// leak. Errors: EUNAUTHENTICATED, ENOTFOUND.
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
	// PendingForMe selects tickets waiting for the caller's decision.
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
	admin, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", "")
	if err != nil {
		return nil, err
	}
	var filters []TicketFilter
	switch {
	case in.PendingForMe:
		filters = []TicketFilter{{State: StatePending, PendingApprover: u.Email}}
	case in.Mine || !admin:
		filters = []TicketFilter{{State: in.State, Requester: u.Email}, {State: in.State, Beneficiary: u.Email}}
	default:
		filters = []TicketFilter{{State: in.State}}
	}
	var out []*Ticket
	for _, f := range filters {
		f.Limit = in.Limit
		ts, err := s.cfg.Store.Tickets(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !slices.ContainsFunc(out, func(o *Ticket) bool { return o.ID == t.ID }) {
				out = append(out, t)
			}
		}
	}
	if !in.Mine && !in.PendingForMe && !admin {
		// Approvers also see what they decided or may decide.
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: in.State, Limit: in.Limit})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.IsApprover(u.Email) && !slices.ContainsFunc(out, func(o *Ticket) bool { return o.ID == t.ID }) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if len(out) > in.Limit {
		out = out[:in.Limit]
	}
	return out, nil
}

// visible returns ENOTFOUND unless u requested, benefits from, approves or
// administers t.
func (s *Service) visible(ctx context.Context, t *Ticket, u User) error {
	if t.Involves(u.Email) || t.IsApprover(u.Email) {
		return nil
	}
	if ok, err := s.isAdmin(ctx, u, t); err != nil {
		return err
	} else if ok {
		return nil
	}
	return Errorf(ENOTFOUND, "ticket %s not found", t.ID)
}

// isAdmin reports whether u administers t's account.
func (s *Service) isAdmin(ctx context.Context, u User, t *Ticket) (bool, error) {
	return s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, t.AccountID, t.PermissionSet)
}
