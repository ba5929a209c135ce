package policies

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/jitaccess/jit/broker"
)

// actApprove is the model's action for approver decisions (MayApprove).
const actApprove = "approve"

// Enforcer makes every authorization decision through one Casbin enforcer
// compiled from the registry. It is safe for concurrent use: decisions read
// the current compiled enforcer without locking, and Reload swaps in a new
// one atomically. Once Watch runs, every decision is made on the stored
// registry or refused (see Watch).
type Enforcer struct {
	cur atomic.Pointer[snapshot]
	w   atomic.Pointer[watch]

	mu      sync.Mutex // guards gen and applied
	gen     uint64     // reloads started
	applied uint64     // the newest reload swapped in

	logger atomic.Pointer[slog.Logger]
}

var _ broker.Authorizer = (*Enforcer)(nil)

// Compile validates r (broker.CheckRegistry) and compiles it into an Enforcer.
// Errors have code EINVALID.
func Compile(r broker.RegistryData) (*Enforcer, error) {
	s, err := compile(r)
	if err != nil {
		return nil, err
	}
	e := &Enforcer{}
	e.cur.Store(s)
	return e, nil
}

// Reload compiles r off to the side and then swaps it in; decisions keep
// using the previous registry until the swap. If r is invalid, Reload
// returns the error (code EINVALID) and keeps the previous registry. When
// reloads overlap, the one started last wins.
func (e *Enforcer) Reload(r broker.RegistryData) error {
	return e.apply(r, 0, e.nextGen())
}

// nextGen starts a reload.
func (e *Enforcer) nextGen() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.gen++
	return e.gen
}

// apply compiles r, stored as version, and swaps it in unless a reload
// started after gen has been applied already.
func (e *Enforcer) apply(r broker.RegistryData, version int64, gen uint64) error {
	s, err := compile(r)
	if err != nil {
		return err
	}
	s.version = version
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen > e.applied {
		e.cur.Store(s)
		e.applied = gen
	}
	return nil
}

// Version returns the stored version of the registry in force: the one
// Watch last loaded, 0 before that or after Reload.
func (e *Enforcer) Version() int64 { return e.cur.Load().version }

// SetLogger sets where background reload failures (see Watch) are logged;
// by default they are not.
func (e *Enforcer) SetLogger(l *slog.Logger) { e.logger.Store(l) }

func (e *Enforcer) log() *slog.Logger {
	if l := e.logger.Load(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// Allowed reports whether u may perform act:
//   - ActRequest: u may request permissionSet in accountID: the set's scope
//     lists the account (or "*") and one of u's groups (or "*").
//     permissionSet may also be "group:<permission set group>" (some set in
//     the group is allowed) or "" (some set is); accountID "" means some
//     account. Administering does not put anyone in scope.
//   - ActRequestForOthers: u is listed in request_for_others, by email or
//     through a group. The account and permission set are not used.
//   - ActAdminister: u is an admin, by email or through a group. Admins
//     administer everything, so accountID "" asks "admin of everything" and
//     gets the same answer as any account.
//
// Any other action is not allowed. Errors: EUNAVAILABLE when Watch cannot
// confirm the registry in force is the stored one; others are internal.
func (e *Enforcer) Allowed(ctx context.Context, u broker.User, act broker.Action, accountID, permissionSet string) (bool, error) {
	switch act {
	case broker.ActRequest, broker.ActRequestForOthers, broker.ActAdminister:
	default:
		return false, nil
	}
	s, err := e.current(ctx)
	if err != nil {
		return false, err
	}
	ok, err := s.ce.Enforce(subjectOf(u), string(act), accountID, permissionSet, 0)
	if err != nil {
		return false, fmt.Errorf("enforce %s: %w", act, err)
	}
	return ok, nil
}

// MayApprove reports whether u, by email or through one of u.Groups, is an
// approver of stage stage (0-based) of the most specific approval rule
// covering accountID and permissionSet (see Rule). It is false when no rule
// covers them or the rule has no such stage. Separation of duties and
// delegation are the approval engine's business. Errors: EUNAVAILABLE
// (see Allowed); others are internal.
func (e *Enforcer) MayApprove(ctx context.Context, u broker.User, accountID, permissionSet string, stage int) (bool, error) {
	if stage < 0 {
		return false, nil
	}
	s, err := e.current(ctx)
	if err != nil {
		return false, err
	}
	ok, err := s.ce.Enforce(subjectOf(u), actApprove, accountID, permissionSet, stage)
	if err != nil {
		return false, fmt.Errorf("enforce approve: %w", err)
	}
	return ok, nil
}

// actBreakGlass is the model's action for break-glass decisions (BreakGlass).
const actBreakGlass = "break_glass"

var _ broker.BreakGlassRules = (*Enforcer)(nil)

// BreakGlass returns the first break-glass rule, in registry order, that
// names u (by email or through one of u.Groups) and covers permissionSet
// (by name, through a permission set group, or "*") in accountID (by id or
// "*"). Errors: EUNAVAILABLE (see Allowed); others are internal.
func (e *Enforcer) BreakGlass(ctx context.Context, u broker.User, accountID, permissionSet string) (broker.BreakGlassRule, bool, error) {
	s, err := e.current(ctx)
	if err != nil {
		return broker.BreakGlassRule{}, false, err
	}
	sub := subjectOf(u)
	for i, b := range s.breakGlass {
		ok, err := s.ce.Enforce(sub, actBreakGlass, accountID, permissionSet, i)
		if err != nil {
			return broker.BreakGlassRule{}, false, fmt.Errorf("enforce break glass: %w", err)
		} else if ok {
			c := b
			c.People, c.Notify, c.EscalateTo = slices.Clone(b.People), slices.Clone(b.Notify), slices.Clone(b.EscalateTo)
			c.Accounts, c.PermissionSets = slices.Clone(b.Accounts), slices.Clone(b.PermissionSets)
			return c, true, nil
		}
	}
	return broker.BreakGlassRule{}, false, nil
}

// Rule returns the most specific approval rule covering accountID and
// permissionSet for a requester in requesterGroups: a rule for the exact
// account beats one for "*"; then a rule naming the permission set beats
// one naming a permission set group that holds it, which beats one for any
// permission set (""); then a rule naming one of requesterGroups beats the
// rule naming none (of two such, the group first in byte order wins); a
// rule naming a group the requester is not in never covers them.
// broker.CheckRegistry rejects registries where two rules would tie. permissionSet may also be
// "group:<name>", which only rules for that group or for any set cover.
// Like every decision it uses the stored registry (see Watch). Errors:
// EUNAVAILABLE.
func (e *Enforcer) Rule(ctx context.Context, accountID, permissionSet string, requesterGroups []string) (broker.ApprovalRule, bool, error) {
	s, err := e.current(ctx)
	if err != nil {
		return broker.ApprovalRule{}, false, err
	}
	i, _, ok := s.resolve(accountID, permissionSet, requesterGroups)
	if !ok {
		return broker.ApprovalRule{}, false, nil
	}
	return cloneRule(s.rules[i]), true, nil
}

// Workloads returns the workloads of the registry in force (see Watch), for
// the API's authentication of workload tokens: a workload removed from the
// registry is refused from the next decision on. The caller must not
// modify the result. Errors: EUNAVAILABLE (see Allowed).
func (e *Enforcer) Workloads(ctx context.Context) ([]broker.Workload, error) {
	s, err := e.current(ctx)
	if err != nil {
		return nil, err
	}
	return s.workloads, nil
}

func cloneRule(r broker.ApprovalRule) broker.ApprovalRule {
	r.Stages = slices.Clone(r.Stages)
	r.EscalateTo = slices.Clone(r.EscalateTo)
	for i := range r.Stages {
		r.Stages[i].Approvers = slices.Clone(r.Stages[i].Approvers)
	}
	return r
}
