package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// swapRules gives one rule to every ticket; a test changes it as an
// administrator changes the registry.
type swapRules struct{ fake.Rules }

func (s *swapRules) set(t *testing.T, stages, extension []broker.RuleStage) {
	t.Helper()
	s.Set(broker.ApprovalRule{Account: "*", Stages: stages, ExtensionStages: extension})
}

// noAdmins lets everyone request and nobody administer.
type noAdmins struct{}

func (noAdmins) Allowed(_ context.Context, _ broker.User, act broker.Action, _, _ string) (bool, error) {
	return act == broker.ActRequest, nil
}

func stage(required int, approvers ...string) broker.RuleStage {
	return broker.RuleStage{Approvers: approvers, Required: required}
}

// TestReplan: a decision on a pending ticket (or extension) follows the
// rule in force (docs/authorization.md, "A rule that changes under a
// pending ticket").
func TestReplan(t *testing.T) {
	type step struct {
		who      string
		wantCode string
	}
	for _, tc := range []struct {
		name       string
		rule       []broker.RuleStage
		before     []string // approvals under rule
		changed    []broker.RuleStage
		after      []step
		wantState  broker.State
		wantStage  int
		wantBy     []string // approvals that count at the end
		wantReplan bool
	}{
		{name: "unchanged", rule: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")},
			after:   []step{{"b@x.com", ""}}, wantState: broker.StateApproved, wantStage: 2, wantBy: []string{"a@x.com", "b@x.com"}},
		{name: "a stage added", rule: []broker.RuleStage{stage(1, "a@x.com")},
			changed: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")},
			after:   []step{{"a@x.com", ""}}, wantState: broker.StatePending, wantStage: 1, wantBy: []string{"a@x.com"}, wantReplan: true},
		{name: "a stage added after a completed one", rule: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com"), stage(1, "c@x.com")},
			after:   []step{{"b@x.com", ""}, {"c@x.com", ""}}, wantState: broker.StateApproved, wantStage: 3, wantBy: []string{"a@x.com", "b@x.com", "c@x.com"}, wantReplan: true},
		{name: "the approver of the open stage replaced", rule: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "c@x.com")},
			after:   []step{{"b@x.com", broker.ENOTFOUND}, {"c@x.com", ""}}, wantState: broker.StateApproved, wantStage: 2, wantBy: []string{"a@x.com", "c@x.com"}, wantReplan: true},
		{name: "a changed first stage drops its approvals", rule: []broker.RuleStage{stage(2, "a@x.com", "b@x.com", "c@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(2, "b@x.com", "c@x.com", "d@x.com")},
			after:   []step{{"a@x.com", broker.ENOTFOUND}, {"b@x.com", ""}}, wantState: broker.StatePending, wantStage: 0, wantBy: []string{"b@x.com"}, wantReplan: true},
		{name: "a lowered quorum completes nothing by itself", rule: []broker.RuleStage{stage(2, "a@x.com", "b@x.com", "c@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com", "b@x.com", "c@x.com")},
			after:   []step{{"b@x.com", ""}}, wantState: broker.StateApproved, wantStage: 1, wantBy: []string{"b@x.com"}, wantReplan: true},
		{name: "a dropped last stage: the stage in force is decided again", rule: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com")},
			// A refused decision stores nothing: the stored plan waits for the next one.
			after: []step{{"b@x.com", broker.ENOTFOUND}}, wantState: broker.StatePending, wantStage: 1, wantBy: []string{"a@x.com"}},
		{name: "a dropped last stage, then its approval", rule: []broker.RuleStage{stage(1, "a@x.com"), stage(1, "b@x.com")}, before: []string{"a@x.com"},
			changed: []broker.RuleStage{stage(1, "a@x.com")},
			after:   []step{{"a@x.com", ""}}, wantState: broker.StateApproved, wantStage: 1, wantBy: []string{"a@x.com"}, wantReplan: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules := &swapRules{}
			rules.set(t, tc.rule, nil)
			svc, _ := newReplanService(t, rules)
			tk, err := svc.CreateTicket(asEmail(tRequester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
				Start: replanNow.Add(time.Hour), End: replanNow.Add(2 * time.Hour), Reason: "replan"})
			if err != nil {
				t.Fatal(err)
			}
			for _, who := range tc.before {
				if _, err := svc.Approve(asEmail(who), tk.ID, ""); err != nil {
					t.Fatalf("%s approves before the change: %v", who, err)
				}
			}
			rules.set(t, tc.changed, nil)
			for _, s := range tc.after {
				tk2, err := svc.Approve(asEmail(s.who), tk.ID, "")
				if got := broker.ErrorCode(err); got != s.wantCode {
					t.Fatalf("%s approves after the change: %v (%q), want %q", s.who, err, got, s.wantCode)
				}
				if err == nil {
					tk = tk2
				}
			}
			tk, err = svc.Ticket(asEmail(tRequester), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			var by []string
			for _, a := range tk.Approvals {
				by = append(by, a.By)
			}
			if tk.State != tc.wantState || tk.Stage != tc.wantStage || !slices.Equal(by, tc.wantBy) {
				t.Errorf("got %s at stage %d approved by %v, want %s at stage %d approved by %v", tk.State, tk.Stage, by, tc.wantState, tc.wantStage, tc.wantBy)
			}
			replanned := slices.ContainsFunc(tk.History, func(e broker.Event) bool { return e.Action == "replan" })
			if replanned != tc.wantReplan {
				t.Errorf("replan in history: %v, want %v (%+v)", replanned, tc.wantReplan, tk.History)
			}
		})
	}
}

// An extension round follows the rule's extension stages in force; an
// approver or delegate of the stored round who left them is refused.
func TestReplanExtension(t *testing.T) {
	rules := &swapRules{}
	rules.set(t, []broker.RuleStage{stage(1, "a@x.com")}, []broker.RuleStage{stage(1, "x1@x.com", "x2@x.com")})
	svc, clock := newReplanService(t, rules)
	tk, err := svc.CreateTicket(asEmail(tRequester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
		End: replanNow.Add(time.Hour), Reason: "replan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Approve(asEmail("a@x.com"), tk.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Delegate(asEmail("x2@x.com"), broker.DelegateInput{To: "del@x.com", End: replanNow.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := svc.Extend(asEmail(tRequester), tk.ID, broker.ExtendInput{By: 30 * time.Minute, Reason: "more"}); err != nil {
		t.Fatal(err)
	}
	rules.set(t, []broker.RuleStage{stage(1, "a@x.com")}, []broker.RuleStage{stage(1, "x3@x.com")})
	for _, who := range []string{"x1@x.com", "del@x.com"} {
		if _, err := svc.Approve(asEmail(who), tk.ID, ""); broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Errorf("%s approves the extension after leaving its stages: %v, want not_found", who, err)
		}
	}
	got, err := svc.Approve(asEmail("x3@x.com"), tk.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Extension.State != broker.ExtensionApproved || !got.End.Equal(replanNow.Add(90*time.Minute)) {
		t.Errorf("extension %+v end %s, want approved to %s", got.Extension, got.End, replanNow.Add(90*time.Minute))
	}
}

var replanNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func newReplanService(t *testing.T, rules *swapRules) (*broker.Service, *fake.Clock) {
	t.Helper()
	clock := fake.NewClock(replanNow)
	aws := &gAWS{assignments: map[string]bool{}}
	reg := &broker.StaticRegistry{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "Approved", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true}},
	}
	n := 0
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: fake.NewStore(), Scheduler: &gSched{}, Registry: reg, Authorizer: noAdmins{},
		Approvals: approvals.New(rules), Minter: aws, Revoker: aws, Clock: clock, Delegations: fake.NewStore(),
		NewID: func() string { n++; return "r" + string(rune('0'+n)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, clock
}
