package broker

import (
	"context"
	"slices"
)

// StaticRegistry is a Registry held in memory, filled from configuration.
type StaticRegistry struct {
	Accounts       []Account       `yaml:"accounts"`
	PermissionSets []PermissionSet `yaml:"permission_sets"`
}

var _ Registry = (*StaticRegistry)(nil)

// Account returns the registered account with the given id.
func (r *StaticRegistry) Account(_ context.Context, id string) (Account, error) {
	for _, a := range r.Accounts {
		if a.ID == id {
			return a, nil
		}
	}
	return Account{}, Errorf(ENOTFOUND, "account %s is not registered", id)
}

// PermissionSet returns the registered permission set with the given name.
func (r *StaticRegistry) PermissionSet(_ context.Context, name string) (PermissionSet, error) {
	for _, p := range r.PermissionSets {
		if p.Name == name {
			return p, nil
		}
	}
	return PermissionSet{}, Errorf(ENOTFOUND, "permission set %s is not registered", name)
}

// RegistryStore keeps the whole registry as one versioned document, so an
// apply is all or nothing and two administrators can never interleave.
type RegistryStore interface {
	// Registry returns the stored registry and its version; version 0 and
	// an empty registry when none is stored yet. The caller may modify the
	// result.
	Registry(ctx context.Context) (RegistryData, int64, error)
	// ReplaceRegistry stores r if the stored version is still version (0:
	// none stored yet) and returns the new version. ECONFLICT if another
	// writer got there first.
	ReplaceRegistry(ctx context.Context, r RegistryData, version int64) (int64, error)
}

// Clone returns a deep copy of r.
func (r RegistryData) Clone() RegistryData {
	c := RegistryData{
		Accounts:         slices.Clone(r.Accounts),
		PermissionSets:   make([]PermissionSet, len(r.PermissionSets)),
		Admins:           slices.Clone(r.Admins),
		RequestForOthers: slices.Clone(r.RequestForOthers),
		Workloads:        cloneWorkloads(r.Workloads),
		Limits:           r.Limits,
	}
	for i, p := range r.PermissionSets {
		p.Scope = Scope{Accounts: slices.Clone(p.Scope.Accounts), RequesterGroups: slices.Clone(p.Scope.RequesterGroups)}
		c.PermissionSets[i] = p
	}
	if r.PermissionSetGroups != nil {
		c.PermissionSetGroups = make([]PermissionSetGroup, len(r.PermissionSetGroups))
		for i, g := range r.PermissionSetGroups {
			c.PermissionSetGroups[i] = PermissionSetGroup{Name: g.Name, PermissionSets: slices.Clone(g.PermissionSets)}
		}
	}
	if r.ApprovalRules != nil {
		c.ApprovalRules = make([]ApprovalRule, len(r.ApprovalRules))
		for i, rule := range r.ApprovalRules {
			rule.Stages = cloneRuleStages(rule.Stages)
			rule.ExtensionStages = cloneRuleStages(rule.ExtensionStages)
			rule.EscalateTo = slices.Clone(rule.EscalateTo)
			if oc := rule.AutoApproveOnCall; oc != nil {
				cp := *oc
				rule.AutoApproveOnCall = &cp
			}
			c.ApprovalRules[i] = rule
		}
	}
	if r.BreakGlass != nil {
		c.BreakGlass = make([]BreakGlassRule, len(r.BreakGlass))
		for i, b := range r.BreakGlass {
			c.BreakGlass[i] = b.clone()
		}
	}
	if r.Accounts == nil {
		c.Accounts = nil
	}
	if r.PermissionSets == nil {
		c.PermissionSets = nil
	}
	return c
}

// FindAccount returns the account with the given id.
func (r RegistryData) FindAccount(id string) (Account, bool) {
	i := slices.IndexFunc(r.Accounts, func(a Account) bool { return a.ID == id })
	if i < 0 {
		return Account{}, false
	}
	return r.Accounts[i], true
}

// FindPermissionSet returns the permission set with the given name.
func (r RegistryData) FindPermissionSet(name string) (PermissionSet, bool) {
	i := slices.IndexFunc(r.PermissionSets, func(p PermissionSet) bool { return p.Name == name })
	if i < 0 {
		return PermissionSet{}, false
	}
	return r.PermissionSets[i], true
}

func cloneRuleStages(in []RuleStage) []RuleStage {
	if in == nil {
		return nil
	}
	out := make([]RuleStage, len(in))
	for i, st := range in {
		out[i] = RuleStage{Approvers: slices.Clone(st.Approvers), Required: st.Required}
	}
	return out
}
