package broker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// preStore keeps pre-approvals in memory.
type preStore struct {
	mu sync.Mutex
	ps []broker.PreApproval
}

func (s *preStore) CreatePreApproval(_ context.Context, p broker.PreApproval) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ps = append(s.ps, p)
	return nil
}

func (s *preStore) PreApprovals(_ context.Context, f broker.PreApprovalFilter) ([]broker.PreApproval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []broker.PreApproval
	for _, p := range s.ps {
		if (f.By != "" && p.By == f.By) || (f.For != "" && p.For == f.For) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *preStore) PreApproval(_ context.Context, id string) (broker.PreApproval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.ps {
		if p.ID == id {
			return p, nil
		}
	}
	return broker.PreApproval{}, broker.Errorf(broker.ENOTFOUND, "pre-approval %s not found", id)
}

func (s *preStore) RevokePreApproval(_ context.Context, id, by string, at time.Time) (broker.PreApproval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.ps {
		if p.ID == id {
			if p.RevokedAt != nil {
				return p, broker.Errorf(broker.ECONFLICT, "revoked")
			}
			s.ps[i].RevokedAt, s.ps[i].RevokedBy = &at, by
			return s.ps[i], nil
		}
	}
	return broker.PreApproval{}, broker.Errorf(broker.ENOTFOUND, "pre-approval %s not found", id)
}

// onCallFunc is a broker.OnCallSource.
type onCallFunc func(provider, schedule string) ([]string, error)

func (f onCallFunc) OnCall(_ context.Context, provider, schedule string, _ time.Time) ([]string, error) {
	return f(provider, schedule)
}

// requesters lets everyone request, also for others, and nobody administer.
type requesters struct{}

func (requesters) Allowed(_ context.Context, _ broker.User, act broker.Action, _, _ string) (bool, error) {
	return act == broker.ActRequest || act == broker.ActRequestForOthers, nil
}

// TestAutoApprovalTable: which tickets pre-approvals and on-call
// auto-approval approve at filing, how far, and what they record.
func TestAutoApprovalTable(t *testing.T) {
	now := replanNow
	week := now.Add(7 * 24 * time.Hour)
	pre := func(id, by string) broker.PreApproval {
		return broker.PreApproval{ID: id, By: by, For: "alice@x.com", AccountID: "111111111111", PermissionSet: "Approved", Start: now, End: week, Reason: "duty"}
	}
	revoked := pre("p-rev", "bob@x.com")
	revoked.RevokedAt = &now
	short := pre("p-short", "bob@x.com")
	short.End = now.Add(30 * time.Minute)
	later := pre("p-later", "bob@x.com")
	later.Start = now.Add(time.Hour)
	otherPS := pre("p-ps", "bob@x.com")
	otherPS.PermissionSet = "Other"
	forDave := pre("p-dave", "bob@x.com")
	forDave.For = "dave@x.com"
	pd := &broker.OnCallRule{Provider: broker.OnCallPagerDuty, Schedule: "P1"}
	onCall := func(emails ...string) onCallFunc {
		return func(p, s string) ([]string, error) {
			if p != "pagerduty" || s != "P1" {
				return nil, errors.New("unknown schedule")
			}
			return emails, nil
		}
	}
	down := onCallFunc(func(string, string) ([]string, error) { return nil, errors.New("503 Service Unavailable") })
	oneStage := []broker.RuleStage{stage(1, "bob@x.com", "group:leads")}
	twoStages := []broker.RuleStage{stage(1, "bob@x.com"), stage(1, "carol@x.com")}
	quorum := []broker.RuleStage{stage(2, "bob@x.com", "carol@x.com", "erin@x.com")}

	for _, tc := range []struct {
		name          string
		stages        []broker.RuleStage
		onCallRule    *broker.OnCallRule
		pres          []broker.PreApproval
		onCall        broker.OnCallSource
		leads         []string // members of group leads now
		beneficiaries []string
		start         time.Duration // from now
		wantState     broker.State
		wantStage     int
		wantAuto      []string // per decision: pre-approval id, or "on_call"
	}{
		{"pre-approved", oneStage, nil, []broker.PreApproval{pre("p1", "bob@x.com")}, nil, nil, nil, 0, broker.StateActive, 1, []string{"p1"}},
		{"pre-approved, starts later", oneStage, nil, []broker.PreApproval{pre("p1", "bob@x.com")}, nil, nil, nil, 2 * time.Hour, broker.StateApproved, 1, []string{"p1"}},
		{"ends after the window", oneStage, nil, []broker.PreApproval{short}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"starts before the window", oneStage, nil, []broker.PreApproval{later}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"other permission set", oneStage, nil, []broker.PreApproval{otherPS}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"for someone else", oneStage, nil, []broker.PreApproval{forDave}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"revoked", oneStage, nil, []broker.PreApproval{revoked}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"author no longer an approver", oneStage, nil, []broker.PreApproval{pre("p1", "zed@x.com")}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"author approves through a group now", oneStage, nil, []broker.PreApproval{pre("p1", "gus@x.com")}, nil, []string{"gus@x.com"}, nil, 0, broker.StateActive, 1, []string{"p1"}},
		{"author left the group", oneStage, nil, []broker.PreApproval{pre("p1", "gus@x.com")}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"ticket for more people", oneStage, nil, []broker.PreApproval{pre("p1", "bob@x.com")}, nil, nil, []string{"alice@x.com", "dave@x.com"}, 0, broker.StatePending, 0, nil},
		{"two stages, author of the first", twoStages, nil, []broker.PreApproval{pre("p1", "bob@x.com")}, nil, nil, nil, 0, broker.StatePending, 1, []string{"p1"}},
		{"two stages, author of the second only", twoStages, nil, []broker.PreApproval{pre("p2", "carol@x.com")}, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"two stages, both authors (any order)", twoStages, nil, []broker.PreApproval{pre("p2", "carol@x.com"), pre("p1", "bob@x.com")}, nil, nil, nil, 0, broker.StateActive, 2, []string{"p1", "p2"}},
		{"quorum of two, one pre-approval", quorum, nil, []broker.PreApproval{pre("p1", "bob@x.com")}, nil, nil, nil, 0, broker.StatePending, 0, []string{"p1"}},
		{"quorum of two, two pre-approvals", quorum, nil, []broker.PreApproval{pre("p1", "bob@x.com"), pre("p3", "erin@x.com")}, nil, nil, nil, 0, broker.StateActive, 1, []string{"p1", "p3"}},
		{"same author twice counts once", quorum, nil, []broker.PreApproval{pre("p1", "bob@x.com"), pre("p1b", "bob@x.com")}, nil, nil, nil, 0, broker.StatePending, 0, []string{"p1"}},
		{"on call", twoStages, pd, nil, onCall("alice@x.com"), nil, nil, 0, broker.StateActive, 2, []string{"on_call", "on_call"}},
		{"off call", twoStages, pd, nil, onCall("dave@x.com"), nil, nil, 0, broker.StatePending, 0, nil},
		{"on call, a beneficiary off call", oneStage, pd, nil, onCall("alice@x.com"), nil, []string{"alice@x.com", "dave@x.com"}, 0, broker.StatePending, 0, nil},
		{"on call, all beneficiaries on call", oneStage, pd, nil, onCall("dave@x.com", "alice@x.com"), nil, []string{"alice@x.com", "dave@x.com"}, 0, broker.StateActive, 1, []string{"on_call"}},
		{"on call, starts later", oneStage, pd, nil, onCall("alice@x.com"), nil, nil, time.Hour, broker.StatePending, 0, nil},
		{"provider down", oneStage, pd, nil, down, nil, nil, 0, broker.StatePending, 0, nil},
		{"no provider configured", oneStage, pd, nil, nil, nil, nil, 0, broker.StatePending, 0, nil},
		{"on call, rule without it", oneStage, nil, nil, onCall("alice@x.com"), nil, nil, 0, broker.StatePending, 0, nil},
		{"pre-approval then on call", twoStages, pd, []broker.PreApproval{pre("p1", "bob@x.com")}, onCall("alice@x.com"), nil, nil, 0, broker.StateActive, 2, []string{"p1", "on_call"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rules := &fake.Rules{}
			rules.Set(broker.ApprovalRule{Account: "*", Stages: tc.stages, AutoApproveOnCall: tc.onCallRule})
			store := &preStore{}
			for _, p := range tc.pres {
				store.CreatePreApproval(context.Background(), p)
			}
			svc, err := broker.NewService(broker.ServiceConfig{
				Store: fake.NewStore(), Scheduler: &gSched{}, Registry: &broker.StaticRegistry{
					Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
					PermissionSets: []broker.PermissionSet{{Name: "Approved", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true},
						{Name: "Other", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true}},
				},
				Authorizer: requesters{}, Approvals: approvals.New(rules), Minter: &gAWS{}, Revoker: &gAWS{}, Clock: fake.NewClock(now),
				PreApprovals: store, OnCall: tc.onCall,
				Directory: broker.ListDirectory{Domains: []string{"x.com"}},
				Groups:    broker.ListDirectory{Domains: []string{"x.com"}, Groups: map[string][]string{"leads": tc.leads}},
			})
			if err != nil {
				t.Fatal(err)
			}
			tk, err := svc.CreateTicket(asEmail("alice@x.com"), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
				Beneficiaries: tc.beneficiaries, Start: now.Add(tc.start), Duration: time.Hour, Reason: "table"})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range tk.Approvals {
				switch {
				case d.Auto == nil:
					got = append(got, "person")
				case d.Auto.Kind == broker.AutoOnCall:
					got = append(got, "on_call")
				default:
					got = append(got, d.Auto.PreApproval)
				}
			}
			if tk.State != tc.wantState || tk.Stage != tc.wantStage || !slices.Equal(got, tc.wantAuto) {
				t.Fatalf("state %s stage %d decisions %v; want %s %d %v", tk.State, tk.Stage, got, tc.wantState, tc.wantStage, tc.wantAuto)
			}
			autos := 0
			for _, e := range tk.History {
				if e.Action == "auto approve" {
					autos++
				}
			}
			want := len(tc.wantAuto) // one per pre-approval, one for on call
			if n := countOnCall(tc.wantAuto); n > 0 {
				want -= n - 1
			}
			if autos != want {
				t.Fatalf("%d auto approve events in %+v, want one per pre-approval and one for on call", autos, tk.History)
			}
		})
	}
}

func countOnCall(s []string) int {
	n := 0
	for _, x := range s {
		if x == "on_call" {
			n++
		}
	}
	return n
}

// TestPreApproveChecks: only an approver of the rule in force may
// pre-approve, and only within the limits.
func TestPreApproveChecks(t *testing.T) {
	now := replanNow
	rules := &fake.Rules{}
	rules.Set(broker.ApprovalRule{Account: "*", Stages: []broker.RuleStage{stage(1, "bob@x.com"), stage(1, "group:leads")}})
	store := &preStore{}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: fake.NewStore(), Scheduler: &gSched{}, Registry: &broker.StaticRegistry{
			Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{{Name: "Approved", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true},
				{Name: "Free", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour}},
		},
		Authorizer: noAdmins{}, Approvals: approvals.New(rules), Minter: &gAWS{}, Revoker: &gAWS{}, Clock: fake.NewClock(now),
		PreApprovals: store,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := func(ps string, d time.Duration) broker.PreApproveInput {
		return broker.PreApproveInput{For: "alice@x.com", AccountID: "111111111111", PermissionSet: ps, Duration: d, Reason: "duty"}
	}
	for _, tc := range []struct {
		who  broker.User
		in   broker.PreApproveInput
		want string
	}{
		{broker.User{Email: "bob@x.com"}, in("Approved", 24*time.Hour), ""},
		{broker.User{Email: "gus@x.com", Groups: []string{"leads"}}, in("Approved", 24*time.Hour), ""}, // the second stage's
		{broker.User{Email: "gus@x.com"}, in("Approved", 24*time.Hour), broker.EFORBIDDEN},
		{broker.User{Email: "bob@x.com"}, in("Approved", 30*24*time.Hour+time.Second), broker.EINVALID},
		{broker.User{Email: "bob@x.com"}, in("Free", time.Hour), broker.EINVALID},
		{broker.User{Email: "alice@x.com"}, in("Approved", time.Hour), broker.EINVALID},
		{broker.User{Email: "bob@x.com"}, in("Missing", time.Hour), broker.ENOTFOUND},
	} {
		_, err := svc.PreApprove(broker.WithUser(context.Background(), tc.who), tc.in)
		if broker.ErrorCode(err) != tc.want {
			t.Errorf("%s pre-approves %+v: %v, want %q", tc.who.Email, tc.in, err, tc.want)
		}
	}
	if len(store.ps) != 2 {
		t.Fatalf("stored %d, want 2", len(store.ps))
	}
	id := store.ps[0].ID
	if _, err := svc.RevokePreApproval(asEmail("gus@x.com"), id); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("revoke by another: %v, want not found", err)
	}
	if p, err := svc.RevokePreApproval(asEmail("bob@x.com"), id); err != nil || p.RevokedBy != "bob@x.com" {
		t.Fatalf("revoke by its author: %+v %v", p, err)
	}
}
