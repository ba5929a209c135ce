package policies

import (
	"context"
	"testing"

	"github.com/jitaccess/jit/broker"
)

func TestAllowed(t *testing.T) {
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
		got, err := e.Allowed(context.Background(), tc.u, tc.act, tc.acct, tc.ps)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
