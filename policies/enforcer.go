package policies

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/jitaccess/jit/broker"
)

//go:embed model.conf
var modelText string

// Grant lets someone request access: who ("*", an email, or "group:<name>"),
// to which accounts and permission sets ("*" for all).
type Grant struct {
	Who            string   `yaml:"who"`
	Accounts       []string `yaml:"accounts"`
	PermissionSets []string `yaml:"permission_sets"`
}

// Config is the authorization part of the registry.
type Config struct {
	// Admins administer everything: view, terminate, register.
	Admins []string `yaml:"admins"`
	// Requesters may request access within their grants.
	Requesters []Grant `yaml:"requesters"`
	// RequestForOthers may file tickets whose beneficiaries include others.
	RequestForOthers []string `yaml:"request_for_others"`
}

// Enforcer implements broker.Authorizer with Casbin.
type Enforcer struct {
	mu sync.Mutex // casbin's enforcer caches g() results; keep calls serial
	e  *casbin.Enforcer
}

var _ broker.Authorizer = (*Enforcer)(nil)

// New compiles cfg into a Casbin enforcer.
func New(cfg Config) (*Enforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	add := func(sub string, act broker.Action, acct, ps string) error {
		_, err := e.AddPolicy(strings.ToLower(sub), string(act), acct, ps)
		return err
	}
	for _, a := range cfg.Admins {
		if err := add(a, "*", "*", "*"); err != nil {
			return nil, err
		}
	}
	for i, g := range cfg.Requesters {
		if g.Who == "" {
			return nil, fmt.Errorf("requesters[%d].who is required", i)
		}
		for _, acct := range orAll(g.Accounts) {
			for _, ps := range orAll(g.PermissionSets) {
				if err := add(g.Who, broker.ActRequest, acct, ps); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, w := range cfg.RequestForOthers {
		if err := add(w, broker.ActRequestForOthers, "*", "*"); err != nil {
			return nil, err
		}
	}
	return &Enforcer{e: e}, nil
}

func orAll(xs []string) []string {
	if len(xs) == 0 {
		return []string{"*"}
	}
	return xs
}

// Allowed reports whether u may perform act on the account and permission
// set. An empty account or permission set matches only policies for "*".
func (en *Enforcer) Allowed(_ context.Context, u broker.User, act broker.Action, accountID, permissionSet string) (bool, error) {
	subjects := []string{strings.ToLower(u.Email), "*"}
	for _, g := range u.Groups {
		subjects = append(subjects, "group:"+strings.ToLower(g))
	}
	en.mu.Lock()
	defer en.mu.Unlock()
	for _, sub := range subjects {
		ok, err := en.e.Enforce(sub, string(act), accountID, permissionSet)
		if err != nil {
			return false, fmt.Errorf("enforce: %w", err)
		} else if ok {
			return true, nil
		}
	}
	return false, nil
}
