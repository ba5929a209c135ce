package broker

import (
	"context"
	"slices"
	"time"
)

// guarded runs store (the write that files t, resends it or asks to extend
// it) holding the guard lock of each of t's beneficiaries, after checking
// the registry's limits against the tickets they hold now (except the
// ticket except, which t replaces): no open ticket for the same account
// and permission set whose window overlaps [t.Start, end) (EDUPLICATE,
// naming it), and no more open tickets than
// limits.max_open_tickets_per_beneficiary (ETOOMANY). The locks are the
// Locker's, taken in one order, so two requests for one person, on any
// replica, are checked one after the other and cannot both pass. It is the
// one home of these guard rails: creation, edit and resend, and extension
// requests all come through here.
//
// adds says whether store makes one more open ticket (a new ticket, a
// resend); an extension does not, and is checked for overlaps only. by is
// the caller: the other ticket is named only to someone it involves (a
// requester for others learns that one exists, not which).
func (s *Service) guarded(ctx context.Context, t *Ticket, by, except string, end time.Time, adds bool, store func() error) error {
	if s.cfg.RegistryStore == nil {
		return store() // the limits live in the registry: none without one
	}
	r, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return err
	}
	limits := r.Limits
	check := limits.OverlappingTickets != OverlapAllow || limits.MaxOpenTicketsPerBeneficiary > 0
	if !check {
		return store()
	}
	keys := slices.Clone(t.Beneficiaries)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var run func(i int) error
	run = func(i int) error {
		if i == len(keys) {
			for _, b := range keys {
				if err := s.checkLimits(ctx, t, b, by, except, end, adds, limits); err != nil {
					return err
				}
			}
			return store()
		}
		return s.locked(ctx, "beneficiary:"+keys[i], func() error { return run(i + 1) })
	}
	return run(0)
}

// checkLimits checks one beneficiary's open tickets (see guarded).
func (s *Service) checkLimits(ctx context.Context, t *Ticket, b, by, except string, end time.Time, adds bool, limits Limits) error {
	open := 0
	for _, st := range openStates {
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{Beneficiary: b, State: st, All: true})
		if err != nil {
			return err
		}
		for _, o := range ts {
			if o.ID == except || o.ID == t.ID || o.IsDone(b) {
				continue
			}
			open++
			if limits.OverlappingTickets == OverlapAllow || o.AccountID != t.AccountID || o.PermissionSet != t.PermissionSet {
				continue
			}
			oEnd := o.End
			if x := o.Extension; x != nil && x.State == ExtensionPending && x.End.After(oEnd) {
				oEnd = x.End // a pending extension holds its window
			}
			if o.Start.Before(end) && t.Start.Before(oEnd) {
				if !o.Involves(by) {
					return Errorf(EDUPLICATE, "%s already holds or waits for a ticket for %s in account %s whose window overlaps this one; ask for a window after it ends", b, o.PermissionSet, o.AccountID)
				}
				return &Error{Code: EDUPLICATE, TicketID: o.ID, Message: Errorf(EDUPLICATE,
					"%s already holds or waits for ticket %s (%s, %s in account %s, %s to %s), which overlaps this one; use that ticket, extend it, or ask for a window after it ends",
					b, o.ID, o.State, o.PermissionSet, o.AccountID, o.Start.Format(time.RFC3339), oEnd.Format(time.RFC3339)).Message}
			}
		}
	}
	if max := limits.MaxOpenTicketsPerBeneficiary; max > 0 && adds && open >= max {
		return Errorf(ETOOMANY, "%s already has %d open tickets (pending, approved or active), the most the registry allows one person (limits.max_open_tickets_per_beneficiary); cancel one, say done, or wait for one to end", b, open)
	}
	return nil
}
