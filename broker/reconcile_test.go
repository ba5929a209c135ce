package broker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
)

// gCleaner answers what each account's deny lists give up: removed by
// "role/<account>" or "portal/<account>"; fail names accounts whose role
// list cannot be read.
type gCleaner struct {
	removed map[string]int
	fail    map[string]bool
}

func (c *gCleaner) PruneRole(_ context.Context, accountID, _ string) (int, error) {
	if c.fail[accountID] {
		return 0, errors.New("access denied to iam in " + accountID)
	}
	n := c.removed["role/"+accountID]
	c.removed["role/"+accountID] = 0
	return n, nil
}

func (c *gCleaner) PrunePortal(_ context.Context, accountID, _ string) (int, error) {
	n := c.removed["portal/"+accountID]
	c.removed["portal/"+accountID] = 0
	return n, nil
}

// The reconciler counts deny entries it removed and lists it rewrote, not
// lists it looked at (it reported "Deny lists pruned: 5" here on every
// pass), per account; an account that fails is reported and the pass
// carries on with the next ones, and with the account's other lists.
func TestReconcilerCountsPrunedEntries(t *testing.T) {
	e := newGrantEnv(t, broker.GrantRole)
	reg := broker.RegistryData{
		Accounts: []broker.Account{{ID: "333333333333", Name: "broken"}, {ID: "111111111111", Name: "dev"}, {ID: "222222222222", Name: "prod"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole, MaxDuration: time.Hour},
			{Name: "PowerUserAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-2", GrantPath: broker.GrantIdentityCenter, MaxDuration: time.Hour},
		},
	}
	clean := &gCleaner{removed: map[string]int{}, fail: map[string]bool{"333333333333": true}}
	svc := e.rewire(t, func(c *broker.ServiceConfig) { c.RegistryStore, c.Cleaner = &gRegistryStore{r: reg}, clean })
	ctx := context.Background()

	// Nothing has expired: nothing pruned, only the failure reported.
	rep, err := svc.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pruned != 0 || rep.PrunedLists != 0 {
		t.Errorf("nothing expired: pruned %d entries in %d lists, want 0", rep.Pruned, rep.PrunedLists)
	}
	wantErr := "deny list of role ReadOnlyAccess in 333333333333: internal error"
	want := []broker.AccountReconcile{{AccountID: "333333333333", Errors: []string{wantErr}}}
	if diff := cmp.Diff(want, rep.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
	if len(rep.Errors) != 1 {
		t.Errorf("errors %q, want the broken account's", rep.Errors)
	}

	// Some entries have expired, in the broken account too (its portal
	// deny is reachable).
	clean.removed = map[string]int{"role/111111111111": 4, "portal/222222222222": 1, "role/222222222222": 2, "portal/333333333333": 3}
	if rep, err = svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if rep.Pruned != 10 || rep.PrunedLists != 4 {
		t.Errorf("pruned %d entries in %d lists, want 10 in 4", rep.Pruned, rep.PrunedLists)
	}
	want = []broker.AccountReconcile{
		{AccountID: "333333333333", Pruned: 3, PrunedLists: 1, Errors: []string{wantErr}},
		{AccountID: "111111111111", Pruned: 4, PrunedLists: 1},
		{AccountID: "222222222222", Pruned: 3, PrunedLists: 2},
	}
	if diff := cmp.Diff(want, rep.Accounts); diff != "" {
		t.Errorf("accounts (-want +got):\n%s", diff)
	}
}
