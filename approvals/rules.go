package approvals

import (
	"context"
	"fmt"
	"strings"

	"github.com/jitaccess/jit/broker"
)

// Rule is an approval rule as the configuration file writes it.
type Rule = broker.ApprovalRule

// Stage is one ordered stage of a Rule.
type Stage = broker.RuleStage

// StaticRules is a RuleSource over a fixed list of rules.
type StaticRules struct {
	rules []Rule
}

var _ RuleSource = (*StaticRules)(nil)

// NewStaticRules checks and normalizes the rules: account defaults to "*",
// Required to 1, approvers go through broker.NormalizePrincipal (emails
// ASCII-lowered, group names exact), and every stage must be able to reach
// its quorum.
func NewStaticRules(rules []Rule) (*StaticRules, error) {
	rules = append([]Rule(nil), rules...)
	for i := range rules {
		r := &rules[i]
		if r.Account == "" {
			r.Account = "*"
		}
		if len(r.Stages) == 0 {
			return nil, fmt.Errorf("approval_rules[%d]: at least one stage is required", i)
		}
		switch r.LateApproval {
		case "", broker.LateKeepEnd, broker.LateKeepLength:
		default:
			return nil, fmt.Errorf("approval_rules[%d].late_approval %q must be keep_end or keep_length", i, r.LateApproval)
		}
		if r.Deadline < 0 || r.RemindEvery < 0 {
			return nil, fmt.Errorf("approval_rules[%d]: deadline and remind_every must not be negative", i)
		}
		var err error
		if r.Stages, err = checkStages(r.Stages, fmt.Sprintf("approval_rules[%d].stages", i)); err != nil {
			return nil, err
		}
		if r.ExtensionStages, err = checkStages(r.ExtensionStages, fmt.Sprintf("approval_rules[%d].extension_stages", i)); err != nil {
			return nil, err
		}
		for _, o := range rules[:i] {
			if o.Account == r.Account && o.PermissionSet == r.PermissionSet {
				return nil, fmt.Errorf("approval_rules[%d]: another rule already covers account %q and permission set %q", i, r.Account, r.PermissionSet)
			}
		}
	}
	return &StaticRules{rules: rules}, nil
}

// checkStages returns normalized copies of the stages or names the first bad one.
func checkStages(in []Stage, where string) ([]Stage, error) {
	var out []Stage
	for j, st := range in {
		st.Approvers = append([]string(nil), st.Approvers...)
		if st.Required == 0 {
			st.Required = 1
		}
		groups := false
		for k, a := range st.Approvers {
			a = normalize(a)
			st.Approvers[k] = a
			if isGroup(a) {
				if a == "group:" {
					return nil, fmt.Errorf("%s[%d]: group approver needs a name", where, j)
				}
				groups = true
			}
		}
		if len(st.Approvers) == 0 {
			return nil, fmt.Errorf("%s[%d]: at least one approver is required", where, j)
		}
		if st.Required < 1 || (!groups && st.Required > len(st.Approvers)) {
			return nil, fmt.Errorf("%s[%d]: required %d must be between 1 and the number of approvers (%d)", where, j, st.Required, len(st.Approvers))
		}
		out = append(out, st)
	}
	return out, nil
}

// Rule returns the most specific rule for the account and permission set:
// an exact account beats "*", and a named permission set beats any.
func (s *StaticRules) Rule(_ context.Context, accountID, permissionSet string) (broker.ApprovalRule, bool, error) {
	best, score := Rule{}, -1
	for _, r := range s.rules {
		if (r.Account != "*" && r.Account != accountID) || (r.PermissionSet != "" && r.PermissionSet != permissionSet) {
			continue
		}
		n := 0
		if r.Account != "*" {
			n += 2
		}
		if r.PermissionSet != "" {
			n++
		}
		if n > score {
			best, score = r, n
		}
	}
	return best, score >= 0, nil
}

// normalize is broker's one normalisation of principals: emails lowered
// (ASCII only), group names exactly as written.
func normalize(a string) string { return broker.NormalizePrincipal(a) }

func isGroup(a string) bool { return strings.HasPrefix(a, "group:") }

// FirstOf returns a RuleSource that asks each source in turn and answers
// with the first rule found: the registry's rules first, say, then the
// configuration file's.
func FirstOf(sources ...RuleSource) RuleSource { return firstOf(sources) }

type firstOf []RuleSource

func (f firstOf) Rule(ctx context.Context, accountID, permissionSet string) (broker.ApprovalRule, bool, error) {
	for _, s := range f {
		if s == nil {
			continue
		}
		if r, ok, err := s.Rule(ctx, accountID, permissionSet); err != nil || ok {
			return r, ok, err
		}
	}
	return broker.ApprovalRule{}, false, nil
}
