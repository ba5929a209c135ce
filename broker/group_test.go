package broker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// grpSched fails every task of one ticket.
type grpSched struct{ failFor string }

func (s *grpSched) Schedule(_ context.Context, _ broker.TaskKind, id string, _ time.Time) error {
	if id == s.failFor {
		return broker.Errorf(broker.EUNAVAILABLE, "redis is down")
	}
	return nil
}

func (s *grpSched) Unschedule(context.Context, broker.TaskKind, string) error { return nil }

func newGroupService(t *testing.T, sched broker.Scheduler) (*broker.Service, *fake.Store) {
	t.Helper()
	engine := approvals.New(fake.NewRules(broker.RuleStage{Approvers: []string{"bob@example.com"}}))
	store := fake.NewStore()
	reg := &broker.StaticRegistry{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "one"}, {ID: "222222222222", Name: "two"}, {ID: "333333333333", Name: "three"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true}},
	}
	n := 0
	svc, err := broker.NewService(broker.ServiceConfig{Store: store, Scheduler: sched, Registry: reg, Authorizer: dAuthz{},
		Approvals: engine, Minter: dNoop{}, Revoker: dNoop{}, NewID: func() string { n++; return fmt.Sprintf("n%d", n) }})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func TestCreateGroup(t *testing.T) {
	ctx := broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
	in := broker.CreateTicketInput{AccountID: "111111111111", Accounts: []string{"222222222222", "111111111111", "333333333333"},
		PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: "three"}

	t.Run("one ticket per account, linked", func(t *testing.T) {
		svc, store := newGroupService(t, &grpSched{})
		first, err := svc.CreateTicket(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if store.Len() != 3 || len(first.GroupTickets) != 3 || first.Group == "" || first.ID != first.GroupTickets[0] {
			t.Fatalf("stored %d, first %s group %q %v", store.Len(), first.ID, first.Group, first.GroupTickets)
		}
		for i, acct := range []string{"111111111111", "222222222222", "333333333333"} {
			tk := store.Get(first.GroupTickets[i])
			if tk.AccountID != acct || tk.Group != first.Group || tk.State != broker.StatePending {
				t.Errorf("member %d: %s %q %s", i, tk.AccountID, tk.Group, tk.State)
			}
		}
	})

	t.Run("a bad account creates nothing", func(t *testing.T) {
		for _, bad := range []string{"999999999999", "12", ""} {
			svc, store := newGroupService(t, &grpSched{})
			bin := in
			bin.Accounts = append(slices.Clone(in.Accounts), bad)
			_, err := svc.CreateTicket(ctx, bin)
			if bad == "" {
				if err != nil || store.Len() != 3 {
					t.Errorf("an empty account is ignored: %v, %d stored", err, store.Len())
				}
				continue
			}
			if err == nil || broker.ErrorCode(err) == broker.EINTERNAL || !strings.Contains(err.Error(), bad) || store.Len() != 0 {
				t.Errorf("account %q: err %v, %d stored; want a coded error naming it and nothing stored", bad, err, store.Len())
			}
		}
	})

	t.Run("break-glass and too many accounts are refused", func(t *testing.T) {
		svc, store := newGroupService(t, &grpSched{})
		bg := in
		bg.BreakGlass = true
		if _, err := svc.CreateTicket(ctx, bg); broker.ErrorCode(err) != broker.EINVALID {
			t.Errorf("break-glass group: %v", err)
		}
		many := in
		many.Accounts = nil
		for i := range broker.MaxGroupAccounts + 1 {
			many.Accounts = append(many.Accounts, fmt.Sprintf("%012d", i))
		}
		if _, err := svc.CreateTicket(ctx, many); broker.ErrorCode(err) != broker.EINVALID {
			t.Errorf("%d accounts: %v", len(many.Accounts), err)
		}
		if store.Len() != 0 {
			t.Errorf("stored %d", store.Len())
		}
	})

	t.Run("a failure part way withdraws the members stored", func(t *testing.T) {
		// ids: n1-n3 checking, n4 the group, n5-n7 the members.
		svc, store := newGroupService(t, &grpSched{failFor: "n7"})
		if _, err := svc.CreateTicket(ctx, in); broker.ErrorCode(err) != broker.EUNAVAILABLE || !strings.Contains(err.Error(), "333333333333") {
			t.Fatalf("err %v, want EUNAVAILABLE naming 333333333333", err)
		}
		if store.Get("n7") != nil {
			t.Errorf("the failed member is stored")
		}
		for _, id := range []string{"n5", "n6"} {
			if tk := store.Get(id); tk == nil || tk.State != broker.StateCancelled {
				t.Errorf("member %s: %+v, want cancelled", id, tk)
			}
		}
	})
}
