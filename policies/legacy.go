package policies

import (
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/jitaccess/jit/broker"
)

// This file keeps the first, row-scanning authorizer working for cmd/jit
// until it switches to Compile. Do not build on it.

// legacyModel scans one policy row per grant. It compares subjects with ==
// (the first version called g() without ever adding links, which only grew
// Casbin's g() result cache).
const legacyModel = `
[request_definition]
r = sub, act, acct, ps

[policy_definition]
p = sub, act, acct, ps

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.sub == p.sub && (p.act == "*" || r.act == p.act) && (p.acct == "*" || r.acct == p.acct) && (p.ps == "*" || r.ps == p.ps)
`

// Grant lets someone request access: who ("*", an email, or "group:<name>"),
// to which accounts and permission sets ("*" for all).
//
// Deprecated: scopes live on the permission sets of broker.RegistryData; use Compile.
type Grant struct {
	Who            string   `yaml:"who"`
	Accounts       []string `yaml:"accounts"`
	PermissionSets []string `yaml:"permission_sets"`
}

// Config is the authorization part of the old configuration file.
//
// Deprecated: use broker.RegistryData and Compile.
type Config struct {
	// Admins administer everything: view, terminate, register; they may
	// also request anything.
	Admins []string `yaml:"admins"`
	// Requesters may request access within their grants.
	Requesters []Grant `yaml:"requesters"`
	// RequestForOthers may file tickets whose beneficiaries include others.
	RequestForOthers []string `yaml:"request_for_others"`
}

// New compiles cfg into an Enforcer that answers only Allowed, as the first
// version did: MayApprove is always false and Rule finds nothing, until a
// Reload replaces it with a compiled registry.
//
// Deprecated: use Compile.
func New(cfg Config) (*Enforcer, error) {
	m, err := model.NewModelFromString(legacyModel)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	var rows [][]string
	add := func(sub string, act broker.Action, acct, ps string) {
		rows = append(rows, []string{strings.ToLower(sub), string(act), acct, ps})
	}
	for _, a := range cfg.Admins {
		add(a, "*", "*", "*")
	}
	for i, g := range cfg.Requesters {
		if g.Who == "" {
			return nil, fmt.Errorf("requesters[%d].who is required", i)
		}
		for _, acct := range orAll(g.Accounts) {
			for _, ps := range orAll(g.PermissionSets) {
				add(g.Who, broker.ActRequest, acct, ps)
			}
		}
	}
	for _, w := range cfg.RequestForOthers {
		add(w, broker.ActRequestForOthers, "*", "*")
	}
	if len(rows) > 0 {
		if _, err := ce.AddPolicies(rows); err != nil {
			return nil, fmt.Errorf("casbin policies: %w", err)
		}
	}
	e := &Enforcer{}
	e.cur.Store(&snapshot{legacy: ce})
	return e, nil
}

func orAll(xs []string) []string {
	if len(xs) == 0 {
		return []string{"*"}
	}
	return xs
}

// legacyAllowed: an empty account or permission set matches only rows for "*".
func (s *snapshot) legacyAllowed(u broker.User, act broker.Action, accountID, permissionSet string) (bool, error) {
	subjects := []string{strings.ToLower(u.Email), "*"}
	for _, g := range u.Groups {
		subjects = append(subjects, "group:"+strings.ToLower(g))
	}
	for _, sub := range subjects {
		ok, err := s.legacy.Enforce(sub, string(act), accountID, permissionSet)
		if err != nil {
			return false, fmt.Errorf("enforce: %w", err)
		} else if ok {
			return true, nil
		}
	}
	return false, nil
}
