package approvals

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

func ticket(requester string, beneficiaries ...string) *broker.Ticket {
	return &broker.Ticket{ID: "t1", State: broker.StatePending, Requester: requester, Beneficiaries: beneficiaries, AccountID: "111111111111", PermissionSet: "ReadOnlyAccess"}
}

// Rule and Stage are the registry's approval rule and stage.
type (
	Rule  = broker.ApprovalRule
	Stage = broker.RuleStage
)

// mustEngine returns an engine whose one rule covers every ticket.
func mustEngine(t *testing.T, rule Rule) *Engine {
	t.Helper()
	rules := &fake.Rules{}
	rules.Set(rule)
	return New(rules)
}

// planned returns a pending ticket of alice's with the engine's plan on it.
func planned(t *testing.T, e *Engine) *broker.Ticket {
	t.Helper()
	tk := ticket("alice@x.com", "alice@x.com")
	p, err := e.Plan(context.Background(), tk, false)
	if err != nil {
		t.Fatal(err)
	}
	tk.Stages, tk.Approvals, tk.PendingApprovers = p.Stages, []broker.Decision{}, p.Stages[0].Approvers
	return tk
}

func user(email string, groups ...string) broker.User {
	return broker.User{Email: email, Groups: groups}
}

func TestNoRule(t *testing.T) {
	e := New(&fake.Rules{})
	if _, err := e.Plan(context.Background(), ticket("alice@x.com", "alice@x.com"), false); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("plan without a rule: got %v, want invalid", err)
	}
}

// Two stages, 2 of 3 then 1 of 1: order enforced, the quorum counted
// exactly, nobody counted twice, nobody approving their own ticket.
func TestTwoStagesQuorum(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*", Stages: []Stage{
		{Approvers: []string{"a@x.com", "b@x.com", "c@x.com"}, Required: 2},
		{Approvers: []string{"d@x.com"}},
	}})
	tk := planned(t, e)
	now := time.Now()
	approve := func(who string) (bool, error) { return e.Approve(tk, user(who), nil, "", now) }
	type step struct {
		who       string
		wantCode  string
		wantDone  bool
		wantStage int
		wantN     int // approvals recorded
	}
	for i, s := range []step{
		{"d@x.com", broker.EFORBIDDEN, false, 0, 0}, // stage 2 approver in stage 1
		{"alice@x.com", broker.EFORBIDDEN, false, 0, 0},
		{"a@x.com", "", false, 0, 1},
		{"a@x.com", broker.ECONFLICT, false, 0, 1}, // same person twice
		{"d@x.com", broker.EFORBIDDEN, false, 0, 1},
		{"b@x.com", "", false, 1, 2}, // quorum of stage 1
		{"c@x.com", broker.EFORBIDDEN, false, 1, 2},
		{"a@x.com", broker.ECONFLICT, false, 1, 2},
		{"d@x.com", "", true, 2, 3},
		{"d@x.com", broker.ECONFLICT, false, 2, 3},
	} {
		done, err := approve(s.who)
		if got := broker.ErrorCode(err); got != s.wantCode || done != s.wantDone || tk.Stage != s.wantStage || len(tk.Approvals) != s.wantN {
			t.Fatalf("step %d (%s): code %q done %v stage %d approvals %d; want %q %v %d %d",
				i, s.who, got, done, tk.Stage, len(tk.Approvals), s.wantCode, s.wantDone, s.wantStage, s.wantN)
		}
		if s.wantStage == 1 && s.wantCode == "" && (len(tk.PendingApprovers) != 1 || tk.PendingApprovers[0] != "d@x.com") {
			t.Fatalf("pending approvers after stage 1: %v", tk.PendingApprovers)
		}
	}
}

func TestNoSelfApproval(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*", Stages: []Stage{{Approvers: []string{"bob@x.com"}}}})
	tk := ticket("bob@x.com", "bob@x.com")
	if _, err := e.Plan(context.Background(), tk, false); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("plan for the only approver's own ticket: got %v, want invalid", err)
	}
	tk = ticket("carol@x.com", "bob@x.com")
	tk.Stages = []broker.Stage{{Approvers: []string{"bob@x.com"}, Required: 1}}
	if _, err := e.Approve(tk, user("bob@x.com"), nil, "", time.Now()); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("beneficiary approving: got %v, want forbidden", err)
	}
}

func TestGroupApprovers(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*", Stages: []Stage{{Approvers: []string{"Group:SRE", "lead@x.com"}, Required: 2}}})
	tk := ticket("alice@x.com", "alice@x.com", "sam@x.com")
	p, err := e.Plan(context.Background(), tk, false)
	if err != nil {
		t.Fatal(err)
	}
	tk.Stages, tk.Approvals = p.Stages, []broker.Decision{}
	now := time.Now()
	for i, s := range []struct {
		u        broker.User
		wantCode string
		wantDone bool
	}{
		{user("eve@x.com", "dev"), broker.EFORBIDDEN, false},
		{user("sam@x.com", "sre"), broker.EFORBIDDEN, false}, // a beneficiary in the group
		{user("alice@x.com", "sre"), broker.EFORBIDDEN, false},
		// Group names are compared exactly: case, padding and Unicode
		// look-alikes are other groups.
		{user("sue@x.com", "SRE"), broker.EFORBIDDEN, false},
		{user("sue@x.com", " sre "), broker.EFORBIDDEN, false},
		{user("sue@x.com", "\u017fre"), broker.EFORBIDDEN, false}, // ſre
		{user("sue@x.com", "\uff53re"), broker.EFORBIDDEN, false}, // fullwidth s
		{user("sue@x.com", "sre"), "", false},
		{user("sue@x.com", "sre"), broker.ECONFLICT, false},
		{user("tom@x.com", "ops", "sre"), "", true},
	} {
		done, err := e.Approve(tk, s.u, nil, "", now)
		if got := broker.ErrorCode(err); got != s.wantCode || done != s.wantDone {
			t.Fatalf("step %d (%s): code %q done %v, want %q %v", i, s.u.Email, got, done, s.wantCode, s.wantDone)
		}
	}
}

func TestDelegation(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*", Stages: []Stage{
		{Approvers: []string{"bob@x.com", "lee@x.com", "group:leads"}, Required: 2},
	}})
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	// gus approves only through the group "leads": his delegate acts with
	// his groups now (FromGroups, filled by the broker from its group
	// directory at each decision), and without them with none.
	gusToDan := broker.Delegation{From: "gus@x.com", To: "dan@x.com", Start: t0, End: t0.Add(time.Hour), FromGroups: []string{"ops", "leads"}}
	gusLeftToDan := broker.Delegation{From: "gus@x.com", To: "dan@x.com", Start: t0, End: t0.Add(time.Hour), FromGroups: []string{"ops"}}
	bobToDan := broker.Delegation{From: "bob@x.com", To: "dan@x.com", Start: t0, End: t0.Add(time.Hour)}
	leadToDan := broker.Delegation{From: "lee@x.com", To: "dan@x.com", Start: t0, End: t0.Add(time.Hour)}
	danToEve := broker.Delegation{From: "dan@x.com", To: "eve@x.com", Start: t0, End: t0.Add(time.Hour)}
	bobToAlice := broker.Delegation{From: "bob@x.com", To: "alice@x.com", Start: t0, End: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name     string
		u        string
		dels     []broker.Delegation
		at       time.Time
		wantCode string
		wantFor  string
	}{
		{"before the window", "dan@x.com", []broker.Delegation{bobToDan}, t0.Add(-time.Second), broker.EFORBIDDEN, ""},
		{"at the start", "dan@x.com", []broker.Delegation{bobToDan}, t0, "", "bob@x.com"},
		{"inside the window", "dan@x.com", []broker.Delegation{bobToDan}, t0.Add(30 * time.Minute), "", "bob@x.com"},
		{"at the end", "dan@x.com", []broker.Delegation{bobToDan}, t0.Add(time.Hour), broker.EFORBIDDEN, ""},
		{"for another named approver", "dan@x.com", []broker.Delegation{leadToDan}, t0, "", "lee@x.com"},
		{"through the delegator's groups now", "dan@x.com", []broker.Delegation{gusToDan}, t0, "", "gus@x.com"},
		{"not through a group the delegator left", "dan@x.com", []broker.Delegation{gusLeftToDan}, t0, broker.EFORBIDDEN, ""},
		{"no re-delegation", "eve@x.com", []broker.Delegation{danToEve}, t0, broker.EFORBIDDEN, ""},
		{"to the requester", "alice@x.com", []broker.Delegation{bobToAlice}, t0, broker.EFORBIDDEN, ""},
		{"someone else's delegation", "eve@x.com", []broker.Delegation{bobToDan}, t0, broker.EFORBIDDEN, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := planned(t, e)
			d, err := e.Decide(tk, user(tc.u), tc.dels, tc.at)
			if got := broker.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("got code %q (%v), want %q", got, err, tc.wantCode)
			}
			if err == nil && (d.By != tc.u || d.For != tc.wantFor) {
				t.Fatalf("decision %s for %s, want %s for %s", d.By, d.For, tc.u, tc.wantFor)
			}
		})
	}

	t.Run("one count per person", func(t *testing.T) {
		tk := planned(t, e)
		if _, err := e.Approve(tk, user("bob@x.com"), nil, "", t0); err != nil {
			t.Fatal(err)
		}
		// bob approved himself; dan cannot count him again.
		if _, err := e.Approve(tk, user("dan@x.com"), []broker.Delegation{bobToDan}, "", t0); broker.ErrorCode(err) != broker.ECONFLICT {
			t.Fatalf("delegate of an approver who approved: got %v, want conflict", err)
		}
		done, err := e.Approve(tk, user("dan@x.com"), []broker.Delegation{bobToDan, leadToDan}, "", t0)
		if err != nil || !done {
			t.Fatalf("delegate for the lead: done=%v err=%v", done, err)
		}
		if got := tk.Approvals[1]; got.By != "dan@x.com" || got.For != "lee@x.com" || got.Actor() != "dan@x.com for lee@x.com" {
			t.Fatalf("recorded %+v, want dan for lee", got)
		}
	})

	t.Run("delegate cannot count for two", func(t *testing.T) {
		tk := planned(t, e)
		if _, err := e.Approve(tk, user("dan@x.com"), []broker.Delegation{bobToDan, leadToDan}, "", t0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Approve(tk, user("dan@x.com"), []broker.Delegation{bobToDan, leadToDan}, "", t0); broker.ErrorCode(err) != broker.ECONFLICT {
			t.Fatalf("second approval by the same delegate: got %v, want conflict", err)
		}
		if _, err := e.Approve(tk, user("bob@x.com"), nil, "", t0); broker.ErrorCode(err) != broker.ECONFLICT {
			t.Fatalf("delegator after the delegate acted for him: got %v, want conflict", err)
		}
	})
}

func TestExtensionRound(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*",
		Stages:          []Stage{{Approvers: []string{"bob@x.com"}}},
		ExtensionStages: []Stage{{Approvers: []string{"carol@x.com"}}},
		LateApproval:    broker.LateKeepLength, Deadline: time.Hour, RemindEvery: time.Minute,
	})
	tk := planned(t, e)
	p, err := e.Plan(context.Background(), tk, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stages[0].Approvers[0] != "carol@x.com" || p.LateApproval != broker.LateKeepLength || p.Deadline != time.Hour || p.RemindEvery != time.Minute {
		t.Fatalf("extension plan %+v", p)
	}
	now := time.Now()
	if _, err := e.Approve(tk, user("bob@x.com"), nil, "", now); err != nil {
		t.Fatal(err)
	}
	tk.State = broker.StateActive
	if _, err := e.Decide(tk, user("carol@x.com"), nil, now); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("active ticket without an extension: got %v, want conflict", err)
	}
	tk.Extension = &broker.Extension{State: broker.ExtensionPending, Stages: p.Stages, Approvals: []broker.Decision{}}
	if _, err := e.Approve(tk, user("bob@x.com"), nil, "", now); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("ticket approver on the extension round: got %v, want forbidden", err)
	}
	if done, err := e.Approve(tk, user("carol@x.com"), nil, "", now); err != nil || !done {
		t.Fatalf("extension approval: done=%v err=%v", done, err)
	}
	if len(tk.Approvals) != 1 || len(tk.Extension.Approvals) != 1 {
		t.Fatalf("approvals: ticket %d extension %d, want 1 and 1", len(tk.Approvals), len(tk.Extension.Approvals))
	}
}

// TestPlanRefusesDeadlock: a plan whose later stage could wait for an
// approver who used their one approval on an earlier stage is refused,
// naming the stages (issue 11, bug 2); the ticket's own parties are left
// out first, so a plan can deadlock for one ticket and not another.
func TestPlanRefusesDeadlock(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stages    []Stage
		requester string
		want      string // "" for a plan
	}{
		{"bob in both stages", []Stage{{Approvers: []string{"bob@x.com", "dave@x.com"}, Required: 1}, {Approvers: []string{"bob@x.com"}, Required: 1}}, "alice@x.com",
			"stage 2 needs 1 approval, but bob@x.com may already have approved stage 1"},
		{"one of two may be used", []Stage{{Approvers: []string{"bob@x.com", "dave@x.com", "erin@x.com"}, Required: 1}, {Approvers: []string{"bob@x.com", "dave@x.com"}, Required: 1}}, "alice@x.com", ""},
		{"the requester leaves one", []Stage{{Approvers: []string{"bob@x.com", "dave@x.com", "erin@x.com"}, Required: 1}, {Approvers: []string{"bob@x.com", "dave@x.com"}, Required: 1}}, "dave@x.com",
			"stage 2 needs 1 approval, but bob@x.com may already have approved stage 1"},
		{"a group supplies more", []Stage{{Approvers: []string{"bob@x.com"}, Required: 1}, {Approvers: []string{"bob@x.com", "group:sre"}, Required: 1}}, "alice@x.com", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEngine(t, Rule{Account: "*", Stages: tc.stages})
			_, err := e.Plan(context.Background(), ticket(tc.requester, tc.requester), false)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				return
			}
			if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Plan = %v, want invalid containing %q", err, tc.want)
			}
		})
	}
}

// TestPlanOnCall: a rule's on-call auto-approval is in the plan of a
// ticket, not of an extension (broker.autoApprove applies it at filing).
func TestPlanOnCall(t *testing.T) {
	oc := &broker.OnCallRule{Provider: broker.OnCallPagerDuty, Schedule: "P1"}
	e := mustEngine(t, Rule{Account: "*", Stages: []Stage{{Approvers: []string{"bob@x.com"}}}, AutoApproveOnCall: oc})
	tk := ticket("alice@x.com", "alice@x.com")
	if p, err := e.Plan(context.Background(), tk, false); err != nil || p.OnCall == nil || *p.OnCall != *oc {
		t.Fatalf("ticket plan: %+v %v, want the on-call rule", p, err)
	}
	if p, err := e.Plan(context.Background(), tk, true); err != nil || p.OnCall != nil {
		t.Fatalf("extension plan: %+v %v, want no on-call", p, err)
	}
}

// Plan asks the rule source with the groups the requester's sign-in
// carried when filing, and carries the rule's step-up.
func TestPlanRequesterGroupAndStepUp(t *testing.T) {
	e := mustEngine(t, Rule{Account: "*", RequesterGroup: "contractors", StepUpMaxAge: 10 * time.Minute, StepUpAMR: []string{"mfa"},
		Stages: []Stage{{Approvers: []string{"vendor-mgr@x.com"}, Required: 1}}})
	tk := ticket("alice@x.com", "alice@x.com")
	if _, err := e.Plan(context.Background(), tk, false); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("plan for a requester outside the rule's group: %v, want invalid (no rule)", err)
	}
	tk.RequesterGroups = []string{"engineers", "contractors"}
	p, err := e.Plan(context.Background(), tk, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Stages[0].Approvers; len(got) != 1 || got[0] != "vendor-mgr@x.com" {
		t.Errorf("approvers %v, want the contractors' rule's", got)
	}
	if p.StepUp.MaxAge != 10*time.Minute || len(p.StepUp.AMR) != 1 || p.StepUp.AMR[0] != "mfa" {
		t.Errorf("step-up %+v, want the rule's", p.StepUp)
	}
}

// StepUp.Check: the decision table of sign-ins.
func TestStepUpCheck(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	su := broker.StepUp{MaxAge: 10 * time.Minute, AMR: []string{"mfa", "hwk"}}
	for _, c := range []struct {
		name string
		u    broker.User
		ok   bool
	}{
		{"fresh mfa", broker.User{AuthTime: now.Add(-time.Minute), AMR: []string{"pwd", "mfa"}}, true},
		{"just at the limit", broker.User{AuthTime: now.Add(-10 * time.Minute), AMR: []string{"hwk"}}, true},
		{"too old", broker.User{AuthTime: now.Add(-11 * time.Minute), AMR: []string{"mfa"}}, false},
		{"no auth_time", broker.User{AMR: []string{"mfa"}}, false},
		{"password only", broker.User{AuthTime: now, AMR: []string{"pwd"}}, false},
	} {
		err := su.Check(c.u, now, "approving ticket t1")
		if got := err == nil; got != c.ok {
			t.Errorf("%s: %v, want ok %v", c.name, err, c.ok)
		}
		if err != nil && broker.ErrorCode(err) != broker.ESTEPUP {
			t.Errorf("%s: code %s, want %s", c.name, broker.ErrorCode(err), broker.ESTEPUP)
		}
	}
	acr := broker.StepUp{ACR: []string{"urn:mace:incommon:iap:silver"}}
	if err := acr.Check(broker.User{ACR: "0"}, now, "x"); broker.ErrorCode(err) != broker.ESTEPUP {
		t.Errorf("wrong acr: %v, want step_up_required", err)
	}
	if err := (broker.StepUp{}).Check(broker.User{}, now, "x"); err != nil {
		t.Errorf("no step-up asked: %v", err)
	}
}
