package broker

import (
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"sync"
	"time"
)

// CreateTicketInput is what a requester asks for.
type CreateTicketInput struct {
	AccountID     string
	PermissionSet string
	// Beneficiaries defaults to the caller.
	Beneficiaries []string
	// Start defaults to now; a start up to StartSkew in the past becomes now.
	Start time.Time
	// End, or else Duration counted from the start JIT settles on (so a
	// start moved to now keeps the whole duration). Exactly one is needed.
	End      time.Time
	Duration time.Duration
	Reason   string
	// BreakGlass grants the caller access at once under a break-glass
	// rule, without approval (breakglass_ticket.go).
	BreakGlass bool
	// Accounts asks for the same permission set in several accounts at
	// once (AccountID, when set, is one of them): one ticket per account,
	// linked by a group id, created all or none (group.go).
	Accounts []string
}

var accountIDPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })

// CreateTicket validates and stores a new ticket, and schedules its
// activation when no approval is needed. A ticket that needs no approval,
// starts now and grants through a role only is stored active at once (a
// role has nothing to create up front), so its credentials work as soon as
// this returns; its expiry is scheduled instead. So is one approved at
// once by pre-approvals or the rule's on-call auto-approval (autoApprove).
// Nothing is stored or
// scheduled when it fails. Errors: EUNAUTHENTICATED, EINVALID, ENOTFOUND,
// EFORBIDDEN, EDUPLICATE and ETOOMANY (the registry's limits, guarded),
// ESTEPUP (the permission set asks for a more recent sign-in, StepUp).
func (s *Service) CreateTicket(ctx context.Context, in CreateTicketInput) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if accounts := in.accounts(); len(accounts) > 1 {
		return s.createGroup(ctx, u, in, accounts)
	}
	if len(in.Accounts) == 1 {
		in.AccountID, in.Accounts = in.Accounts[0], nil
	}
	return s.createTicket(ctx, u, in, nil)
}

// groupLink is what createGroup gives each member: its id, the group's,
// and all the members' ids.
type groupLink struct {
	id, group string
	members   []string
}

// createTicket is CreateTicket for one account; g links a group's member.
func (s *Service) createTicket(ctx context.Context, u User, in CreateTicketInput, g *groupLink) (*Ticket, error) {
	now := s.now()
	t, ps, err := s.validate(ctx, u, in, now)
	if err != nil {
		return nil, err
	}
	if g != nil {
		t.ID, t.Group, t.GroupTickets = g.id, g.group, slices.Clone(g.members)
	}
	plan := Plan{}
	switch {
	case in.BreakGlass:
		err = s.breakGlass(ctx, u, t, now)
	case ps.ApprovalRequired:
		plan, err = s.cfg.Approvals.Plan(ctx, t, false)
	}
	if err != nil {
		return nil, err
	}
	plan.apply(t, now)
	if len(t.Stages) == 0 {
		t.move(StateApproved, u.Email, t.requestAction(), t.Reason, now)
	} else {
		t.move(StatePending, u.Email, "request", t.Reason, now)
		s.autoApprove(ctx, t, plan, now) // pre-approvals, on call (autoapprove.go)
	}
	if t.State == StateApproved && !now.Before(t.Start) && !usesIdentityCenter(ps) {
		t.move(StateActive, "jit", "activate", "", now)
	}
	if err := s.guarded(ctx, t, u.Email, "", t.End, true, func() error { return s.cfg.Store.CreateTicket(ctx, t) }); err != nil {
		return nil, err
	}
	var serr error
	switch t.State {
	case StateActive:
		serr = s.cfg.Scheduler.Schedule(ctx, TaskExpire, t.ID, t.End)
	case StateApproved:
		serr = s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start)
	default:
		serr = s.scheduleRound(ctx, t)
	}
	if serr == nil {
		serr = s.scheduleBreakGlass(ctx, t)
	}
	if serr != nil {
		// Nothing half-done: take the ticket and its tasks back.
		undo := context.WithoutCancel(ctx)
		s.unscheduleRound(undo, t.ID)
		for _, k := range []TaskKind{TaskActivate, TaskExpire, TaskReviewOverdue} {
			if err := s.cfg.Scheduler.Unschedule(undo, k, t.ID); err != nil {
				s.cfg.Logger.Error("undo ticket create", "ticket", t.ID, "err", err)
			}
		}
		if derr := s.cfg.Store.DeleteTicket(undo, t.ID); derr != nil {
			s.cfg.Logger.Error("undo ticket create", "ticket", t.ID, "err", derr)
		}
		return nil, serr
	}
	s.changed(ctx, t, t.History)
	s.notifyBreakGlass(ctx, t)
	if t.State == StatePending {
		s.notify(ctx, Notification{Kind: NotifyApprovalNeeded, TicketID: t.ID, To: s.waitingFor(ctx, t, now),
			Message: fmt.Sprintf("%s asks for %s in %s: %s", t.Requester, t.PermissionSet, t.AccountID, t.Reason)})
	}
	return t, nil
}

// validate checks the request and returns the ticket it describes, not yet
// stored and without an approval plan.
func (s *Service) validate(ctx context.Context, u User, in CreateTicketInput, now time.Time) (*Ticket, PermissionSet, error) {
	if !accountIDPattern().MatchString(in.AccountID) {
		return nil, PermissionSet{}, Errorf(EINVALID, "account_id %q must be 12 digits", in.AccountID)
	}
	if in.PermissionSet == "" {
		return nil, PermissionSet{}, Errorf(EINVALID, "permission_set is required")
	}
	acct, err := s.cfg.Registry.Account(ctx, in.AccountID)
	if err != nil {
		return nil, PermissionSet{}, err
	}
	ps, err := s.cfg.Registry.PermissionSet(ctx, in.PermissionSet)
	if err != nil {
		return nil, PermissionSet{}, err
	}
	if IsWorkload(u.Email) {
		// Said plainly before "may not request": no workload ever may.
		if err := workloadGrant(u.Email, ps); err != nil {
			return nil, PermissionSet{}, err
		}
	}
	beneficiaries, err := normalizeBeneficiaries(in.Beneficiaries, u.Email)
	if err != nil {
		return nil, PermissionSet{}, err
	}
	// Times are whole seconds: session policies and AWS compare at that precision.
	start := in.Start.UTC().Truncate(time.Second)
	if in.Start.IsZero() {
		start = now.Truncate(time.Second)
	}
	if start.Before(now.Add(-s.cfg.StartSkew)) {
		return nil, PermissionSet{}, Errorf(EINVALID, "start %s is in the past", start.Format(time.RFC3339))
	}
	if start.Before(now) {
		start = now.Truncate(time.Second)
	}
	if lead := s.cfg.MaxLeadTime; start.After(now.Add(lead)) {
		return nil, PermissionSet{}, Errorf(EINVALID, "start %s is too far ahead: a ticket may start at most %s from now", start.Format(time.RFC3339), days(lead))
	}
	end := in.End.UTC().Truncate(time.Second)
	switch {
	case !in.End.IsZero() && in.Duration != 0:
		return nil, PermissionSet{}, Errorf(EINVALID, "give either end or duration, not both")
	case in.Duration < 0:
		return nil, PermissionSet{}, Errorf(EINVALID, "duration must be positive")
	case in.Duration > 0:
		end = start.Add(in.Duration).Truncate(time.Second)
	}
	switch {
	case in.End.IsZero() && in.Duration == 0:
		return nil, PermissionSet{}, Errorf(EINVALID, "end is required")
	case !end.After(start):
		return nil, PermissionSet{}, Errorf(EINVALID, "end %s must be after start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	case ps.MaxDuration > 0 && end.Sub(start) > ps.MaxDuration:
		return nil, PermissionSet{}, Errorf(EINVALID, "duration %s exceeds the maximum of %s for permission set %s", end.Sub(start).Round(time.Second), ps.MaxDuration, ps.Name)
	}
	reason, err := CleanText(TextRule{Field: "reason", Max: maxReasonLength, Required: true, MultiLine: true}, in.Reason)
	if err != nil {
		return nil, PermissionSet{}, err
	}
	for _, b := range beneficiaries {
		if err := s.entitled(ctx, u, b, acct.ID, ps.Name, in.BreakGlass); err != nil {
			return nil, PermissionSet{}, err
		}
	}
	if err := s.resolveBeneficiaries(ctx, u.Email, beneficiaries); err != nil {
		return nil, PermissionSet{}, err
	}
	if err := ps.StepUp().Check(u, now, "requesting "+ps.Name); err != nil {
		return nil, PermissionSet{}, err
	}
	t := &Ticket{
		ID:              s.cfg.NewID(),
		Revision:        1,
		Requester:       u.Email,
		RequesterGroups: slices.Clone(u.Groups),
		Beneficiaries:   beneficiaries,
		AccountID:       acct.ID,
		PermissionSet:   ps.Name,
		Start:           start,
		End:             end,
		Reason:          reason,
		Approvals:       []Decision{},
		CreatedAt:       now,
		UpdatedAt:       now,
	}
	if name, ok := u.Workload(); ok {
		if err := s.workloadTicket(ctx, name, t, ps); err != nil {
			return nil, PermissionSet{}, err
		}
	}
	return t, ps, nil
}

// normalizeBeneficiaries lower-cases, checks and de-duplicates emails.
func normalizeBeneficiaries(in []string, me string) ([]string, error) {
	if len(in) == 0 {
		return []string{me}, nil
	}
	if len(in) > maxBeneficiaries {
		return nil, Errorf(EINVALID, "at most %d beneficiaries per ticket", maxBeneficiaries)
	}
	var out []string
	for _, b := range in {
		b, err := CleanText(TextRule{Field: "beneficiaries", Max: maxEmailLength, Required: true, Identifier: true}, b)
		if err != nil {
			return nil, err
		}
		b = NormalizeEmail(b)
		if a, err := mail.ParseAddress(b); err != nil || a.Address != b {
			return nil, Errorf(EINVALID, "beneficiary %q is not an email address", b)
		}
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

// resolveBeneficiaries checks that every beneficiary is a user JIT knows:
// one the Directory resolves (the Identity Store, or the users and domains
// the config lists). Without a Directory JIT knows only the caller, so a
// ticket for anyone else is refused.
func (s *Service) resolveBeneficiaries(ctx context.Context, me string, emails []string) error {
	if s.cfg.Directory == nil {
		for _, b := range emails {
			if b != me {
				return Errorf(EINVALID, "beneficiary %s cannot be checked: this server has no user directory (no Identity Center and no directory in its config), so tickets can only be for yourself", b)
			}
		}
		return nil
	}
	for _, b := range emails {
		if b == me && IsWorkload(me) {
			continue // a workload is in the registry, not the directory
		}
		_, err := s.cfg.Directory.ResolveUser(ctx, b)
		switch ErrorCode(err) {
		case "":
		case ENOTFOUND, EINVALID:
			return Errorf(EINVALID, "beneficiary %s is not a user JIT knows (not in the user directory)", b)
		default:
			return fmt.Errorf("resolve beneficiary %s: %w", b, err)
		}
	}
	return nil
}

// days shows a lead time in days when it is whole days ("30 days").
func days(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		if n := d / (24 * time.Hour); n != 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	return d.String()
}
