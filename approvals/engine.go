package approvals

import (
	"context"
	"slices"
	"time"

	"github.com/jitaccess/jit/broker"
)

// RuleSource picks the approval rule that covers an account and a
// permission set. The policies enforcer implements it over the registry
// in force.
type RuleSource interface {
	// Rule returns the most specific rule for the account and permission
	// set and a requester in requesterGroups, and false when none covers
	// them. Errors: EUNAVAILABLE when the
	// rules in force cannot be confirmed (the enforcer); others internal.
	Rule(ctx context.Context, accountID, permissionSet string, requesterGroups []string) (broker.ApprovalRule, bool, error)
}

// Engine implements broker.ApprovalEngine: it plans a ticket's stages
// from the rule that covers it and counts decisions per stage, with
// separation of duties and delegation.
type Engine struct {
	rules RuleSource
}

var _ broker.ApprovalEngine = (*Engine)(nil)

// New returns an engine that takes the rules in force from src (the
// policies enforcer, which compiles them from the registry).
func New(src RuleSource) *Engine { return &Engine{rules: src} }

// Plan returns the plan of the rule that covers t, chosen with the groups
// its requester's sign-in carried when filing (t.RequesterGroups, as every
// later check of the ticket uses them) against the rules in force now: its stages (its
// extension stages for an extension, when it has any) without the
// requester and beneficiaries, who never approve their own ticket.
// EINVALID if no rule covers t, a stage of named approvers cannot reach
// its quorum without them, or a stage could be left waiting for approvers
// who used their one approval on an earlier stage (broker.CheckStages); the RuleSource's errors (EUNAVAILABLE) as they are.
func (e *Engine) Plan(ctx context.Context, t *broker.Ticket, extension bool) (broker.Plan, error) {
	r, ok, err := e.rules.Rule(ctx, t.AccountID, t.PermissionSet, t.RequesterGroups)
	if err != nil {
		return broker.Plan{}, err
	}
	if !ok {
		return broker.Plan{}, broker.Errorf(broker.EINVALID, "no approval rule covers %s in account %s", t.PermissionSet, t.AccountID)
	}
	src := r.Stages
	if extension && len(r.ExtensionStages) > 0 {
		src = r.ExtensionStages
	}
	var stages []broker.Stage
	for i, st := range src {
		var approvers []string
		groups := false
		for _, a := range st.Approvers {
			a = normalize(a)
			if isGroup(a) {
				groups = true
			} else if t.Involves(a) {
				continue
			}
			if !slices.Contains(approvers, a) {
				approvers = append(approvers, a)
			}
		}
		required := max(st.Required, 1)
		if !groups && len(approvers) < required {
			return broker.Plan{}, broker.Errorf(broker.EINVALID, "stage %d needs %d approvals but only %d approvers are not part of this ticket", i+1, required, len(approvers))
		}
		stages = append(stages, broker.Stage{Approvers: approvers, Required: required})
	}
	if err := broker.CheckStages(stages); err != nil {
		return broker.Plan{}, broker.Errorf(broker.EINVALID, "the approval rule for %s in account %s cannot be met for this ticket: %s", t.PermissionSet, t.AccountID, broker.ErrorMessage(err))
	}
	late := r.LateApproval
	if late == "" {
		late = broker.LateKeepEnd
	}
	plan := broker.Plan{Stages: stages, LateApproval: late, Deadline: r.Deadline, RemindEvery: r.RemindEvery,
		StepUp: broker.StepUp{MaxAge: r.StepUpMaxAge, ACR: r.StepUpACR, AMR: r.StepUpAMR}}
	if !extension {
		plan.OnCall = r.AutoApproveOnCall
	}
	if !extension && r.EscalateBefore > 0 {
		for _, a := range r.EscalateTo {
			if a = normalize(a); (isGroup(a) || !t.Involves(a)) && !slices.Contains(plan.EscalateTo, a) {
				plan.EscalateTo = append(plan.EscalateTo, a)
			}
		}
		if len(plan.EscalateTo) > 0 {
			plan.EscalateBefore = r.EscalateBefore
		}
	}
	return plan, nil
}

// Decide returns the decision u would make on t's open round at the given
// time. u decides as themself when the current stage names them or one of
// their groups; otherwise as the delegate of an approver of the stage,
// through one of dels that is to u and active at that time (see Approves). Nobody decides a ticket they requested or benefit from, not for
// themself and not for anyone else, and nobody acts for someone who is
// part of the ticket. One person counts at most once per round: neither u
// nor the one u acts for may have approved it already.
func (e *Engine) Decide(t *broker.Ticket, u broker.User, dels []broker.Delegation, at time.Time) (broker.Decision, error) {
	r, ok := t.OpenRound()
	if !ok {
		return broker.Decision{}, broker.Errorf(broker.ECONFLICT, "ticket %s is %s; nothing waits for a decision", t.ID, t.State)
	}
	if t.Involves(u.Email) {
		return broker.Decision{}, broker.Errorf(broker.EFORBIDDEN, "%s may not decide a ticket they requested or benefit from", u.Email)
	}
	stage := t.Widen(r.Stages[*r.Stage], at)
	decided := func(email string) bool {
		return slices.ContainsFunc(*r.Approvals, func(d broker.Decision) bool { return d.By == email || d.For == email })
	}
	if decided(u.Email) {
		return broker.Decision{}, broker.Errorf(broker.ECONFLICT, "%s already approved ticket %s", u.Email, t.ID)
	}
	if stage.Includes(u) {
		return broker.Decision{Stage: *r.Stage, By: u.Email, At: at}, nil
	}
	var already string
	for _, d := range delegatorsIn(t, stage, u, dels, at) {
		if decided(d) {
			already = d
			continue
		}
		return broker.Decision{Stage: *r.Stage, By: u.Email, For: d, At: at}, nil
	}
	if already != "" {
		return broker.Decision{}, broker.Errorf(broker.ECONFLICT, "%s already approved ticket %s", already, t.ID)
	}
	return broker.Decision{}, broker.Errorf(broker.EFORBIDDEN, "%s is not an approver of stage %d of ticket %s", u.Email, *r.Stage+1, t.ID)
}

// Approves reports whether u may decide stage s of t at the given time:
// s names u (by email or through one of u's groups; from the ticket's
// escalation on, s includes its escalation, Ticket.Widen), or u acts through one
// of dels for someone s names (by email or through the delegator's groups
// now, Delegation.FromGroups). Nobody decides a ticket they requested or
// benefit from, nor for someone who does. What was already decided plays
// no part (Decide checks it).
func (e *Engine) Approves(t *broker.Ticket, s broker.Stage, u broker.User, dels []broker.Delegation, at time.Time) bool {
	if t.Involves(u.Email) {
		return false
	}
	s = t.Widen(s, at)
	return s.Includes(u) || len(delegatorsIn(t, s, u, dels, at)) > 0
}

// delegatorsIn returns the delegators, in the order of dels, for whom u
// may decide stage s of t at the given time: each delegation is to u,
// active then, from someone who is not part of t and whom s names by
// email or through their groups now. Delegations are not followed
// further: what was delegated to the delegator does not pass on.
func delegatorsIn(t *broker.Ticket, s broker.Stage, u broker.User, dels []broker.Delegation, at time.Time) []string {
	var out []string
	for _, d := range dels {
		if d.To == u.Email && d.ActiveAt(at) && !t.Involves(d.From) && s.Includes(d.Delegator()) {
			out = append(out, d.From)
		}
	}
	return out
}

// Approve records u's approval on t's open round and moves to the next
// stage when the current one has its quorum. It reports whether the last
// stage is complete.
func (e *Engine) Approve(t *broker.Ticket, u broker.User, dels []broker.Delegation, comment string, at time.Time) (bool, error) {
	d, err := e.Decide(t, u, dels, at)
	if err != nil {
		return false, err
	}
	r, _ := t.OpenRound()
	d.Comment = comment
	*r.Approvals = append(*r.Approvals, d)
	n := 0
	for _, a := range *r.Approvals {
		if a.Stage == *r.Stage {
			n++
		}
	}
	if n < r.Stages[*r.Stage].Required {
		return false, nil
	}
	*r.Stage++
	if *r.Stage == len(r.Stages) {
		*r.PendingApprovers = nil
		return true, nil
	}
	*r.PendingApprovers = slices.Clone(t.Widen(r.Stages[*r.Stage], at).Approvers)
	return false, nil
}
