package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// alice requests, bob approves, the AWS CLI gets credentials through
// credential_process, bob terminates, and the session already handed out
// is refused by the sandbox while new credentials are refused by JIT.
func TestTicketEndToEnd(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "e2e")
	if tk.State != broker.StatePending || tk.Requester != "alice@example.com" {
		t.Fatalf("new ticket: state %s requester %s", tk.State, tk.Requester)
	}
	if out, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil || !strings.Contains(out, "State:           approved") {
		t.Fatalf("jit approve: %v\n%s%s", err, out, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)

	// The AWS CLI with a credential_process profile running `jit credentials`.
	cfg := filepath.Join(t.TempDir(), "config")
	profile := fmt.Sprintf("[profile jit]\nregion = us-east-1\ncredential_process = %s credentials --ticket %s\n", jitBin, tk.ID)
	if err := os.WriteFile(cfg, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=",
		"JIT_URL="+h.apiURL, "JIT_TOKEN="+h.token("alice@example.com"), "JIT_CACHE_DIR="+h.cache)
	out, err := h.awsCLI(env, "--profile", "jit", "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
	}
	wantARN := fmt.Sprintf("arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/jit-%s-alice@example.com", tk.ID)
	if got := strings.TrimSpace(out); got != wantARN {
		t.Fatalf("caller ARN %q, want %q", got, wantARN)
	}
	if out, err := h.awsCLI(env, "--profile", "jit", "s3api", "list-buckets"); err != nil {
		t.Fatalf("work action before terminate: %v\n%s", err, out)
	}

	// The exact session the CLI used, from jit's cache, and the one recorded on the ticket.
	creds := h.credentials("alice@example.com", tk.ID)
	got := h.ticket(tk.ID)
	if len(got.Sessions) != 1 || got.Sessions[0].AccessKeyID != creds.AccessKeyID {
		t.Fatalf("sessions recorded on the ticket: %+v, want the one access key %s", got.Sessions, creds.AccessKeyID)
	}

	if out, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done"); err != nil || !strings.Contains(out, "terminated") {
		t.Fatalf("jit terminate: %v\n%s%s", err, out, errOut)
	}
	out, err = h.awsCLI(awsEnv(creds), "s3api", "list-buckets")
	if err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("work action with the terminated session: want AccessDenied, got err=%v\n%s", err, out)
	}
	if out, err := h.awsCLI(awsEnv(creds), "sts", "get-caller-identity"); err != nil {
		t.Fatalf("GetCallerIdentity is never denied by policy: %v\n%s", err, out)
	}
	_, errOut, err := h.jit("alice@example.com", "credentials", "--ticket", tk.ID, "--no-cache")
	if err == nil || !strings.Contains(errOut, "was terminated by bob@example.com") {
		t.Fatalf("new credentials after terminate: err=%v stderr=%q, want a clear 'terminated' refusal", err, errOut)
	}
}

// A ticket ending 3 s from now expires by itself, never before its end,
// and its session is refused afterwards.
func TestTicketExpiresByItself(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	end := time.Now().Add(3 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	tk := h.request("alice@example.com", "--account", "222222222222", "--permission-set", "ReadOnlyAccess", "--end", end.Format(time.RFC3339), "--reason", "short")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 5*time.Second)
	creds := h.credentials("alice@example.com", tk.ID, "--no-cache")
	if time.Now().Before(end) {
		if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err != nil && time.Now().Before(end) {
			t.Fatalf("work action before the end: %v\n%s", err, out)
		}
	}
	got := h.waitState(tk.ID, broker.StateExpired, 15*time.Second)
	last := got.History[len(got.History)-1]
	if last.Action != "expire" || last.At.Before(end) {
		t.Fatalf("expired at %s by %q, want at or after the end %s", last.At, last.Action, end)
	}
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("work action after the end: want AccessDenied, got err=%v\n%s", err, out)
	}
	if _, errOut, err := h.jit("alice@example.com", "credentials", "--ticket", tk.ID, "--no-cache"); err == nil || !strings.Contains(errOut, "expired") {
		t.Fatalf("credentials after expiry: err=%v %q", err, errOut)
	}
}

// The server is stopped between approval and start and started again: the
// ticket still activates and expires on time, from tasks kept in Redis.
func TestRestartBetweenApprovalAndStart(t *testing.T) {
	h := newHarness(t)
	start := time.Now().UTC().Truncate(time.Second).Add(4 * time.Second)
	end := start.Add(2 * time.Second)
	tk := h.request("alice@example.com", "--account", "333333333333", "--permission-set", "ReadOnlyAccess",
		"--start", start.Format(time.RFC3339), "--end", end.Format(time.RFC3339), "--reason", "restart")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.stop()
	time.Sleep(time.Until(start) + 500*time.Millisecond) // the start passes while no server runs
	h.start()
	got := h.waitState(tk.ID, broker.StateExpired, 20*time.Second)
	var activated, expired time.Time
	for _, e := range got.History {
		switch e.Action {
		case "activate":
			activated = e.At
		case "expire":
			expired = e.At
		}
	}
	if activated.IsZero() || activated.Before(start) {
		t.Errorf("activated at %v, want at or after start %s", activated, start)
	}
	if expired.Before(end) {
		t.Errorf("expired at %v, before its end %s", expired, end)
	}
}

// 50 concurrent approvals of one pending ticket make exactly one transition
// and one activation task.
func TestConcurrentApprovals(t *testing.T) {
	h := newHarness(t)
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "PowerUserAccess", "--start", start, "--duration", "1h", "--reason", "race")
	var wg sync.WaitGroup
	statuses := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _ := h.api("bob@example.com", "POST", "/api/v1/tickets/"+tk.ID+"/approve", map[string]string{"comment": "go"})
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[200] != 1 || count[409] != 49 {
		t.Fatalf("statuses %v, want one 200 and 49 409", count)
	}
	got := h.ticket(tk.ID)
	transitions := 0
	for _, e := range got.History {
		if e.To == broker.StateApproved {
			transitions++
		}
	}
	if got.State != broker.StateApproved || transitions != 1 || len(got.Approvals) != 1 {
		t.Fatalf("state %s, %d transitions to approved, %d approvals; want approved, 1, 1", got.State, transitions, len(got.Approvals))
	}
	var activations int
	for _, list := range h.tasks() {
		for _, ti := range list {
			if ti.Type == string(broker.TaskActivate) && strings.Contains(ti.ID, tk.ID) {
				activations++
			}
		}
	}
	if activations != 1 {
		t.Fatalf("%d activation tasks, want 1", activations)
	}
}

// A bad config names the bad field and exits non-zero.
func TestServeBadConfig(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":   {"listen: 127.0.0.1:0\nlisen: x\n", "field lisen not found"},
		"no redis":      {"oidc: {issuer: http://x, client_ids: [a]}\n", "redis"},
		"bad issuer":    {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: '', client_ids: [a]}\n", "oidc.issuer"},
		"bad account":   {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nregistry: {accounts: [{id: '12', name: x}]}\n", "registry.accounts[0].id"},
		"wrong type":    {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nworker: {concurrency: lots}\n", "line 3"},
		"bad rule":      {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nregistry: {approval_rules: [{account: '*', stages: [{approvers: [a@x.com], required: 2}]}]}\n", "registry.approval_rules[0].stages[0]"},
		"web client":    {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a], web_client_id: b}\n", "oidc.web_client_id"},
		"bad duration":  {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nregistry: {permission_sets: [{name: A, role_name: A, max_duration: soon}]}\n", "line 3"},
		"negative rate": {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nrate_limit: {writes_per_minute: -1}\n", "rate_limit.writes_per_minute"},
		"zero burst":    {"redis: {url: redis://127.0.0.1:1}\noidc: {issuer: http://x, client_ids: [a]}\nrate_limit: {burst: 0}\n", "rate_limit.burst"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jit.yaml")
			os.WriteFile(path, []byte(tc.yaml), 0o600)
			out, err := exec.Command(jitBin, "serve", "--config", path).CombinedOutput()
			if err == nil {
				t.Fatalf("jit serve accepted a bad config:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("error %q does not name %q", out, tc.want)
			}
		})
	}
}

// The Identity Center path through the real binary: approval creates the
// assignment, termination takes it back.
func TestIdentityCenterPathEndToEnd(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", "sso")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	got := h.waitState(tk.ID, broker.StateActive, 20*time.Second)
	if len(got.Grants) != 1 || got.Grants[0].Kind != broker.GrantAssignment || got.Grants[0].State != broker.GrantDone {
		t.Fatalf("grants %+v, want alice's assignment done", got.Grants)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = h.ticket(tk.ID)
		if len(got.Grants) > 0 && got.Grants[0].State == broker.GrantUndone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("grants %+v not taken back", got.Grants)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Every approval is decided under the registry in force now: an approver
// removed from the rule after a ticket was filed can no longer approve it,
// nor see it (docs/authorization.md).
func TestRemovedApproverCannotApprove(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "live rules")
	before := h.export()
	after := strings.Replace(before, "approvers: [bob@example.com]", "approvers: [carol@example.com]", 1)
	if after == before {
		t.Fatalf("export has no bob-only stage to change:\n%s", before)
	}
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "org.yaml", after)); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	_, errOut, err := h.jit("bob@example.com", "approve", tk.ID)
	if err == nil || !strings.Contains(errOut, "ticket "+tk.ID+" not found (not_found)") {
		t.Fatalf("bob approving after his removal: err=%v %q", err, errOut)
	}
	if got := h.ticket(tk.ID); got.State != broker.StatePending || len(got.Approvals) != 0 {
		t.Fatalf("state %s approvals %v, want pending with none", got.State, got.Approvals)
	}
}
