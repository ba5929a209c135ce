package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/console/wire"
)

// kill ends `jit serve` at once, as a crash would (SIGKILL: no draining).
func (h *harness) kill() {
	h.t.Helper()
	if h.proc == nil || h.proc.Process == nil {
		return
	}
	h.proc.Process.Kill()
	h.proc.Wait()
	h.proc = nil
}

// s3With returns an S3 client of the sandbox that signs with c.
func (h *harness) s3With(c wire.CredentialProcess) *s3.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(h.awsURL); o.UsePathStyle = true })
}

// activeWithSession files, approves and uses a one-hour ticket: alice
// holds an open AWS session for it.
func (h *harness) activeWithSession() (string, wire.CredentialProcess) {
	h.t.Helper()
	return h.activeWithSessionFor("alice@example.com", "1h")
}

// A crash in the middle of a Terminate storm (the server killed after a
// third of the replies, while most deny entries still wait for the role's
// lock) must not leave a terminated ticket with working sessions: after the
// restart the outbox repairs every ticket whose transition outran its
// consequences, within seconds.
func TestCrashDuringTerminateIsRepaired(t *testing.T) {
	h := newHarness(t)
	const n = 30
	ids := make([]string, n)
	creds := make([]wire.CredentialProcess, n)
	for i := range n {
		ids[i], creds[i] = h.activeWithSession()
	}
	ctx := context.Background()
	for i := range n {
		if _, err := h.s3With(creds[i]).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatalf("session of %s before terminate: %v", ids[i], err)
		}
	}

	var replies atomic.Int32
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	tok := h.token("bob@example.com")
	url := h.apiURL
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", url+"/api/v1/tickets/"+id+"/terminate", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return // the server died under this request
			}
			resp.Body.Close()
			if replies.Add(1) == n/3 {
				once.Do(func() { close(killed) })
			}
		}()
	}
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("no third of the terminations answered")
	}
	h.kill()
	wg.Wait()
	h.start()

	// Every ticket the crash left terminated has its deny recorded and its
	// session refused by AWS; the others are still active and can be
	// terminated again.
	deadline := time.Now().Add(30 * time.Second)
	terminated := 0
	for i, id := range ids {
		for {
			tk := h.ticket(id)
			if tk.State == broker.StateActive {
				break
			}
			if tk.State != broker.StateTerminated {
				t.Fatalf("ticket %s is %s after the crash", id, tk.State)
			}
			if denied(tk) {
				terminated++
				_, err := h.s3With(creds[i]).ListBuckets(ctx, &s3.ListBucketsInput{})
				var ae smithy.APIError
				if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
					t.Errorf("session of terminated ticket %s after the repair: %v, want AccessDenied", id, err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("terminated ticket %s still has no deny entry 30 s after the restart: %+v", id, tk.Grants)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if terminated < n/3 {
		t.Fatalf("%d tickets terminated, want at least the %d answered", terminated, n/3)
	}
	t.Logf("%d of %d tickets terminated before the crash, all cut after the restart", terminated, n)
}

func denied(tk broker.Ticket) bool {
	for _, g := range tk.Grants {
		if g.Kind == broker.GrantRoleDeny && g.State == broker.GrantDone {
			return true
		}
	}
	return false
}

// A crash between saving a transition and scheduling what follows it
// (written here straight into Redis while the server is down, as the
// killed process left it) is repaired from the outbox after the restart:
// an approval without its activation task activates, and an extension
// that moved the end without moving the expiry expires at the new end.
func TestCrashBetweenSaveAndScheduleIsRepaired(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	store := redisstore.New(h.redis(), redisstore.Options{})

	code, body := h.api("alice@example.com", "POST", "/api/v1/tickets", map[string]any{
		"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "approved, then crash"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, body)
	}
	approved := body["id"].(string)
	activeID, _ := h.activeWithSession()

	h.kill()
	now := time.Now().UTC()
	write := func(id string, change func(*broker.Ticket)) {
		t.Helper()
		tk, err := store.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		change(tk)
		if err := store.UpdateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	// What Approve saves before it schedules the activation.
	write(approved, func(tk *broker.Ticket) {
		tk.PendingApprovers = nil
		tk.History = append(tk.History, broker.Event{At: now, Actor: "bob@example.com", Action: "approve", From: tk.State, To: broker.StateApproved})
		tk.State = broker.StateApproved
	})
	// What an approved extension saves before it moves the expiry: the end
	// is now 3 s away, and only the old expiry (an hour away) is scheduled.
	newEnd := now.Add(3 * time.Second).Truncate(time.Second)
	write(activeID, func(tk *broker.Ticket) { tk.End = newEnd })
	h.start()

	h.waitState(approved, broker.StateActive, 15*time.Second)
	tk := h.waitState(activeID, broker.StateExpired, 20*time.Second)
	if !tk.End.Equal(newEnd) {
		t.Errorf("expired ticket ends %s, want %s", tk.End, newEnd)
	}
}

// A terminated ticket with sessions and no deny entry (left by a crash
// before the outbox existed, so nothing marks it) is cut by the reconciler.
func TestReconcilerCutsUncutTerminatedTicket(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rdb := h.redis()
	store := redisstore.New(rdb, redisstore.Options{})
	id, creds := h.activeWithSession()

	h.kill()
	now := time.Now().UTC()
	tk, err := store.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	tk.Closed = &broker.Decision{By: "bob@example.com", At: now}
	tk.History = append(tk.History, broker.Event{At: now, Actor: "bob@example.com", Action: "terminate", From: tk.State, To: broker.StateTerminated})
	tk.State = broker.StateTerminated
	if err := store.UpdateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, "jit:{tickets}:outbox").Err(); err != nil {
		t.Fatal(err)
	}
	h.start()
	if _, err := h.s3With(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("the uncut session should still work before the reconciler runs: %v", err)
	}
	out, errOut, err := h.jit("carol@example.com", "reconcile", "--output", "json")
	if err != nil {
		t.Fatalf("jit reconcile: %v\n%s", err, errOut)
	}
	var rep broker.ReconcileReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("reconcile output %q: %v", out, err)
	}
	if rep.Cleaned != 1 || len(rep.Errors) != 0 {
		t.Errorf("reconcile report %+v, want one ticket cleaned and no errors", rep)
	}
	if !denied(h.ticket(id)) {
		t.Errorf("ticket %s has no deny entry after the reconciler ran", id)
	}
	var ae smithy.APIError
	if _, err := h.s3With(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("session after the reconciler: %v, want AccessDenied", err)
	}
}

// A process killed while it runs a ticket's activation leaves the task to
// Asynq, which recovers it only after its lease, a one-minute recovery
// pass and a retry delay (minutes, a large part of a short window). The
// overdue sweep runs the activation itself a few seconds after the start
// instead, once the dead process's lock has lapsed.
func TestActivationKilledMidFlightIsRunByTheSweep(t *testing.T) {
	h := newHarness(t)
	h.sb.SetAssignmentBehaviour(3*time.Second, "SUCCEEDED") // each assignment takes 3 s to finish
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", "killed mid-activation")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	// Kill the server while the assignment is being made.
	h.waitTicket(tk.ID, 10*time.Second, "an assignment in flight", func(tk broker.Ticket) bool {
		return tk.State == broker.StateApproved && len(tk.Grants) > 0 && tk.Grants[0].State == broker.GrantIntent
	})
	h.kill()
	h.start()
	restarted := time.Now()
	// Asynq alone would take a minute or more; the sweep takes a lock lease
	// (6 s) plus the assignment (3 s) plus a sweep tick.
	got := h.waitState(tk.ID, broker.StateActive, 40*time.Second)
	t.Logf("active %v after the restart", time.Since(restarted).Round(100*time.Millisecond))
	if len(got.Grants) != 1 || got.Grants[0].State != broker.GrantDone {
		t.Errorf("grants %+v, want alice's assignment done", got.Grants)
	}
}
