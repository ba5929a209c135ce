package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Issue 11 bug 8: `jit tickets get` and `jit tickets list
// --pending-for-me` show an approver what the open round needs: the stage
// and quorum progress, the deadline, "for <delegator>" when they decide
// as a delegate, and "Waiting for" without those who already approved.
func TestTicketsShownForDeciding(t *testing.T) {
	sys := newAPISystem(t,
		broker.RuleStage{Approvers: []string{"bob@example.com", "dave@example.com"}, Required: 2},
		broker.RuleStage{Approvers: []string{"carol@example.com"}, Required: 1})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go sys.serveAPI(ctx, l)
	url := "http://" + l.Addr().String()
	jit := func(user string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args = append(args, "--url", url, "--token", user)
		if err := run(ctx, args, &out, &errb); err != nil {
			t.Fatalf("jit %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	as := func(u string) context.Context { return broker.WithUser(context.Background(), broker.User{Email: u}) }
	tk, err := sys.svc.CreateTicket(as("alice@example.com"), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "PowerUserAccess",
		Start: time.Now().Add(time.Hour), Duration: time.Hour, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.svc.Approve(as("dave@example.com"), tk.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.svc.Delegate(as("bob@example.com"), broker.DelegateInput{To: "erin@example.com", End: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	deadline := tk.End
	if !tk.ApprovalDeadline.IsZero() && tk.ApprovalDeadline.Before(deadline) {
		deadline = tk.ApprovalDeadline
	}
	got := jit("erin@example.com", "tickets", "get", tk.ID)
	for _, want := range []string{
		"Stage:           stage 1 of 2, 1 of 2 approvals\n",
		"Decide by:       " + deadline.UTC().Format(time.RFC3339) + "\n",
		"Waiting for:     bob@example.com\n",
		"You decide:      for bob@example.com\n",
		"Approved by:     dave@example.com at ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("jit tickets get as erin:\n%s\nlacks %q", got, want)
		}
	}
	list := jit("erin@example.com", "tickets", "list", "--pending-for-me")
	if want := "stage 1 of 2, 1 of 2 approvals; decide by " + deadline.UTC().Format(time.RFC3339) + "; for bob@example.com"; !strings.Contains(list, want) || !strings.Contains(list, "DECISION") {
		t.Errorf("jit tickets list --pending-for-me as erin:\n%s\nlacks %q", list, want)
	}
	// dave approved: nothing for him to decide, and he is not waited for.
	got = jit("dave@example.com", "tickets", "get", tk.ID)
	if strings.Contains(got, "You decide:") || !strings.Contains(got, "Waiting for:     bob@example.com\n") {
		t.Errorf("jit tickets get as dave:\n%s", got)
	}
}
