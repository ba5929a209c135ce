package approvals

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

func ticket(requester string, beneficiaries ...string) *broker.Ticket {
	return &broker.Ticket{ID: "t1", State: broker.StatePending, Requester: requester, Beneficiaries: beneficiaries, AccountID: "111111111111", PermissionSet: "ReadOnlyAccess"}
}

func TestMostSpecificRuleWins(t *testing.T) {
	e, err := New([]Rule{
		{Account: "*", Stages: []Stage{{Approvers: []string{"any@x.com"}}}},
		{Account: "111111111111", Stages: []Stage{{Approvers: []string{"acct@x.com"}}}},
		{Account: "111111111111", PermissionSet: "ReadOnlyAccess", Stages: []Stage{{Approvers: []string{"exact@x.com"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ acct, ps, want string }{
		{"111111111111", "ReadOnlyAccess", "exact@x.com"},
		{"111111111111", "PowerUserAccess", "acct@x.com"},
		{"222222222222", "ReadOnlyAccess", "any@x.com"},
	} {
		tk := ticket("alice@x.com", "alice@x.com")
		tk.AccountID, tk.PermissionSet = tc.acct, tc.ps
		stages, err := e.Plan(context.Background(), tk)
		if err != nil {
			t.Fatal(err)
		}
		if got := stages[0].Approvers[0]; got != tc.want {
			t.Errorf("%s/%s: got approver %s, want %s", tc.acct, tc.ps, got, tc.want)
		}
	}
}

func TestBadRules(t *testing.T) {
	for name, rules := range map[string][]Rule{
		"no stages":       {{Account: "*"}},
		"quorum too high": {{Account: "*", Stages: []Stage{{Approvers: []string{"a@x.com"}, Required: 2}}}},
		"duplicate":       {{Account: "*", Stages: []Stage{{Approvers: []string{"a@x.com"}}}}, {Stages: []Stage{{Approvers: []string{"b@x.com"}}}}},
	} {
		if _, err := New(rules); err == nil {
			t.Errorf("%s: New accepted bad rules", name)
		}
	}
}

func TestTwoStagesQuorum(t *testing.T) {
	e, err := New([]Rule{{Account: "*", Stages: []Stage{
		{Approvers: []string{"a@x.com", "b@x.com", "c@x.com"}, Required: 2},
		{Approvers: []string{"d@x.com"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	tk := ticket("alice@x.com", "alice@x.com")
	if tk.Stages, err = e.Plan(context.Background(), tk); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	approve := func(who string) (bool, error) { return e.Approve(tk, broker.User{Email: who}, "", now) }

	if _, err := approve("d@x.com"); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("stage 2 approver in stage 1: got %v, want forbidden", err)
	}
	if done, err := approve("a@x.com"); err != nil || done {
		t.Fatalf("first approval: done=%v err=%v", done, err)
	}
	if _, err := approve("a@x.com"); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("same approver twice: got %v, want conflict", err)
	}
	if done, err := approve("b@x.com"); err != nil || done || tk.Stage != 1 {
		t.Fatalf("quorum of stage 1: done=%v err=%v stage=%d", done, err, tk.Stage)
	}
	if done, err := approve("d@x.com"); err != nil || !done {
		t.Fatalf("stage 2: done=%v err=%v", done, err)
	}
}

func TestNoSelfApproval(t *testing.T) {
	e, err := New([]Rule{{Account: "*", Stages: []Stage{{Approvers: []string{"bob@x.com"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	tk := ticket("bob@x.com", "bob@x.com")
	if _, err := e.Plan(context.Background(), tk); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("plan for the only approver's own ticket: got %v, want invalid", err)
	}
	tk = ticket("carol@x.com", "bob@x.com")
	tk.Stages = []broker.Stage{{Approvers: []string{"bob@x.com"}, Required: 1}}
	if _, err := e.Approve(tk, broker.User{Email: "bob@x.com"}, "", time.Now()); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("beneficiary approving: got %v, want forbidden", err)
	}
}
