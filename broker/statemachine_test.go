package broker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// The ticket state machine, driven through broker.Service with the shared
// fakes: every transition (approve, reject, cancel, done, terminate) from
// every state, by every kind of actor, under the rule the ticket was filed
// with and under a rule changed after the request.
//
// The rule at filing is one stage, group:sre (lee and gus, as the group
// directory says). dan acts for gus through a delegation, so he approves
// through gus's group (issue 11, bug 1). The changed rule names erin only.
// alice requests for herself and ben; carol administers; eve is nobody.
var (
	smNow    = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	smActors = []string{"alice", "ben", "lee", "dan", "erin", "eve", "carol"}
	smRule   = broker.ApprovalRule{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"group:sre"}, Required: 1}}}
	smNewer  = broker.ApprovalRule{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"erin@x.com"}, Required: 1}}}
)

func smEmail(actor string) string { return actor + "@x.com" }

// smAuthz makes carol the only administrator.
type smAuthz struct{}

func (smAuthz) Allowed(_ context.Context, u broker.User, act broker.Action, _, _ string) (bool, error) {
	return act == broker.ActAdminister && u.Email == "carol@x.com", nil
}

// smTicket is ticket "t" in state st, filed under smRule; a decided ticket
// was approved by lee.
func smTicket(st broker.State) *broker.Ticket {
	t := &broker.Ticket{
		ID: "t", Revision: 1, State: st, Requester: "alice@x.com", Beneficiaries: []string{"alice@x.com", "ben@x.com"},
		AccountID: "111111111111", PermissionSet: "ReadOnly", Reason: "fix", LateApproval: broker.LateKeepEnd,
		Start: smNow.Add(-time.Hour), End: smNow.Add(time.Hour), CreatedAt: smNow.Add(-2 * time.Hour),
		Stages:    []broker.Stage{{Approvers: []string{"group:sre"}, Required: 1}},
		Approvals: []broker.Decision{},
	}
	switch st {
	case broker.StatePending:
		t.Start = smNow.Add(time.Hour)
		t.End = smNow.Add(2 * time.Hour)
		t.PendingApprovers = []string{"group:sre"}
	case broker.StateRejected:
		t.Closed = &broker.Decision{By: "lee@x.com", Comment: "no", At: smNow.Add(-time.Hour)}
	case broker.StateExpired:
		t.Stage, t.Approvals = 1, []broker.Decision{{By: "lee@x.com", At: smNow.Add(-3 * time.Hour)}}
		t.Start, t.End = smNow.Add(-2*time.Hour), smNow.Add(-time.Hour)
	default:
		t.Stage, t.Approvals = 1, []broker.Decision{{By: "lee@x.com", At: smNow.Add(-90 * time.Minute)}}
	}
	if st == broker.StateTerminated {
		t.Closed = &broker.Decision{By: "lee@x.com", At: smNow.Add(-time.Minute)}
	}
	return t
}

type smEnv struct {
	svc   *broker.Service
	store *fake.Store
	rules *fake.Rules
}

func newSMEnv(t *testing.T, st broker.State) *smEnv {
	t.Helper()
	e := &smEnv{store: fake.NewStore(smTicket(st)), rules: fake.OneRule(smRule)}
	if err := e.store.CreateDelegation(context.Background(), &broker.Delegation{ID: "d1", From: "gus@x.com", To: "dan@x.com",
		Start: smNow.Add(-time.Hour), End: smNow.Add(24 * time.Hour)}, func([]broker.Delegation) error { return nil }); err != nil {
		t.Fatal(err)
	}
	aws := &gAWS{assignments: map[string]bool{}}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: e.store, Delegations: e.store, Scheduler: &gSched{}, Authorizer: smAuthz{},
		Registry: &broker.StaticRegistry{
			Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{{Name: "ReadOnly", RoleName: "ReadOnly", MaxDuration: 8 * time.Hour, ApprovalRequired: true}},
		},
		Groups:    broker.ListDirectory{Groups: map[string][]string{"sre": {"lee@x.com", "gus@x.com"}}},
		Approvals: approvals.New(e.rules), Minter: aws, Revoker: aws, Clock: fake.NewClock(smNow),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// smAct runs action on ticket t as actor; lee signs in with his group.
func (e *smEnv) act(action, actor string) (*broker.Ticket, error) {
	u := broker.User{Email: smEmail(actor)}
	if actor == "lee" {
		u.Groups = []string{"sre"}
	}
	ctx := broker.WithUser(context.Background(), u)
	switch action {
	case "approve":
		return e.svc.Approve(ctx, "t", "ok")
	case "reject":
		return e.svc.Reject(ctx, "t", "no")
	case "cancel":
		return e.svc.Cancel(ctx, "t", "")
	case "done":
		return e.svc.Done(ctx, "t", "")
	case "terminate":
		return e.svc.Terminate(ctx, "t", "stop")
	}
	panic("unknown action " + action)
}

// TestStateMachine: each row is an action on a ticket in a state, under
// the rule it was filed with or a changed one, and what each actor (in
// smActors order) gets: F forbidden, NF not found (not theirs to see), C
// conflict, or the ticket's state after success. A refusal leaves the
// ticket exactly as it was.
func TestStateMachine(t *testing.T) {
	const (
		P = broker.StatePending
		A = broker.StateApproved
		X = broker.StateActive
		R = broker.StateRejected
		E = broker.StateExpired
		T = broker.StateTerminated
	)
	ended := []broker.State{R, E, T}
	type row struct {
		action  string
		state   broker.State
		changed bool   // the rule changed to smNewer after the request
		want    string // per actor: alice ben lee dan erin eve carol
	}
	rows := []row{
		{"approve", P, false, "F F approved approved NF NF F"},
		{"approve", P, true, "F F NF NF approved NF F"},
		{"reject", P, false, "F F rejected rejected NF NF F"},
		{"reject", P, true, "F F NF NF rejected NF F"},
		{"cancel", P, false, "cancelled F F F NF NF F"},
		{"cancel", P, true, "cancelled F NF NF F NF F"},
		{"done", P, false, "C C F F NF NF F"},
		{"done", P, true, "C C NF NF F NF F"},
		{"terminate", P, false, "F F C C NF NF C"},
		{"terminate", P, true, "F F NF NF C NF C"},
	}
	for _, st := range []broker.State{A, X} {
		rows = append(rows,
			row{"approve", st, false, "C C C C NF NF C"},
			row{"approve", st, true, "C C NF NF C NF C"},
			row{"reject", st, false, "C C C C NF NF C"},
			row{"reject", st, true, "C C NF NF C NF C"},
			row{"done", st, false, "terminated " + string(st) + " F F NF NF F"},
			row{"done", st, true, "terminated " + string(st) + " NF NF F NF F"},
			row{"terminate", st, false, "F F terminated terminated NF NF terminated"},
			row{"terminate", st, true, "F F NF NF terminated NF terminated"},
		)
	}
	rows = append(rows,
		row{"cancel", A, false, "cancelled F F F NF NF F"},
		row{"cancel", A, true, "cancelled F NF NF F NF F"},
		row{"cancel", X, false, "C F F F NF NF F"},
		row{"cancel", X, true, "C F NF NF F NF F"},
	)
	for _, st := range ended {
		rows = append(rows,
			row{"approve", st, false, "C C C C NF NF C"},
			row{"approve", st, true, "C C NF NF C NF C"},
			row{"reject", st, false, "C C C C NF NF C"},
			row{"reject", st, true, "C C NF NF C NF C"},
			row{"cancel", st, false, "C F F F NF NF F"},
			row{"cancel", st, true, "C F NF NF F NF F"},
			row{"done", st, false, "C C F F NF NF F"},
			row{"done", st, true, "C C NF NF F NF F"},
			row{"terminate", st, false, "F F C C NF NF C"},
			row{"terminate", st, true, "F F NF NF C NF C"},
		)
	}
	codes := map[string]string{"F": broker.EFORBIDDEN, "NF": broker.ENOTFOUND, "C": broker.ECONFLICT}
	cases := 0
	for _, r := range rows {
		want := strings.Fields(r.want)
		if len(want) != len(smActors) {
			t.Fatalf("row %s %s: %d outcomes for %d actors", r.action, r.state, len(want), len(smActors))
		}
		for i, actor := range smActors {
			cases++
			rules := "rule at filing"
			if r.changed {
				rules = "rule changed"
			}
			t.Run(r.action+"/"+string(r.state)+"/"+rules+"/"+actor, func(t *testing.T) {
				e := newSMEnv(t, r.state)
				if r.changed {
					e.rules.Set(smNewer)
				}
				before, _ := e.store.Ticket(context.Background(), "t")
				got, err := e.act(r.action, actor)
				if code, refused := codes[want[i]]; refused {
					if broker.ErrorCode(err) != code {
						t.Fatalf("got %v, want %s", err, code)
					}
					after, _ := e.store.Ticket(context.Background(), "t")
					if after.Version != before.Version {
						t.Fatalf("a refused %s changed the ticket (version %d -> %d)", r.action, before.Version, after.Version)
					}
					return
				}
				if err != nil {
					t.Fatalf("got %v, want the ticket %s", err, want[i])
				}
				if string(got.State) != want[i] {
					t.Fatalf("state %s, want %s", got.State, want[i])
				}
				smCheckActor(t, r.action, actor, got)
			})
		}
	}
	if cases < 60 {
		t.Fatalf("%d cases; the table shrank", cases)
	}
}

// smCheckActor checks who the history and decisions name after a success.
func smCheckActor(t *testing.T, action, actor string, got *broker.Ticket) {
	t.Helper()
	switch {
	case action == "approve" && actor == "dan":
		// The delegate of a member of the stage's only group (bug 1).
		if d := got.Approvals[len(got.Approvals)-1]; d.By != "dan@x.com" || d.For != "gus@x.com" {
			t.Fatalf("approval %+v, want dan for gus", d)
		}
	case action == "done" && actor == "ben":
		// A beneficiary's done ends only their access (bug 4).
		if !got.IsDone("ben@x.com") || got.IsDone("alice@x.com") {
			t.Fatalf("done %+v, want ben's only", got.Done)
		}
	}
	if last := got.History[len(got.History)-1]; !strings.HasPrefix(last.Actor, smEmail(actor)) {
		t.Fatalf("history names %q, want %s", last.Actor, smEmail(actor))
	}
}

// TestGroupDelegateNeedsGroupsNow: the delegate's rights are the
// delegator's groups at the moment of the decision, from the group
// directory: once gus leaves sre, dan no longer acts for him (issue 11,
// bug 1; delegated rights are never a snapshot).
func TestGroupDelegateNeedsGroupsNow(t *testing.T) {
	e := newSMEnv(t, broker.StatePending)
	dir := broker.ListDirectory{Groups: map[string][]string{"sre": {"lee@x.com"}}}
	aws := &gAWS{assignments: map[string]bool{}}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: e.store, Delegations: e.store, Scheduler: &gSched{}, Authorizer: smAuthz{},
		Registry:  &broker.StaticRegistry{Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}}},
		Groups:    dir,
		Approvals: approvals.New(e.rules), Minter: aws, Revoker: aws, Clock: fake.NewClock(smNow),
	})
	if err != nil {
		t.Fatal(err)
	}
	dan := broker.WithUser(context.Background(), broker.User{Email: "dan@x.com"})
	if _, err := svc.Approve(dan, "t", "ok"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("dan for gus, who left sre: got %v, want not found", err)
	}
	dir.Groups["sre"] = append(dir.Groups["sre"], "gus@x.com")
	if got, err := svc.Approve(dan, "t", "ok"); err != nil || got.State != broker.StateApproved {
		t.Fatalf("dan for gus, back in sre: got %v, %v", got, err)
	}
}
