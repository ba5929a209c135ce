package broker

import (
	"context"
	"fmt"
)

// Cleaner removes deny entries whose sessions have all expired. Each
// method returns how many entries (statements) it removed; 0 means the
// list was left as it was.
type Cleaner interface {
	// PruneRole removes expired entries from the role's deny list.
	PruneRole(ctx context.Context, accountID, roleName string) (int, error)
	// PrunePortal removes expired portal denies from the permission set's
	// inline policy and provisions it to the account.
	PrunePortal(ctx context.Context, accountID, permissionSetARN string) (int, error)
}

// AssignmentLister lists the Identity Center assignments of a permission
// set in an account.
type AssignmentLister interface {
	ListAssignments(ctx context.Context, accountID, permissionSetARN string) ([]Assignment, error)
}

// ReconcileReport says what one reconciler pass did.
type ReconcileReport struct {
	Finished       int `json:"finished"`        // grants left as intent, made or undone
	Cleaned        int `json:"cleaned"`         // ended tickets whose grants were taken back
	Repaired       int `json:"repaired"`        // open tickets whose due task was put in place again
	OrphansRemoved int `json:"orphans_removed"` // assignments no active ticket holds
	Pruned         int `json:"pruned"`          // expired deny entries removed
	PrunedLists    int `json:"pruned_lists"`    // deny lists rewritten to remove them
	// Accounts says, for each account where the pass changed something or
	// failed, what it did there; accounts with nothing to do are left out.
	Accounts []AccountReconcile `json:"accounts,omitempty"`
	// Errors names each ticket or account the pass could not finish; the
	// pass carries on past them and the next one tries again.
	Errors []string `json:"errors,omitempty"`
}

// AccountReconcile is what one reconciler pass did in one account.
type AccountReconcile struct {
	AccountID      string   `json:"account_id"`
	OrphansRemoved int      `json:"orphans_removed"`
	Pruned         int      `json:"pruned"`       // expired deny entries removed
	PrunedLists    int      `json:"pruned_lists"` // deny lists rewritten
	Errors         []string `json:"errors,omitempty"`
}

// Reconcile compares AWS with the tickets and removes what nobody holds:
// grants a crash left as intent are finished (active tickets) or undone
// (ended ones); a terminated ticket whose sessions were never cut (a crash
// between the transition and its deny) is cut now; every open ticket's due
// task is put in place again (Repair); assignments of JIT-managed
// permission sets that no active ticket holds are deleted; deny entries
// past their time are pruned. A ticket or account that fails is reported
// and skipped, so one broken account does not stop the others. Every action
// is an audit event. It runs on a schedule and is safe to repeat.
func (s *Service) Reconcile(ctx context.Context) (ReconcileReport, error) {
	var rep ReconcileReport
	fail := func(what string, err error) {
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s: %s", what, ErrorMessage(err)))
		s.cfg.Logger.Error("reconcile", "what", what, "err", err)
	}
	for _, st := range []State{StatePending, StateApproved, StateActive, StateTerminated, StateExpired} {
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: st})
		if err != nil {
			return rep, err
		}
		for _, t := range ts {
			switch {
			case t.State == StateActive && hasOpenGrant(t):
				ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
				if err != nil {
					fail("ticket "+t.ID, err)
					continue
				}
				if usesIdentityCenter(ps) {
					if err := s.assign(ctx, t, ps); err != nil {
						fail("finish grants of "+t.ID, err)
						continue
					}
					rep.Finished++
					s.audit(ctx, "jit:reconciler", "finish grants", t.ID, "")
				}
			case t.State.Final() && (hasOpenGrant(t) || uncut(t)):
				if err := s.cleanup(ctx, t.ID); err != nil {
					fail("clean up "+t.ID, err)
					continue
				}
				rep.Cleaned++
				s.audit(ctx, "jit:reconciler", "take back grants", t.ID, "")
			}
			if !t.State.Final() {
				if err := s.Repair(ctx, t.ID); err != nil {
					fail("repair "+t.ID, err)
					continue
				}
				rep.Repaired++
			}
		}
	}
	if s.cfg.RegistryStore == nil {
		return rep, nil
	}
	reg, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return rep, err
	}
	for _, a := range reg.Accounts {
		acc := AccountReconcile{AccountID: a.ID}
		failIn := func(what string, err error) {
			fail(what, err)
			acc.Errors = append(acc.Errors, fmt.Sprintf("%s: %s", what, ErrorMessage(err)))
		}
		pruned := func(n int) {
			if n > 0 {
				acc.Pruned += n
				acc.PrunedLists++
			}
		}
		for _, ps := range reg.PermissionSets {
			n, err := s.reconcileAccount(ctx, a.ID, ps)
			acc.OrphansRemoved += n
			if err != nil {
				failIn(fmt.Sprintf("account %s, permission set %s", a.ID, ps.Name), err)
				continue
			}
			if s.cfg.Cleaner == nil {
				continue
			}
			if usesRole(ps) && ps.RoleName != "" {
				n, err := s.cfg.Cleaner.PruneRole(ctx, a.ID, ps.RoleName)
				if err != nil {
					failIn(fmt.Sprintf("deny list of role %s in %s", ps.RoleName, a.ID), err)
				}
				pruned(n)
			}
			if usesIdentityCenter(ps) && ps.ARN != "" {
				n, err := s.cfg.Cleaner.PrunePortal(ctx, a.ID, ps.ARN)
				if err != nil {
					failIn(fmt.Sprintf("portal deny of %s in %s", ps.Name, a.ID), err)
				}
				pruned(n)
			}
		}
		rep.OrphansRemoved += acc.OrphansRemoved
		rep.Pruned += acc.Pruned
		rep.PrunedLists += acc.PrunedLists
		if acc.OrphansRemoved > 0 || acc.Pruned > 0 || len(acc.Errors) > 0 {
			rep.Accounts = append(rep.Accounts, acc)
		}
	}
	return rep, nil
}

// uncut reports whether a terminated ticket handed out sessions and has no
// role deny entry recorded: the crash-between-transition-and-deny case.
// (cleanup decides what exactly to write; this only finds the candidates.)
func uncut(t *Ticket) bool {
	if t.State != StateTerminated || len(t.Sessions) == 0 {
		return false
	}
	for _, g := range t.Grants {
		if g.Kind == GrantRoleDeny && g.State == GrantDone {
			return false
		}
	}
	return true
}

// reconcileAccount deletes the assignments of a JIT-managed permission set
// in an account that no active ticket holds.
func (s *Service) reconcileAccount(ctx context.Context, accountID string, ps PermissionSet) (int, error) {
	if !usesIdentityCenter(ps) || ps.ARN == "" || s.cfg.AssignmentLister == nil || s.cfg.Assigner == nil || s.cfg.Holds == nil {
		return 0, nil
	}
	list, err := s.cfg.AssignmentLister.ListAssignments(ctx, accountID, ps.ARN)
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, a := range list {
		err := s.locked(ctx, "assignment:"+a.Key(), func() error {
			holders, err := s.cfg.Holds.Holders(ctx, a.Key())
			if err != nil {
				return err
			}
			for _, id := range holders {
				if t, err := s.cfg.Store.Ticket(ctx, id); err == nil && (t.State == StateActive || t.State == StateApproved) {
					return nil // someone needs it
				}
			}
			if err := s.cfg.Assigner.Unassign(ctx, a); err != nil {
				return err
			}
			removed++
			s.audit(ctx, "jit:reconciler", "remove orphan assignment", "", a.Key())
			return nil
		})
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// hasOpenGrant reports whether a grant of t is unfinished for its state:
// an intent, or (for an ended ticket) an assignment not yet undone.
func hasOpenGrant(t *Ticket) bool {
	for _, g := range t.Grants {
		if g.State == GrantIntent {
			return true
		}
		if t.State.Final() && g.Kind == GrantAssignment && g.State != GrantUndone {
			return true
		}
	}
	return false
}

// ReconcileNow runs one reconciler pass for an administrator, on demand.
// Errors: EUNAUTHENTICATED, EFORBIDDEN, and whatever the pass met.
func (s *Service) ReconcileNow(ctx context.Context) (ReconcileReport, error) {
	u, err := caller(ctx)
	if err != nil {
		return ReconcileReport{}, err
	}
	if ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
		return ReconcileReport{}, err
	} else if !ok {
		return ReconcileReport{}, Errorf(EFORBIDDEN, "%s may not run the reconciler", u.Email)
	}
	s.audit(ctx, u.Email, "reconcile", "", "on demand")
	return s.Reconcile(ctx)
}
