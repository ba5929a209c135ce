package broker

import (
	"context"
	"slices"
	"strings"
)

// maxAccessChecks bounds the authorizer calls one Access makes; past it the
// answer is marked Truncated.
const maxAccessChecks = 2000

// Access is what the caller may do, for GET /me.
type Access struct {
	Admin            bool `json:"admin"`
	RequestForOthers bool `json:"request_for_others"`
	// MayRequest lists, per permission set, the accounts the caller may
	// request it in.
	MayRequest []Requestable `json:"may_request"`
	// Approves lists the approval rules ("<account>/<permission set>") with
	// a stage naming the caller or one of their groups.
	Approves []string `json:"approves"`
	// MayBreakGlass lists, per permission set, the accounts the caller
	// may break glass into (BreakGlassRule); empty for most people.
	MayBreakGlass []Requestable `json:"may_break_glass"`
	// Truncated is set when MayRequest was cut short on a large registry.
	Truncated bool `json:"truncated,omitempty"`
}

// Requestable is a permission set and the accounts it may be requested in.
type Requestable struct {
	PermissionSet string   `json:"permission_set"`
	Accounts      []string `json:"accounts"`
}

// Access answers what the caller may request and approve. The scopes only
// narrow down the candidates; every answer comes from the Authorizer.
// Errors: EUNAUTHENTICATED.
func (s *Service) Access(ctx context.Context) (Access, error) {
	u, err := caller(ctx)
	if err != nil {
		return Access{}, err
	}
	out := Access{MayRequest: []Requestable{}, MayBreakGlass: []Requestable{}, Approves: []string{}}
	if out.Admin, err = s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
		return Access{}, err
	}
	if out.RequestForOthers, err = s.cfg.Authorizer.Allowed(ctx, u, ActRequestForOthers, "", ""); err != nil {
		return Access{}, err
	}
	if s.cfg.RegistryStore == nil {
		return out, nil
	}
	r, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return Access{}, err
	}
	checks := 0
	for _, p := range r.PermissionSets {
		// A workload's sets are in its registry entry, not the scope's groups.
		if !out.Admin && !IsWorkload(u.Email) && !slices.Contains(p.Scope.RequesterGroups, "*") && !slices.ContainsFunc(p.Scope.RequesterGroups, func(g string) bool { return u.InGroup(strings.TrimPrefix(g, GroupPrefix)) }) {
			continue
		}
		req := Requestable{PermissionSet: p.Name, Accounts: []string{}}
		for _, a := range r.Accounts {
			if !out.Admin && !slices.Contains(p.Scope.Accounts, "*") && !slices.Contains(p.Scope.Accounts, a.ID) {
				continue
			}
			if checks++; checks > maxAccessChecks {
				out.Truncated = true
				break
			}
			ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActRequest, a.ID, p.Name)
			if err != nil {
				return Access{}, err
			} else if ok {
				req.Accounts = append(req.Accounts, a.ID)
			}
		}
		if len(req.Accounts) > 0 {
			out.MayRequest = append(out.MayRequest, req)
		}
	}
	if out.MayBreakGlass, err = s.mayBreakGlass(ctx, u, r, &checks); err != nil {
		return Access{}, err
	} else if checks > maxAccessChecks {
		out.Truncated = true
	}
	for _, rule := range r.ApprovalRules {
		for _, st := range rule.Stages {
			if slices.ContainsFunc(st.Approvers, u.Is) {
				out.Approves = append(out.Approves, RuleKey(rule))
				break
			}
		}
	}
	return out, nil
}

// mayBreakGlass lists where u may break glass, asking the break-glass
// decision (BreakGlassRules) for each registered set and account while
// checks stays within maxAccessChecks.
func (s *Service) mayBreakGlass(ctx context.Context, u User, r RegistryData, checks *int) ([]Requestable, error) {
	out := []Requestable{}
	if s.cfg.BreakGlass == nil || len(r.BreakGlass) == 0 {
		return out, nil
	}
	for _, p := range r.PermissionSets {
		req := Requestable{PermissionSet: p.Name, Accounts: []string{}}
		for _, a := range r.Accounts {
			if *checks++; *checks > maxAccessChecks {
				break
			}
			_, ok, err := s.cfg.BreakGlass.BreakGlass(ctx, u, a.ID, p.Name)
			if err != nil {
				return nil, err
			} else if ok {
				req.Accounts = append(req.Accounts, a.ID)
			}
		}
		if len(req.Accounts) > 0 {
			out = append(out, req)
		}
	}
	return out, nil
}
