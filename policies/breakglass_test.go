package policies

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Break-glass decisions: the first rule (registry order) that names the
// user, by email (normalised) or group, and covers the set (by name,
// through its permission set group, or "*") in the account (or "*").
func TestBreakGlassDecisions(t *testing.T) {
	reg := tableRegistry()
	rule := func(people, accounts, sets []string, max time.Duration) broker.BreakGlassRule {
		return broker.BreakGlassRule{People: people, Accounts: accounts, PermissionSets: sets, MaxDuration: max,
			ReviewWithin: time.Hour, EscalateTo: []string{"ciso@x.com"}}
	}
	reg.BreakGlass = []broker.BreakGlassRule{
		0: rule([]string{"group:oncall"}, []string{prod}, []string{"Admin"}, 30*time.Minute),
		1: rule([]string{"Ann@x.com"}, []string{"*"}, []string{"group:dev-sets"}, time.Hour),
		2: rule([]string{"group:oncall", "zed@x.com"}, []string{"*"}, []string{"*"}, 2*time.Hour),
	}
	e, err := Compile(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		u        broker.User
		acct, ps string
		want     time.Duration // the rule's max_duration; 0: refused
	}{
		{"on call, first rule", user("o@x.com", "oncall"), prod, "Admin", 30 * time.Minute},
		{"on call, other set: the catch-all", user("o@x.com", "oncall"), prod, "Billing", 2 * time.Hour},
		{"email normalised in the registry", user("ann@x.com"), sandbox, "DataSci", time.Hour},
		{"through the set's group only", user("ann@x.com"), prod, "Admin", 0},
		{"email, catch-all", user("zed@x.com"), dev, "ReadOnly", 2 * time.Hour},
		{"not named", user("eve@x.com", "devs"), prod, "Admin", 0},
		{"a group name as email does not match", user("oncall"), prod, "Admin", 0},
		{"no account", user("zed@x.com"), "", "ReadOnly", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := e.BreakGlass(context.Background(), tc.u, tc.acct, tc.ps)
			if err != nil {
				t.Fatal(err)
			}
			if ok != (tc.want != 0) || got.MaxDuration != tc.want {
				t.Errorf("BreakGlass = %v, %+v; want rule with max %s", ok, got, tc.want)
			}
		})
	}
	// Allowed knows no break-glass action: only BreakGlass decides it.
	if ok, _ := e.Allowed(context.Background(), user("o@x.com", "oncall"), "break_glass", prod, "Admin"); ok {
		t.Error("Allowed(break_glass) is true")
	}
}
