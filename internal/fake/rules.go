package fake

import (
	"context"
	"slices"
	"sync"

	"github.com/jitaccess/jit/broker"
)

// Rules gives one approval rule to every ticket of its account (or none,
// before Set); a
// test changes it as an administrator changes the registry. It is an
// approvals.RuleSource; safe for concurrent use.
type Rules struct {
	mu   sync.Mutex
	rule *broker.ApprovalRule
}

// NewRules returns a source whose rule, for every account, has these stages.
func NewRules(stages ...broker.RuleStage) *Rules {
	return OneRule(broker.ApprovalRule{Account: "*", Stages: stages})
}

// OneRule returns a source that gives r to every ticket.
func OneRule(r broker.ApprovalRule) *Rules {
	s := &Rules{}
	s.Set(r)
	return s
}

// Set makes r the rule in force for every ticket.
func (s *Rules) Set(r broker.ApprovalRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule = &r
}

// Clear leaves every ticket without a rule.
func (s *Rules) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rule = nil
}

// Rule returns the rule in force, if any, when its account is "*" (or
// unset) or the ticket's and its requester group, if any, is one of
// groups; the permission set is not compared.
func (s *Rules) Rule(_ context.Context, account, _ string, groups []string) (broker.ApprovalRule, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rule == nil || s.rule.Account != "" && s.rule.Account != "*" && s.rule.Account != account ||
		s.rule.RequesterGroup != "" && !slices.Contains(groups, s.rule.RequesterGroup) {
		return broker.ApprovalRule{}, false, nil
	}
	return *s.rule, true, nil
}
