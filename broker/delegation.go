package broker

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"time"
)

// maxDelegation is the longest window a delegation may cover.
const maxDelegation = 366 * 24 * time.Hour

// Delegation lets To decide, inside [Start, End), the tickets that From
// approves under the rules in force at the moment of the decision, by name
// (email) or through From's groups: delegated rights are From's rights now,
// never a copy taken when delegating. From's groups are those the group
// directory (ServiceConfig.Groups) lists at the moment of the decision;
// without a group directory only the rights the rules give From by email
// pass on. It is not transitive: a delegate cannot pass on what was
// delegated to them (being someone's delegate does not stop anyone from
// delegating their own approvals), and nobody decides a ticket they
// requested or benefit from, also not as a delegate. A delegation that
// closes a cycle at the moment of a decision (To has delegated, directly
// or through others, back to From) does not count then.
type Delegation struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedAt time.Time `json:"created_at"`
	// FromGroups are From's groups at the moment of a decision, filled in
	// by the broker from its group directory for each decision and never
	// stored: the delegate acts with the delegator's current rights.
	FromGroups []string `json:"-"`
}

// ActiveAt reports whether at lies inside the delegation's window.
func (d Delegation) ActiveAt(at time.Time) bool { return !at.Before(d.Start) && at.Before(d.End) }

// Overlaps reports whether the windows of d and o share a moment.
func (d Delegation) Overlaps(o Delegation) bool {
	return d.Start.Before(o.End) && o.Start.Before(d.End)
}

// Delegator returns From as the delegate acts for them: their email and
// their groups now (FromGroups; see Delegation).
func (d Delegation) Delegator() User { return User{Email: d.From, Groups: d.FromGroups} }

// DelegationFilter selects delegations from or to a user; empty fields
// match everything, set fields are combined with OR.
type DelegationFilter struct {
	From string
	To   string
}

// DelegationStore keeps delegations.
type DelegationStore interface {
	// CreateDelegation stores d if check, given every stored delegation from
	// or to d.From or d.To, returns nil; the check and the write are one
	// atomic step. check's error is returned as is.
	CreateDelegation(ctx context.Context, d *Delegation, check func(existing []Delegation) error) error
	// Delegations returns the delegations matching f, by start.
	Delegations(ctx context.Context, f DelegationFilter) ([]Delegation, error)
	// Delegation returns one delegation. ENOTFOUND if there is none.
	Delegation(ctx context.Context, id string) (Delegation, error)
	// DeleteDelegation removes a delegation. ENOTFOUND if there is none.
	DeleteDelegation(ctx context.Context, id string) error
}

// DelegateInput is a delegation the caller makes of their own approvals.
type DelegateInput struct {
	To string
	// Start defaults to now.
	Start time.Time
	End   time.Time
}

// Delegate lets in.To decide the caller's tickets inside the window.
// Whether the caller or in.To are delegates or delegators of others plays
// no part (and no error reveals it): cycles are refused when a decision is
// made (see delegationsTo). Errors: EUNAUTHENTICATED, EINVALID (bad
// window, a window in the past, to oneself), ECONFLICT (the caller already
// delegates to in.To in an overlapping window), EUNAVAILABLE (no
// delegation store).
func (s *Service) Delegate(ctx context.Context, in DelegateInput) (*Delegation, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "delegate approvals"); err != nil {
		return nil, err
	}
	if s.cfg.Delegations == nil {
		return nil, Errorf(EUNAVAILABLE, "delegations are not enabled on this server")
	}
	now := s.now()
	to, err := CleanText(TextRule{Field: "to", Max: maxEmailLength, Required: true, Identifier: true}, in.To)
	if err != nil {
		return nil, err
	}
	to = NormalizeEmail(to)
	if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
		return nil, Errorf(EINVALID, "to %q is not an email address", in.To)
	}
	if to == u.Email {
		return nil, Errorf(EINVALID, "you cannot delegate to yourself")
	}
	start := in.Start.UTC().Truncate(time.Second)
	if in.Start.IsZero() || (start.Before(now) && !start.Before(now.Add(-s.cfg.StartSkew))) {
		start = now.Truncate(time.Second)
	}
	end := in.End.UTC().Truncate(time.Second)
	switch {
	case start.Before(now.Add(-s.cfg.StartSkew)):
		return nil, Errorf(EINVALID, "start %s is in the past", start.Format(time.RFC3339))
	case in.End.IsZero():
		return nil, Errorf(EINVALID, "end is required")
	case !end.After(now):
		return nil, Errorf(EINVALID, "end %s is in the past", end.Format(time.RFC3339))
	case !end.After(start):
		return nil, Errorf(EINVALID, "end %s must be after start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	case end.Sub(start) > maxDelegation:
		return nil, Errorf(EINVALID, "a delegation may last at most %s", maxDelegation)
	}
	d := &Delegation{ID: s.cfg.NewID(), From: u.Email, To: to, Start: start, End: end, CreatedAt: now}
	err = s.cfg.Delegations.CreateDelegation(ctx, d, func(existing []Delegation) error {
		// Only the caller's own delegations are looked at, so the answer
		// says nothing about anyone else's.
		for _, e := range existing {
			if e.From == d.From && e.To == d.To && e.Overlaps(*d) && e.End.After(now) {
				return Errorf(ECONFLICT, "you already delegate to %s from %s to %s", e.To, e.Start.Format(time.RFC3339), e.End.Format(time.RFC3339))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.auditDelegation(ctx, u.Email, "delegate", *d)
	return d, nil
}

// Delegations lists the delegations the caller made or received, with
// those that ended. Errors: EUNAUTHENTICATED.
func (s *Service) Delegations(ctx context.Context) ([]Delegation, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.Delegations == nil {
		return []Delegation{}, nil
	}
	ds, err := s.cfg.Delegations.Delegations(ctx, DelegationFilter{From: u.Email, To: u.Email})
	if ds == nil {
		ds = []Delegation{}
	}
	return ds, err
}

// DeleteDelegation ends a delegation early. Its delegator may, its
// delegate may (declining it) and administrators may; others get
// ENOTFOUND, as if it did not exist. Errors: EUNAUTHENTICATED, ENOTFOUND,
// EUNAVAILABLE.
func (s *Service) DeleteDelegation(ctx context.Context, id string) error {
	u, err := caller(ctx)
	if err != nil {
		return err
	}
	if s.cfg.Delegations == nil {
		return Errorf(ENOTFOUND, "delegation %s not found", id)
	}
	d, err := s.cfg.Delegations.Delegation(ctx, id)
	if err != nil {
		return err
	}
	if d.From != u.Email && d.To != u.Email {
		if ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
			return err
		} else if !ok {
			return Errorf(ENOTFOUND, "delegation %s not found", id)
		}
	}
	if err := s.cfg.Delegations.DeleteDelegation(ctx, id); err != nil {
		return err
	}
	s.auditDelegation(ctx, u.Email, "end delegation", d)
	return nil
}

// maxCycleSearch bounds the people delegationsTo follows looking for a
// cycle; a cycle longer than that is not found (and, delegations not being
// transitive, does no more than a short one).
const maxCycleSearch = 64

// delegationsTo returns the delegations to email active at now through
// which email may act: every decision and every view of tickets as a
// delegate goes through it. A delegation from X is left out when it closes
// a cycle now: email has delegated, directly or through others, to X.
func (s *Service) delegationsTo(ctx context.Context, email string, now time.Time) ([]Delegation, error) {
	if s.cfg.Delegations == nil {
		return nil, nil
	}
	ds, err := s.cfg.Delegations.Delegations(ctx, DelegationFilter{To: email})
	if err != nil {
		return nil, err
	}
	var out []Delegation
	for _, d := range ds {
		if d.To == email && d.ActiveAt(now) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	reach, err := s.delegatesOf(ctx, email, now)
	if err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(d Delegation) bool { return reach[d.From] })
	if s.cfg.Groups == nil {
		return out, nil
	}
	for i := range out {
		if out[i].FromGroups, err = s.cfg.Groups.GroupsOf(ctx, out[i].From); err != nil {
			return nil, fmt.Errorf("groups of %s: %w", out[i].From, err)
		}
	}
	return out, nil
}

// delegatesOf returns whom email's approvals reach at now through active
// delegations: email's delegates, theirs, and so on (at most
// maxCycleSearch people).
func (s *Service) delegatesOf(ctx context.Context, email string, now time.Time) (map[string]bool, error) {
	reach := map[string]bool{}
	queue := []string{email}
	for len(queue) > 0 && len(reach) < maxCycleSearch {
		from := queue[0]
		queue = queue[1:]
		ds, err := s.cfg.Delegations.Delegations(ctx, DelegationFilter{From: from})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.From == from && d.ActiveAt(now) && !reach[d.To] {
				reach[d.To] = true
				queue = append(queue, d.To)
			}
		}
	}
	return reach, nil
}
