package broker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// doneRevoker records every deny request, with its user.
type doneRevoker struct {
	mu   sync.Mutex
	reqs []broker.RevokeRequest
	fail int // how many of the next calls fail
}

func (r *doneRevoker) Revoke(_ context.Context, req broker.RevokeRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("iam: connection reset")
	}
	r.reqs = append(r.reqs, req)
	return nil
}

func (r *doneRevoker) take() []broker.RevokeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// doneDirectory knows every user.
type doneDirectory struct{}

func (doneDirectory) ResolveUser(_ context.Context, email string) (string, error) {
	return "id-" + email, nil
}

type doneEnv struct {
	*grantEnv
	rev *doneRevoker
}

// newDoneEnv is newGrantEnv with a user directory (tickets for others) and
// a revoker that records who is cut.
func newDoneEnv(t *testing.T, path broker.GrantPath) *doneEnv {
	t.Helper()
	rev := &doneRevoker{}
	return &doneEnv{grantEnv: newGrantEnv(t, path, func(c *broker.ServiceConfig) {
		c.Revoker, c.Directory = rev, doneDirectory{}
	}), rev: rev}
}

func asUser(email string) context.Context {
	return broker.WithUser(context.Background(), broker.User{Email: email})
}

// fileFor files a ticket as requester for the beneficiaries, starting now.
func (e *doneEnv) fileFor(t *testing.T, requester string, beneficiaries ...string) *broker.Ticket {
	t.Helper()
	tk, err := e.svc.CreateTicket(asUser(requester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Beneficiaries: beneficiaries, End: e.clock.Now().Add(time.Hour), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (e *doneEnv) done(t *testing.T, user, id string) *broker.Ticket {
	t.Helper()
	tk, err := e.svc.Done(asUser(user), id, "")
	if err != nil {
		t.Fatalf("%s done: %v", user, err)
	}
	return tk
}

func (e *doneEnv) mayMint(t *testing.T, user, id string, want bool) {
	t.Helper()
	_, err := e.svc.Credentials(asUser(user), id)
	if got := err == nil; got != want {
		t.Fatalf("credentials for %s: err %v, want success=%v", user, err, want)
	}
	if !want && broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("credentials for %s: %v, want a conflict", user, err)
	}
}

// On the role path a beneficiary's done cuts only that beneficiary's
// sessions (a deny keyed on the ticket and the user) and refuses them new
// ones; the others go on. The requester's done ends the ticket for all.
func TestBeneficiaryDoneRolePath(t *testing.T) {
	e := newDoneEnv(t, broker.GrantRole)
	tk := e.fileFor(t, "alice@example.com", "alice@example.com", "dave@example.com")
	e.mayMint(t, "alice@example.com", tk.ID, true)
	e.mayMint(t, "dave@example.com", tk.ID, true)

	got := e.done(t, "dave@example.com", tk.ID)
	if got.State != broker.StateActive || !got.IsDone("dave@example.com") || got.IsDone("alice@example.com") {
		t.Fatalf("after dave's done: state %s done %+v; want active with dave done", got.State, got.Done)
	}
	if reqs := e.rev.take(); len(reqs) != 1 || reqs[0].TicketID != tk.ID || reqs[0].User != "dave@example.com" {
		t.Fatalf("deny requests after dave's done: %+v, want one for dave on the ticket", reqs)
	}
	e.mayMint(t, "dave@example.com", tk.ID, false)
	e.mayMint(t, "alice@example.com", tk.ID, true)

	// Saying it again changes nothing, and the revoke task's cut is
	// recorded: it asks AWS nothing new.
	again := e.done(t, "dave@example.com", tk.ID)
	if len(again.History) != len(got.History) {
		t.Errorf("second done added history: %+v", again.History)
	}
	if err := e.svc.Revoke(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if reqs := e.rev.take(); len(reqs) != 0 {
		t.Errorf("repeated cuts asked AWS again: %+v", reqs)
	}

	end := e.done(t, "alice@example.com", tk.ID)
	if end.State != broker.StateTerminated {
		t.Fatalf("after the requester's done: %s, want terminated", end.State)
	}
	if reqs := e.rev.take(); len(reqs) != 1 || reqs[0].User != "" {
		t.Fatalf("deny requests after the requester's done: %+v, want the whole ticket's", reqs)
	}
}

// A beneficiary's cut that fails when they say done is left to the revoke
// task, which was scheduled before the done was recorded (so a crash in
// between is repaired too) and makes the cut.
func TestBeneficiaryDoneCutRetried(t *testing.T) {
	e := newDoneEnv(t, broker.GrantRole)
	tk := e.fileFor(t, "alice@example.com", "alice@example.com", "dave@example.com")
	e.sched.got = nil
	e.rev.fail = 1
	if got := e.done(t, "dave@example.com", tk.ID); !got.IsDone("dave@example.com") {
		t.Fatalf("dave's done not recorded: %+v", got.Done)
	}
	if len(e.sched.got) == 0 || e.sched.got[0] != string(broker.TaskRevoke)+":"+tk.ID {
		t.Fatalf("tasks %v: want the revoke task scheduled first", e.sched.got)
	}
	if reqs := e.rev.take(); len(reqs) != 0 {
		t.Fatalf("deny requests %+v, want the failed one only", reqs)
	}
	if err := e.svc.Revoke(context.Background(), tk.ID); err != nil { // the task
		t.Fatal(err)
	}
	if reqs := e.rev.take(); len(reqs) != 1 || reqs[0].User != "dave@example.com" {
		t.Fatalf("deny requests from the revoke task: %+v, want dave's", reqs)
	}
	if g := e.state(t, tk.ID).Grants; len(g) != 1 || g[0].Kind != broker.GrantUserDeny || g[0].State != broker.GrantDone {
		t.Fatalf("grants %+v, want dave's user_deny done", g)
	}
}

// A requester who is not a beneficiary: each beneficiary's done ends only
// their access, and the last one's ends the ticket.
func TestLastBeneficiaryDoneEndsTicket(t *testing.T) {
	e := newDoneEnv(t, broker.GrantRole)
	tk := e.fileFor(t, "carol@example.com", "alice@example.com", "dave@example.com")
	if got := e.done(t, "alice@example.com", tk.ID); got.State != broker.StateActive {
		t.Fatalf("after alice's done: %s, want active for dave", got.State)
	}
	e.mayMint(t, "dave@example.com", tk.ID, true)
	if got := e.done(t, "dave@example.com", tk.ID); got.State != broker.StateTerminated {
		t.Fatalf("after the last beneficiary's done: %s, want terminated", got.State)
	}
}

// On the Identity Center path a beneficiary's done releases that user's
// assignment (and cuts their portal sessions); the others' stay.
func TestBeneficiaryDoneIdentityCenter(t *testing.T) {
	e := newDoneEnv(t, broker.GrantIdentityCenter)
	tk := e.fileFor(t, "alice@example.com", "alice@example.com", "dave@example.com")
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if e.aws.live() != 2 {
		t.Fatalf("%d assignments, want 2", e.aws.live())
	}
	e.done(t, "dave@example.com", tk.ID)
	if err := e.svc.Revoke(context.Background(), tk.ID); err != nil { // the task Done scheduled
		t.Fatal(err)
	}
	if !slices.Contains(e.sched.got, string(broker.TaskRevoke)+":"+tk.ID) {
		t.Errorf("tasks %v: want the revoke task scheduled", e.sched.got)
	}
	e.aws.mu.Lock()
	_, alice := e.aws.assignments["111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-1/alice@example.com"]
	_, dave := e.aws.assignments["111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-1/dave@example.com"]
	cuts := slices.Clone(e.aws.cuts)
	e.aws.mu.Unlock()
	if !alice || dave {
		t.Fatalf("assignments after dave's done: alice=%v dave=%v; want alice's only", alice, dave)
	}
	if len(cuts) != 2 || cuts[0].User != "dave@example.com" || cuts[1].User != "dave@example.com" {
		t.Fatalf("portal cuts %+v, want dave's (provisional and settled)", cuts)
	}
	if got := e.state(t, tk.ID); got.State != broker.StateActive {
		t.Fatalf("ticket is %s, want active for alice", got.State)
	}
}

// A ticket filed to start now without approval, on the role path, is
// active when CreateTicket returns: credentials work at once.
func TestStartNowUsableAtOnce(t *testing.T) {
	e := newDoneEnv(t, broker.GrantRole)
	tk := e.fileFor(t, "alice@example.com")
	if tk.State != broker.StateActive {
		t.Fatalf("new start-now ticket is %s, want active", tk.State)
	}
	if !slices.Contains(e.sched.got, string(broker.TaskExpire)+":"+tk.ID) {
		t.Errorf("tasks %v: want its expiry scheduled", e.sched.got)
	}
	e.mayMint(t, "alice@example.com", tk.ID, true)
}

// An approved ticket whose start has come but whose activation task has
// not run yet (the Identity Center path, or any path right after the last
// approval) is activated by the first credentials call, not refused.
func TestCredentialsActivateStartedTicket(t *testing.T) {
	e := newDoneEnv(t, broker.GrantBoth)
	tk := e.fileFor(t, "alice@example.com")
	if tk.State != broker.StateApproved {
		t.Fatalf("new ticket on the Identity Center path is %s, want approved (its assignments are made by activation)", tk.State)
	}
	e.mayMint(t, "alice@example.com", tk.ID, true)
	if got := e.state(t, tk.ID); got.State != broker.StateActive || e.aws.live() != 1 {
		t.Fatalf("after credentials: %s with %d assignments, want active with alice's", got.State, e.aws.live())
	}
}
