package approvals

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Rule says who approves tickets for an account ("*" for every account)
// and, optionally, one permission set ("" for every set).
type Rule struct {
	Account       string  `yaml:"account"`
	PermissionSet string  `yaml:"permission_set"`
	Stages        []Stage `yaml:"stages"`
}

// Stage is one ordered step of a rule.
type Stage struct {
	Approvers []string `yaml:"approvers"`
	// Required is how many approvals the stage needs; default 1.
	Required int `yaml:"required"`
}

// Engine implements broker.ApprovalEngine over a fixed set of rules.
type Engine struct {
	rules []Rule
}

var _ broker.ApprovalEngine = (*Engine)(nil)

// New checks the rules and returns an engine for them.
func New(rules []Rule) (*Engine, error) {
	for i := range rules {
		r := &rules[i]
		if r.Account == "" {
			r.Account = "*"
		}
		if len(r.Stages) == 0 {
			return nil, fmt.Errorf("approval_rules[%d]: at least one stage is required", i)
		}
		for j := range r.Stages {
			st := &r.Stages[j]
			if st.Required == 0 {
				st.Required = 1
			}
			for k, a := range st.Approvers {
				st.Approvers[k] = strings.ToLower(strings.TrimSpace(a))
			}
			if st.Required < 1 || st.Required > len(st.Approvers) {
				return nil, fmt.Errorf("approval_rules[%d].stages[%d]: required %d must be between 1 and the number of approvers (%d)", i, j, st.Required, len(st.Approvers))
			}
		}
		for _, o := range rules[:i] {
			if o.Account == r.Account && o.PermissionSet == r.PermissionSet {
				return nil, fmt.Errorf("approval_rules[%d]: another rule already covers account %q and permission set %q", i, r.Account, r.PermissionSet)
			}
		}
	}
	return &Engine{rules: rules}, nil
}

// rule returns the most specific rule for the ticket: an exact account beats
// "*", and a named permission set beats any.
func (e *Engine) rule(t *broker.Ticket) (Rule, bool) {
	best, score := Rule{}, -1
	for _, r := range e.rules {
		if (r.Account != "*" && r.Account != t.AccountID) || (r.PermissionSet != "" && r.PermissionSet != t.PermissionSet) {
			continue
		}
		s := 0
		if r.Account != "*" {
			s += 2
		}
		if r.PermissionSet != "" {
			s++
		}
		if s > score {
			best, score = r, s
		}
	}
	return best, score >= 0
}

// Plan returns the stages of the rule that covers t, without the
// requester and beneficiaries, who never approve their own ticket.
func (e *Engine) Plan(_ context.Context, t *broker.Ticket) ([]broker.Stage, error) {
	r, ok := e.rule(t)
	if !ok {
		return nil, broker.Errorf(broker.EINVALID, "no approval rule covers %s in account %s", t.PermissionSet, t.AccountID)
	}
	var stages []broker.Stage
	for i, st := range r.Stages {
		var approvers []string
		for _, a := range st.Approvers {
			if !t.Involves(a) {
				approvers = append(approvers, a)
			}
		}
		if len(approvers) < st.Required {
			return nil, broker.Errorf(broker.EINVALID, "stage %d needs %d approvals but only %d approvers are not part of this ticket", i+1, st.Required, len(approvers))
		}
		stages = append(stages, broker.Stage{Approvers: approvers, Required: st.Required})
	}
	return stages, nil
}

// MayDecide reports whether u may approve or reject t's current stage.
func (e *Engine) MayDecide(t *broker.Ticket, u broker.User) bool {
	if t.State != broker.StatePending || t.Stage >= len(t.Stages) || t.Involves(u.Email) {
		return false
	}
	return slices.Contains(t.Stages[t.Stage].Approvers, u.Email)
}

// Approve records u's approval on t's current stage and moves to the next
// stage when its quorum is met.
func (e *Engine) Approve(t *broker.Ticket, u broker.User, comment string, at time.Time) (bool, error) {
	if t.Involves(u.Email) {
		return false, broker.Errorf(broker.EFORBIDDEN, "%s may not approve a ticket they requested or benefit from", u.Email)
	}
	if slices.ContainsFunc(t.Approvals, func(d broker.Decision) bool { return d.By == u.Email }) {
		return false, broker.Errorf(broker.ECONFLICT, "%s already approved ticket %s", u.Email, t.ID)
	}
	if !e.MayDecide(t, u) {
		return false, broker.Errorf(broker.EFORBIDDEN, "%s is not an approver of stage %d of ticket %s", u.Email, t.Stage+1, t.ID)
	}
	t.Approvals = append(t.Approvals, broker.Decision{Stage: t.Stage, By: u.Email, Comment: comment, At: at})
	n := 0
	for _, d := range t.Approvals {
		if d.Stage == t.Stage {
			n++
		}
	}
	if n < t.Stages[t.Stage].Required {
		return false, nil
	}
	t.Stage++
	if t.Stage == len(t.Stages) {
		return true, nil
	}
	t.PendingApprovers = slices.Clone(t.Stages[t.Stage].Approvers)
	return false, nil
}
