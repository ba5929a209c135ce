package main

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/policies"
)

// legacyAuthorization is the old top-level `authorization:` section, still
// read so that older config files keep working; seed() folds it into the
// registry seed.
type legacyAuthorization struct {
	Admins     []string `yaml:"admins"`
	Requesters []struct {
		Who            string   `yaml:"who"`
		Accounts       []string `yaml:"accounts"`
		PermissionSets []string `yaml:"permission_sets"`
	} `yaml:"requesters"`
	RequestForOthers []string `yaml:"request_for_others"`
}

// seed returns the registry seed of the config: the `registry:` section,
// with the deprecated top-level `approval_rules:` and `authorization:`
// sections folded in (requesters become permission set scopes). The result
// is normalized.
func (c *Config) seed() (broker.RegistryData, error) {
	r := c.Registry.Clone()
	r.ApprovalRules = append(r.ApprovalRules, c.ApprovalRules...)
	a := c.Authorization
	r.Admins = append(r.Admins, a.Admins...)
	r.RequestForOthers = append(r.RequestForOthers, a.RequestForOthers...)
	for i, g := range a.Requesters {
		group := g.Who
		switch {
		case group == "*":
		case strings.HasPrefix(group, broker.GroupPrefix):
			group = strings.TrimPrefix(group, broker.GroupPrefix)
		default:
			return r, fmt.Errorf("authorization.requesters[%d].who %q: scopes name groups (or \"*\"); use registry.permission_sets[].scope.requester_groups", i, g.Who)
		}
		accounts := g.Accounts
		if len(accounts) == 0 {
			accounts = []string{"*"}
		}
		for j := range r.PermissionSets {
			p := &r.PermissionSets[j]
			if len(g.PermissionSets) > 0 && !slices.Contains(g.PermissionSets, "*") && !slices.Contains(g.PermissionSets, p.Name) {
				continue
			}
			p.Scope.Accounts = addMissing(p.Scope.Accounts, accounts...)
			p.Scope.RequesterGroups = addMissing(p.Scope.RequesterGroups, group)
		}
	}
	broker.NormalizeRegistry(&r)
	return r, nil
}

func addMissing(xs []string, add ...string) []string {
	for _, a := range add {
		if !slices.Contains(xs, a) {
			xs = append(xs, a)
		}
	}
	return xs
}

// checkSeed validates the seed the way an apply would, naming the field
// under registry.
func checkSeed(r broker.RegistryData) error {
	if reflect.DeepEqual(r, broker.RegistryData{}) {
		return nil
	}
	if err := broker.CheckRegistry(r); err != nil {
		return fmt.Errorf("registry.%s", broker.ErrorMessage(err))
	}
	if err := policies.Validate(r); err != nil {
		return fmt.Errorf("registry: %s", broker.ErrorMessage(err))
	}
	return nil
}

// seedRegistry stores the config's seed when Redis holds no registry yet,
// and returns the registry in force. Once a registry is stored, the config's
// registry sections are ignored: `jit admin apply` changes it.
func seedRegistry(ctx context.Context, reg *redisstore.Registry, seed broker.RegistryData, logger *slog.Logger) (broker.RegistryData, error) {
	_, v, err := reg.Registry(ctx)
	if err != nil {
		return broker.RegistryData{}, err
	}
	if v == 0 {
		if reflect.DeepEqual(seed, broker.RegistryData{}) {
			logger.Warn("no registry in Redis and no registry section in the config: nobody administers JIT until a seed is given")
		} else if seeded, err := reg.Seed(ctx, seed); err != nil {
			return broker.RegistryData{}, fmt.Errorf("seed registry: %w", err)
		} else if seeded {
			logger.Info("registry seeded from the config file")
		}
	} else {
		logger.Debug("registry in Redis; the config's registry section is ignored", "version", v)
	}
	r, _, err := reg.Registry(ctx)
	return r, err
}
