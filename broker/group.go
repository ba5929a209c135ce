package broker

import (
	"context"
	"errors"
	"fmt"
)

// MaxGroupAccounts caps the accounts of one request.
const MaxGroupAccounts = 20

// accounts returns the accounts the input asks for: AccountID and
// Accounts, in order, without repeats.
func (in CreateTicketInput) accounts() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append([]string{in.AccountID}, in.Accounts...) {
		if a == "" || seen[a] {
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	return out
}

// createGroup files one ticket per account for the same permission set,
// linked by a group id (Ticket.Group, Ticket.GroupTickets). Every account
// is validated first (registered, requestable by the caller for every
// beneficiary, an approval plan found), so one bad account creates
// nothing. Each member is then an ordinary ticket under its own account's
// rule: its approvers see and decide only it, and it is granted and cut on
// its own. Should storing a later member fail, the members already stored
// are withdrawn (cancelled, or ended as the requester's done). It returns
// the first member.
func (s *Service) createGroup(ctx context.Context, u User, in CreateTicketInput, accounts []string) (*Ticket, error) {
	if in.BreakGlass {
		return nil, Errorf(EINVALID, "a break-glass ticket is for one account")
	}
	if len(accounts) > MaxGroupAccounts {
		return nil, Errorf(EINVALID, "a request may name at most %d accounts, not %d", MaxGroupAccounts, len(accounts))
	}
	now := s.now()
	for _, a := range accounts {
		one := in
		one.AccountID, one.Accounts = a, nil
		t, ps, err := s.validate(ctx, u, one, now)
		if err == nil && ps.ApprovalRequired {
			_, err = s.cfg.Approvals.Plan(ctx, t, false)
		}
		if err != nil {
			return nil, groupError(a, err)
		}
	}
	group := s.cfg.NewID()
	ids := make([]string, len(accounts))
	for i := range ids {
		ids[i] = s.cfg.NewID()
	}
	var made []*Ticket
	for i, a := range accounts {
		one := in
		one.AccountID, one.Accounts = a, nil
		t, err := s.createTicket(ctx, u, one, &groupLink{id: ids[i], group: group, members: ids})
		if err != nil {
			s.undoGroup(context.WithoutCancel(ctx), made)
			return nil, groupError(a, err)
		}
		made = append(made, t)
	}
	return made[0], nil
}

// undoGroup withdraws the members of a group request that failed part way.
func (s *Service) undoGroup(ctx context.Context, made []*Ticket) {
	const why = "the request for several accounts failed"
	for _, t := range made {
		var err error
		switch t.State {
		case StatePending, StateApproved:
			_, err = s.Cancel(ctx, t.ID, why)
		default:
			_, err = s.Done(ctx, t.ID, why)
		}
		if err != nil {
			s.cfg.Logger.Error("undo group member", "group", t.Group, "ticket", t.ID, "err", err)
		}
	}
}

// groupError names the account an error is about, keeping its code.
func groupError(account string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{Code: e.Code, Message: fmt.Sprintf("account %s: %s", account, e.Message)}
	}
	return err
}
