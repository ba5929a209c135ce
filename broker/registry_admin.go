package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The registry's administration use cases. Each change is read-modify-write
// on the one registry document with a compare-and-set on its version, so an
// apply is all or nothing and concurrent changes never interleave. Only
// administrators (ActAdminister) may read the whole registry or change it.

// RegistryVersion is the registry with the version it was read at.
type RegistryVersion struct {
	Version int64 `json:"version"`
	RegistryData
}

// ApplyInput is a whole new registry to apply.
type ApplyInput struct {
	Registry RegistryData
	// Version, when not zero, makes the apply fail with ECONFLICT unless
	// the stored registry is still at that version (what a dry run showed).
	Version int64
	// DryRun computes the diff without changing anything.
	DryRun bool
}

// ApplyResult says what an apply changed (or would change, on a dry run).
type ApplyResult struct {
	// Version is the registry's version after the apply (before it, on a
	// dry run or when nothing changed).
	Version int64        `json:"version"`
	Changed bool         `json:"changed"`
	DryRun  bool         `json:"dry_run"`
	Diff    RegistryDiff `json:"diff"`
	// Warnings are things worth knowing that do not stop the apply.
	Warnings []string `json:"warnings,omitempty"`
}

// UnregisterResult says what unregistering took with it.
type UnregisterResult struct {
	ApplyResult
	// Ended lists the tickets a forced unregister cancelled or terminated.
	Ended []string `json:"ended,omitempty"`
}

// maxBlockingListed bounds how many ticket ids a refusal names.
const maxBlockingListed = 10

func (s *Service) registryStore() (RegistryStore, error) {
	if s.cfg.RegistryStore == nil {
		return nil, Errorf(EUNAVAILABLE, "registry administration is not configured")
	}
	return s.cfg.RegistryStore, nil
}

// admin returns the caller if they administer JIT. Errors: EUNAUTHENTICATED, EFORBIDDEN.
func (s *Service) admin(ctx context.Context) (User, error) {
	u, err := caller(ctx)
	if err != nil {
		return User{}, err
	}
	ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", "")
	if err != nil {
		return User{}, err
	} else if !ok {
		return User{}, Errorf(EFORBIDDEN, "%s is not an administrator", u.Email)
	}
	return u, nil
}

// Registry returns the whole registry and its version, for administrators.
// Errors: EUNAUTHENTICATED, EFORBIDDEN.
func (s *Service) Registry(ctx context.Context) (RegistryVersion, error) {
	if _, err := s.admin(ctx); err != nil {
		return RegistryVersion{}, err
	}
	return s.readRegistry(ctx)
}

func (s *Service) readRegistry(ctx context.Context) (RegistryVersion, error) {
	st, err := s.registryStore()
	if err != nil {
		return RegistryVersion{}, err
	}
	r, v, err := st.Registry(ctx)
	if err != nil {
		return RegistryVersion{}, err
	}
	return RegistryVersion{Version: v, RegistryData: r}, nil
}

// Accounts lists the registered accounts; every signed-in user may see
// them. Errors: EUNAUTHENTICATED.
func (s *Service) Accounts(ctx context.Context) ([]Account, error) {
	r, err := s.publicRegistry(ctx)
	return orEmpty(r.Accounts), err
}

// PermissionSets lists the registered permission sets with their scopes;
// every signed-in user may see them. Errors: EUNAUTHENTICATED.
func (s *Service) PermissionSets(ctx context.Context) ([]PermissionSet, error) {
	r, err := s.publicRegistry(ctx)
	return orEmpty(r.PermissionSets), err
}

// PermissionSetGroups lists the permission set groups; every signed-in user
// may see them. Errors: EUNAUTHENTICATED.
func (s *Service) PermissionSetGroups(ctx context.Context) ([]PermissionSetGroup, error) {
	r, err := s.publicRegistry(ctx)
	return orEmpty(r.PermissionSetGroups), err
}

// ApprovalRules lists the approval rules, for administrators.
// Errors: EUNAUTHENTICATED, EFORBIDDEN.
func (s *Service) ApprovalRules(ctx context.Context) ([]ApprovalRule, error) {
	r, err := s.Registry(ctx)
	return orEmpty(r.ApprovalRules), err
}

// Admins lists the administrators, for administrators.
// Errors: EUNAUTHENTICATED, EFORBIDDEN.
func (s *Service) Admins(ctx context.Context) ([]string, error) {
	r, err := s.Registry(ctx)
	return orEmpty(r.Admins), err
}

func (s *Service) publicRegistry(ctx context.Context) (RegistryData, error) {
	if _, err := caller(ctx); err != nil {
		return RegistryData{}, err
	}
	r, err := s.readRegistry(ctx)
	return r.RegistryData, err
}

func orEmpty[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// ApplyRegistry replaces the whole registry after checking it, atomically.
// Applying the registry as it is changes nothing. Errors: EUNAUTHENTICATED,
// EFORBIDDEN, EINVALID (naming the field), ECONFLICT (in.Version is stale).
func (s *Service) ApplyRegistry(ctx context.Context, in ApplyInput) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	next := in.Registry.Clone()
	return s.change(ctx, in.Version, in.DryRun, false, func(r *RegistryData) error {
		*r = next.Clone()
		return nil
	})
}

// change applies fn to a copy of the current registry, checks the result
// and stores it with a compare-and-set. With version zero it retries on a
// conflict (fn sees the fresh registry each time); otherwise the stored
// registry must still be at version. It calls OnRegistryChange after a
// stored change.
func (s *Service) change(ctx context.Context, version int64, dryRun, retry bool, fn func(r *RegistryData) error) (ApplyResult, error) {
	st, err := s.registryStore()
	if err != nil {
		return ApplyResult{}, err
	}
	for range casRetries {
		cur, v, err := st.Registry(ctx)
		if err != nil {
			return ApplyResult{}, err
		}
		if version != 0 && v != version {
			return ApplyResult{}, Errorf(ECONFLICT, "the registry changed since version %d (it is at version %d); look at it again and retry", version, v)
		}
		NormalizeRegistry(&cur)
		next := cur.Clone()
		if err := fn(&next); err != nil {
			return ApplyResult{}, err
		}
		NormalizeRegistry(&next)
		if err := CheckRegistry(next); err != nil {
			return ApplyResult{}, err
		}
		res := ApplyResult{Version: v, DryRun: dryRun, Diff: DiffRegistry(cur, next)}
		res.Changed = !res.Diff.Empty()
		if dryRun || !res.Changed {
			return res, nil
		}
		nv, err := st.ReplaceRegistry(ctx, next, v)
		if ErrorCode(err) == ECONFLICT && version == 0 && retry {
			continue
		} else if ErrorCode(err) == ECONFLICT {
			return ApplyResult{}, Errorf(ECONFLICT, "the registry changed while this change was applied; look at it again and retry")
		} else if err != nil {
			return ApplyResult{}, err
		}
		res.Version = nv
		s.auditRegistry(ctx, v, nv, res.Diff)
		if s.cfg.OnRegistryChange != nil {
			if err := s.cfg.OnRegistryChange(context.WithoutCancel(ctx)); err != nil {
				// The change is stored; replicas still reload when they next look.
				s.cfg.Logger.Error("registry change notification failed", "version", nv, "err", err)
			}
		}
		return res, nil
	}
	return ApplyResult{}, Errorf(ECONFLICT, "the registry is changing too often; try again")
}

// RegisterAccount adds an account, or renames a registered one.
// Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (s *Service) RegisterAccount(ctx context.Context, a Account) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		upsert(&r.Accounts, a, func(x Account) bool { return x.ID == strings.TrimSpace(a.ID) })
		return nil
	})
}

// UnregisterAccount removes an account. While tickets for it are pending,
// approved or active it refuses with ECONFLICT, unless force, which first
// cancels the pending ones and terminates the others (cutting their
// sessions). Rules and scopes that name the account must be changed first
// (EINVALID names them). Errors: EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND,
// ECONFLICT, EINVALID.
func (s *Service) UnregisterAccount(ctx context.Context, id string, force bool) (UnregisterResult, error) {
	u, err := s.admin(ctx)
	if err != nil {
		return UnregisterResult{}, err
	}
	return s.unregister(ctx, u, force, fmt.Sprintf("account %s", id),
		func(t *Ticket) bool { return t.AccountID == id },
		func(r *RegistryData) error {
			i := slices.IndexFunc(r.Accounts, func(a Account) bool { return a.ID == id })
			if i < 0 {
				return Errorf(ENOTFOUND, "account %s is not registered", id)
			}
			r.Accounts = slices.Delete(r.Accounts, i, i+1)
			return nil
		})
}

// RegisterPermissionSet adds a permission set, or replaces the registered
// one of the same name. Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (s *Service) RegisterPermissionSet(ctx context.Context, p PermissionSet) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		upsert(&r.PermissionSets, p, func(x PermissionSet) bool { return x.Name == strings.TrimSpace(p.Name) })
		return nil
	})
}

// UnregisterPermissionSet removes a permission set, with the same rules as
// UnregisterAccount. Errors: EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND,
// ECONFLICT, EINVALID.
func (s *Service) UnregisterPermissionSet(ctx context.Context, name string, force bool) (UnregisterResult, error) {
	u, err := s.admin(ctx)
	if err != nil {
		return UnregisterResult{}, err
	}
	return s.unregister(ctx, u, force, fmt.Sprintf("permission set %s", name),
		func(t *Ticket) bool { return t.PermissionSet == name },
		func(r *RegistryData) error {
			i := slices.IndexFunc(r.PermissionSets, func(p PermissionSet) bool { return p.Name == name })
			if i < 0 {
				return Errorf(ENOTFOUND, "permission set %s is not registered", name)
			}
			r.PermissionSets = slices.Delete(r.PermissionSets, i, i+1)
			return nil
		})
}

// PutPermissionSetGroup adds or replaces a permission set group.
// Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (s *Service) PutPermissionSetGroup(ctx context.Context, g PermissionSetGroup) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		upsert(&r.PermissionSetGroups, g, func(x PermissionSetGroup) bool { return x.Name == g.Name })
		return nil
	})
}

// DeletePermissionSetGroup removes a permission set group. Errors:
// EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND, EINVALID (a rule still names it).
func (s *Service) DeletePermissionSetGroup(ctx context.Context, name string) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		i := slices.IndexFunc(r.PermissionSetGroups, func(g PermissionSetGroup) bool { return g.Name == name })
		if i < 0 {
			return Errorf(ENOTFOUND, "permission set group %s is not defined", name)
		}
		r.PermissionSetGroups = slices.Delete(r.PermissionSetGroups, i, i+1)
		return nil
	})
}

// PutApprovalRule adds a rule, or replaces the one for the same account,
// permission set and requester group. Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (s *Service) PutApprovalRule(ctx context.Context, rule ApprovalRule) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	if strings.TrimSpace(rule.Account) == "" {
		rule.Account = "*"
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		upsert(&r.ApprovalRules, rule, func(x ApprovalRule) bool {
			return x.Account == strings.TrimSpace(rule.Account) && x.PermissionSet == rule.PermissionSet &&
				x.RequesterGroup == strings.TrimSpace(rule.RequesterGroup)
		})
		return nil
	})
}

// DeleteApprovalRule removes the rule for an account ("*" for all),
// permission set ("" for any) and requester group ("" for the rule naming
// none). Errors: EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND.
func (s *Service) DeleteApprovalRule(ctx context.Context, account, permissionSet, requesterGroup string) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	if account == "" {
		account = "*"
	}
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		i := slices.IndexFunc(r.ApprovalRules, func(x ApprovalRule) bool {
			return x.Account == account && x.PermissionSet == permissionSet && x.RequesterGroup == requesterGroup
		})
		if i < 0 {
			return Errorf(ENOTFOUND, "no approval rule for %s", RuleKey(ApprovalRule{Account: account, PermissionSet: permissionSet, RequesterGroup: requesterGroup}))
		}
		r.ApprovalRules = slices.Delete(r.ApprovalRules, i, i+1)
		return nil
	})
}

// SetAdmins replaces the administrators (emails or group:<name>; at least
// one). Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
func (s *Service) SetAdmins(ctx context.Context, admins []string) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	admins = slices.Clone(admins)
	return s.change(ctx, 0, false, true, func(r *RegistryData) error {
		r.Admins = admins
		return nil
	})
}

// upsert replaces the first element matching same with v, or appends v.
func upsert[T any](xs *[]T, v T, same func(T) bool) {
	if i := slices.IndexFunc(*xs, same); i >= 0 {
		(*xs)[i] = v
		return
	}
	*xs = append(*xs, v)
}

// unregister removes something tickets refer to. Without force it refuses
// while open tickets (pending, approved, active) match; with force it ends
// them first, so their sessions are cut while the registry still knows how.
//
// Everything that can refuse is checked before any ticket is ended: the
// removal is first tried as a dry run of the very change that follows
// (not registered, a rule or scope still naming it, the injected
// validator), so a refusal leaves both the tickets and the registry as
// they were. What can still fail after the tickets are ended is only a
// concurrent registry change that makes the removal invalid, or the
// store failing.
func (s *Service) unregister(ctx context.Context, u User, force bool, what string, match func(*Ticket) bool, remove func(*RegistryData) error) (UnregisterResult, error) {
	if _, err := s.change(ctx, 0, true, false, remove); err != nil {
		return UnregisterResult{}, err
	}
	open, err := s.openTickets(ctx, match)
	if err != nil {
		return UnregisterResult{}, err
	}
	var res UnregisterResult
	if len(open) > 0 && !force {
		ids := open
		if len(ids) > maxBlockingListed {
			ids = ids[:maxBlockingListed]
		}
		return res, Errorf(ECONFLICT, "%s has %d open ticket(s) (%s); end them first or unregister with force", what, len(open), strings.Join(ids, ", "))
	}
	comment := fmt.Sprintf("%s unregistered by %s", what, u.Email)
	for _, id := range open {
		if err := s.endForRegistry(ctx, u, id, comment); err != nil {
			return res, fmt.Errorf("end ticket %s: %w", id, err)
		}
		res.Ended = append(res.Ended, id)
	}
	res.ApplyResult, err = s.change(ctx, 0, false, true, remove)
	return res, err
}

// openStates are the states that keep an account or permission set in use.
var openStates = []State{StatePending, StateApproved, StateActive}

// openTickets returns the ids of open tickets that match.
func (s *Service) openTickets(ctx context.Context, match func(*Ticket) bool) ([]string, error) {
	var ids []string
	for _, st := range openStates {
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: st})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if match(t) {
				ids = append(ids, t.ID)
			}
		}
	}
	return ids, nil
}

// endForRegistry cancels a pending ticket, or terminates an approved or
// active one through Terminate and takes its grants back at once, so no
// later cleanup depends on what is about to be unregistered.
func (s *Service) endForRegistry(ctx context.Context, u User, id, comment string) error {
	_, err := s.transition(ctx, id, func(t *Ticket) error {
		if t.State != StatePending {
			return errNoop
		}
		now := s.now()
		t.PendingApprovers = nil
		t.Closed = &Decision{Stage: t.Stage, By: u.Email, Comment: comment, At: now}
		t.move(StateCancelled, u.Email, "cancel", comment, now)
		return nil
	})
	switch {
	case err == nil, ErrorCode(err) == ENOTFOUND:
		return nil
	case !errors.Is(err, errNoop):
		return err
	}
	if _, err := s.Terminate(ctx, id, comment); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return nil // ended meanwhile
		}
		return err
	}
	return s.cleanup(ctx, id)
}
