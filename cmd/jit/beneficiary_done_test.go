package main

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// dave's "I'm done" on a ticket he shares with alice cuts dave's session
// (the sandbox refuses it) and refuses him new ones, while alice's session
// keeps working; alice's done, as the requester, then ends the ticket.
func TestBeneficiaryDoneEndsOnlyTheirAccess(t *testing.T) {
	needAWSCLI(t)
	h := newWorkflowHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess",
		"--for", "alice@example.com", "--for", "dave@example.com", "--duration", "1h", "--reason", "shared")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	alice := h.credentials("alice@example.com", tk.ID, "--no-cache")
	dave := h.credentials("dave@example.com", tk.ID, "--no-cache")
	for name, c := range map[string]wire.CredentialProcess{"alice": alice, "dave": dave} {
		if out, err := h.awsCLI(awsEnv(c), "s3api", "list-buckets"); err != nil {
			t.Fatalf("%s's session before done: %v\n%s", name, err, out)
		}
	}

	out, errOut, err := h.jit("dave@example.com", "done", tk.ID)
	if err != nil || !strings.Contains(out, "State:           active") || !strings.Contains(out, "Done:            dave@example.com") {
		t.Fatalf("jit done as dave: %v\n%s%s", err, out, errOut)
	}
	if out, err := h.awsCLI(awsEnv(dave), "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("dave's session after his done: want AccessDenied, got err=%v\n%s", err, out)
	}
	if out, err := h.awsCLI(awsEnv(alice), "s3api", "list-buckets"); err != nil {
		t.Fatalf("alice's session after dave's done: %v\n%s", err, out)
	}
	if _, errOut, err := h.jit("dave@example.com", "credentials", "--ticket", tk.ID, "--no-cache"); err == nil || !strings.Contains(errOut, "said they were done") {
		t.Fatalf("dave's new credentials after his done: err=%v %q, want a clear refusal", err, errOut)
	}
	h.credentials("alice@example.com", tk.ID, "--no-cache")

	if out, errOut, err := h.jit("alice@example.com", "done", tk.ID); err != nil || !strings.Contains(out, "State:           terminated") {
		t.Fatalf("jit done as the requester: %v\n%s%s", err, out, errOut)
	}
	if out, err := h.awsCLI(awsEnv(alice), "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("alice's session after the requester's done: want AccessDenied, got err=%v\n%s", err, out)
	}

	// The ending is told in words by the CLI, and in the JSON.
	if out, errOut, err := h.jit("alice@example.com", "tickets", "get", tk.ID); err != nil || !strings.Contains(out, "Outcome:         ended by requester") {
		t.Fatalf("jit tickets get: %v\n%s%s", err, out, errOut)
	}
	if out, errOut, err := h.jit("alice@example.com", "tickets", "list", "--mine"); err != nil || !strings.Contains(out, "OUTCOME") || !strings.Contains(out, "ended by requester") {
		t.Fatalf("jit tickets list: %v\n%s%s", err, out, errOut)
	}
	if code, m := h.api("alice@example.com", "GET", "/api/v1/tickets/"+tk.ID, nil); code != 200 || m["outcome"] != "ended by requester" {
		t.Fatalf("GET ticket: %d outcome %v", code, m["outcome"])
	}
}

// A ticket that needs no approval and starts now is active when `jit
// request` answers, and an approved start-now ticket gives credentials
// right after the approval: no wait for the activation task.
func TestStartNowCredentialsAtOnce(t *testing.T) {
	cfg := strings.Replace(workflowConfig, "  permission_sets:\n", "  permission_sets:\n"+
		"    - {name: QuickAccess, role_name: ReadOnlyAccess, max_duration: 1h, approval_required: false, scope: {accounts: [\"*\"], requester_groups: [\"*\"]}}\n", 1)
	h := newHarnessWith(t, cfg)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "QuickAccess", "--duration", "30m", "--reason", "now")
	if tk.State != broker.StateActive {
		t.Fatalf("start-now ticket without approval is %s when filed, want active", tk.State)
	}
	h.credentials("alice@example.com", tk.ID, "--no-cache")

	for range 3 {
		tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "30m", "--reason", "now")
		if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
			t.Fatalf("approve: %v %s", err, errOut)
		}
		h.credentials("alice@example.com", tk.ID, "--no-cache")
	}
}
