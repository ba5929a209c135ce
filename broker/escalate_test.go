package broker_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// notes keeps the notifications sent.
type notes struct {
	mu  sync.Mutex
	got []broker.Notification
}

func (n *notes) Notify(_ context.Context, x broker.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
	return nil
}

func (n *notes) to(who string) []broker.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []broker.Notification
	for _, x := range n.got {
		if slices.Contains(x.To, who) {
			out = append(out, x)
		}
	}
	return out
}

// Escalation: a rule with escalate_before 1h and escalate_to lee plans
// the ticket's escalation an hour before its approval deadline; before
// then lee may neither approve nor see the ticket; the escalation task
// adds lee to those waited for (once, however often it runs) and tells
// lee; lee's approval then counts like any other. A ticket whose own
// people include lee escalates to nobody else.
func TestEscalation(t *testing.T) {
	rules := &fake.Rules{}
	rules.Set(broker.ApprovalRule{Account: "*", Stages: []broker.RuleStage{stage(1, "a@x.com")}, Deadline: 3 * time.Hour,
		EscalateBefore: time.Hour, EscalateTo: []string{"lee@x.com"}})
	clock := fake.NewClock(replanNow)
	sched := &gSched{}
	n := &notes{}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: fake.NewStore(), Scheduler: sched, Registry: &broker.StaticRegistry{
			Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{{Name: "Approved", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true}},
		},
		Authorizer: noAdmins{}, Approvals: approvals.New(rules), Minter: &gAWS{}, Revoker: &gAWS{}, Clock: clock,
		Delegations: fake.NewStore(), Notifier: n,
	})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := svc.CreateTicket(asEmail(tRequester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
		Start: replanNow.Add(time.Hour), End: replanNow.Add(8 * time.Hour), Reason: "escalate"})
	if err != nil {
		t.Fatal(err)
	}
	if e := tk.Escalation; e == nil || !e.At.Equal(replanNow.Add(2*time.Hour)) || !slices.Equal(e.To, []string{"lee@x.com"}) {
		t.Fatalf("escalation %+v, want lee at deadline-1h", tk.Escalation)
	}
	if !slices.Contains(sched.got, string(broker.TaskEscalate)+":"+tk.ID) {
		t.Fatalf("scheduled %v, want the escalation", sched.got)
	}

	// Before its time: lee is not an approver; the task does nothing.
	if _, err := svc.Approve(asEmail("lee@x.com"), tk.ID, ""); err == nil {
		t.Fatal("lee approved before the escalation")
	}
	if err := svc.Escalate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if len(n.to("lee@x.com")) != 0 {
		t.Fatal("lee was told before the escalation")
	}

	clock.Advance(2 * time.Hour)
	for range 2 {
		if err := svc.Escalate(context.Background(), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := svc.Ticket(asEmail(tRequester), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.PendingApprovers, []string{"a@x.com", "lee@x.com"}) {
		t.Errorf("waiting for %v after the escalation, want a and lee", got.PendingApprovers)
	}
	if esc := slices.DeleteFunc(slices.Clone(got.History), func(e broker.Event) bool { return e.Action != "escalate" }); len(esc) != 1 {
		t.Errorf("escalate events %+v, want one", esc)
	}
	if ns := n.to("lee@x.com"); len(ns) != 1 || !strings.Contains(ns[0].Message, "escalated to you") {
		t.Errorf("notifications to lee: %+v", ns)
	}
	if _, err := svc.Ticket(asEmail("lee@x.com"), tk.ID); err != nil {
		t.Errorf("lee cannot see the escalated ticket: %v", err)
	}
	done, err := svc.Approve(asEmail("lee@x.com"), tk.ID, "covering for a")
	if err != nil || done.State != broker.StateApproved || done.Approvals[0].By != "lee@x.com" {
		t.Fatalf("lee's approval after the escalation: %v %+v", err, done)
	}

	// lee requests: the escalation has nobody left.
	own, err := svc.CreateTicket(asEmail("lee@x.com"), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "Approved",
		Start: clock.Now().Add(time.Hour), End: clock.Now().Add(8 * time.Hour), Reason: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if own.Escalation != nil {
		t.Errorf("lee's own ticket escalates to %+v", own.Escalation)
	}
}

// The registry refuses half an escalation and bad principals.
func TestEscalationRegistry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before time.Duration
		to     []string
		field  string
	}{
		{"no one to escalate to", time.Hour, nil, "escalate_to"},
		{"no time", 0, []string{"lee@x.com"}, "escalate_before"},
		{"negative", -time.Hour, []string{"lee@x.com"}, "escalate_before"},
		{"not a principal", time.Hour, []string{"lee"}, "escalate_to[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := eRegistry()
			r.ApprovalRules[0].EscalateBefore, r.ApprovalRules[0].EscalateTo = tc.before, tc.to
			broker.NormalizeRegistry(&r)
			if err := broker.CheckRegistry(r); broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), tc.field) {
				t.Errorf("CheckRegistry: %v, want invalid naming %s", err, tc.field)
			}
		})
	}
	r := eRegistry()
	r.ApprovalRules[0].EscalateBefore, r.ApprovalRules[0].EscalateTo = time.Hour, []string{"group:Leads", " Lee@X.com "}
	broker.NormalizeRegistry(&r)
	if err := broker.CheckRegistry(r); err != nil {
		t.Fatalf("a whole escalation: %v", err)
	}
	data, err := r.ApprovalRules[0].MarshalJSON()
	if err != nil || !strings.Contains(string(data), `"escalate_before":"1h0m0s"`) && !strings.Contains(string(data), `"escalate_before":"1h"`) {
		t.Fatalf("rule JSON %s: %v", data, err)
	}
	var back broker.ApprovalRule
	if err := back.UnmarshalJSON(data); err != nil || back.EscalateBefore != time.Hour || len(back.EscalateTo) != 2 {
		t.Fatalf("rule JSON back: %+v %v", back, err)
	}
}
