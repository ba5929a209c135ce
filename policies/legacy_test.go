package policies

import (
	"context"
	"testing"

	"github.com/jitaccess/jit/broker"
)

// TestLegacyNew keeps the deprecated Config path answering as before.
func TestLegacyNew(t *testing.T) {
	e, err := New(Config{
		Admins: []string{"carol@x.com"},
		Requesters: []Grant{
			{Who: "*", Accounts: []string{"111111111111"}, PermissionSets: []string{"ReadOnlyAccess"}},
			{Who: "group:ops", PermissionSets: []string{"PowerUserAccess"}},
		},
		RequestForOthers: []string{"group:leads"},
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := broker.User{Email: "alice@x.com"}
	ops := broker.User{Email: "olga@x.com", Groups: []string{"ops"}}
	lead := broker.User{Email: "lee@x.com", Groups: []string{"leads"}}
	carol := broker.User{Email: "carol@x.com"}
	for _, tc := range []struct {
		name     string
		u        broker.User
		act      broker.Action
		acct, ps string
		want     bool
	}{
		{"everyone may request read-only in dev", alice, broker.ActRequest, "111111111111", "ReadOnlyAccess", true},
		{"not in another account", alice, broker.ActRequest, "222222222222", "ReadOnlyAccess", false},
		{"not another permission set", alice, broker.ActRequest, "111111111111", "PowerUserAccess", false},
		{"group grant in any account", ops, broker.ActRequest, "333333333333", "PowerUserAccess", true},
		{"no request for others by default", alice, broker.ActRequestForOthers, "111111111111", "ReadOnlyAccess", false},
		{"request for others by group", lead, broker.ActRequestForOthers, "111111111111", "ReadOnlyAccess", true},
		{"admin administers", carol, broker.ActAdminister, "", "", true},
		{"admin requests anything", carol, broker.ActRequest, "333333333333", "AdministratorAccess", true},
		{"requester does not administer", alice, broker.ActAdminister, "111111111111", "ReadOnlyAccess", false},
		{"group admin of nothing", ops, broker.ActAdminister, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Allowed(context.Background(), tc.u, tc.act, tc.acct, tc.ps)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if ok, err := e.MayApprove(context.Background(), carol, "111111111111", "ReadOnlyAccess", 0); ok || err != nil {
		t.Errorf("legacy MayApprove = %v, %v; want false, nil", ok, err)
	}
	if _, ok := e.Rule("111111111111", "ReadOnlyAccess"); ok {
		t.Error("legacy Rule found a rule")
	}
	// A Reload turns it into a compiled enforcer.
	if err := e.Reload(tableRegistry()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.MayApprove(context.Background(), broker.User{Email: "mgr@x.com"}, sandbox, "ReadOnly", 0); !ok {
		t.Error("after Reload, MayApprove is still false")
	}
}

func TestLegacyNewRejectsEmptyWho(t *testing.T) {
	if _, err := New(Config{Requesters: []Grant{{Accounts: []string{"*"}}}}); err == nil {
		t.Error("New accepted a grant without who")
	}
}
