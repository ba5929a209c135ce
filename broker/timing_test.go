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

// Boundary tests: every decision checks the clock itself, so a deadline
// or expiry task that runs late lets nothing through. The clock is the
// fake of grants_test.go; no task runs unless a test calls it.

type timingEnv struct {
	svc   *broker.Service
	clock *fake.Clock
	store *fake.Store
	sched *gSched
	aws   *gAWS
}

const (
	tRequester = "alice@example.com"
	tApprover  = "bob@example.com"
	tApprover2 = "dave@example.com"
)

func asEmail(email string) context.Context {
	return broker.WithUser(context.Background(), broker.User{Email: email})
}

// newTimingEnv serves two permission sets: "Approved" under rule, and
// "Auto", which needs no approval.
func newTimingEnv(t *testing.T, rule broker.ApprovalRule) *timingEnv {
	t.Helper()
	e := &timingEnv{
		clock: fake.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)),
		store: fake.NewStore(),
		sched: &gSched{},
		aws:   &gAWS{assignments: map[string]bool{}},
	}
	if len(rule.Stages) == 0 {
		rule.Stages = []broker.RuleStage{{Approvers: []string{tApprover}, Required: 1}}
	}
	rule.PermissionSet = "Approved"
	eng := approvals.New(fake.OneRule(rule))
	reg := &broker.StaticRegistry{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "Approved", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true},
			{Name: "Auto", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour},
		},
	}
	n := 0
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: e.store, Scheduler: e.sched, Registry: reg, Authorizer: gAllow{}, Approvals: eng,
		Minter: e.aws, Revoker: e.aws, Clock: e.clock, NewID: func() string { n++; return "t" + string(rune('0'+n)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// file files a ticket from now for d with the permission set.
func (e *timingEnv) file(t *testing.T, ps string, d time.Duration) *broker.Ticket {
	t.Helper()
	tk, err := e.svc.CreateTicket(asEmail(tRequester), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: ps,
		End: e.clock.Now().Add(d), Reason: "boundary"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// activate files an auto-approved ticket and makes it active.
func (e *timingEnv) activate(t *testing.T, ps string, d time.Duration) *broker.Ticket {
	t.Helper()
	tk := e.file(t, ps, d)
	if ps == "Approved" {
		if _, err := e.svc.Approve(asEmail(tApprover), tk.ID, "ok"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	return e.get(t, tk.ID)
}

func (e *timingEnv) get(t *testing.T, id string) *broker.Ticket {
	t.Helper()
	tk, err := e.store.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// setClock puts the clock at the instant.
func (e *timingEnv) setClock(at time.Time) {
	e.clock.Set(at)
}

func (e *timingEnv) scheduled(kind broker.TaskKind, id string) bool {
	e.sched.mu.Lock()
	defer e.sched.mu.Unlock()
	return slices.Contains(e.sched.got, string(kind)+":"+id)
}

func wantCode(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := broker.ErrorCode(err); err == nil && want != "" || err != nil && got != want {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, want)
	}
}

// An approval counts only before the ticket's end and before its approval
// deadline: at the instant itself and after it, it is refused and changes
// nothing, whatever the late-approval policy; just before, a late
// approval moves the window as the policy says.
func TestDecisionAtEndAndDeadline(t *testing.T) {
	const length = 15 * time.Second
	cases := []struct {
		name     string
		late     broker.LatePolicy
		deadline time.Duration // of the rule; 0: the ticket's end
		op       string        // "approve" or "reject"
		at       time.Duration // after the deadline (or end)
		want     string        // error code; "" for none
	}{
		{"keep_length just before the end", broker.LateKeepLength, 0, "approve", -time.Millisecond, ""},
		{"keep_length at the end", broker.LateKeepLength, 0, "approve", 0, broker.ECONFLICT},
		{"keep_length 45ms after the end", broker.LateKeepLength, 0, "approve", 45 * time.Millisecond, broker.ECONFLICT},
		{"keep_end just before the end", broker.LateKeepEnd, 0, "approve", -time.Nanosecond, ""},
		{"keep_end at the end", broker.LateKeepEnd, 0, "approve", 0, broker.ECONFLICT},
		{"keep_end 144ms after the end", broker.LateKeepEnd, 0, "approve", 144 * time.Millisecond, broker.ECONFLICT},
		{"reject at the end", broker.LateKeepEnd, 0, "reject", 0, broker.ECONFLICT},
		{"approve just before the deadline", broker.LateKeepEnd, 5 * time.Second, "approve", -time.Nanosecond, ""},
		{"approve at the deadline", broker.LateKeepEnd, 5 * time.Second, "approve", 0, broker.ECONFLICT},
		{"approve 34ms after the deadline", broker.LateKeepLength, 5 * time.Second, "approve", 34 * time.Millisecond, broker.ECONFLICT},
		{"reject just before the deadline", broker.LateKeepEnd, 5 * time.Second, "reject", -time.Nanosecond, ""},
		{"reject at the deadline", broker.LateKeepEnd, 5 * time.Second, "reject", 0, broker.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTimingEnv(t, broker.ApprovalRule{LateApproval: c.late, Deadline: c.deadline})
			tk := e.file(t, "Approved", length)
			if !tk.ApprovalDeadline.Equal(tk.Start.Add(c.deadline)) && c.deadline > 0 || c.deadline == 0 && !tk.ApprovalDeadline.Equal(tk.End) {
				t.Fatalf("approval deadline %s of a ticket %s to %s", tk.ApprovalDeadline, tk.Start, tk.End)
			}
			e.setClock(tk.ApprovalDeadline.Add(c.at))
			var err error
			if c.op == "approve" {
				_, err = e.svc.Approve(asEmail(tApprover), tk.ID, "late")
			} else {
				_, err = e.svc.Reject(asEmail(tApprover), tk.ID, "late")
			}
			wantCode(t, c.op, err, c.want)
			got := e.get(t, tk.ID)
			switch {
			case c.want != "":
				if got.State != broker.StatePending || len(got.Approvals) != 0 || e.scheduled(broker.TaskActivate, tk.ID) {
					t.Fatalf("refused %s changed the ticket: state %s, approvals %+v, activation scheduled %v",
						c.op, got.State, got.Approvals, e.scheduled(broker.TaskActivate, tk.ID))
				}
				// The deadline task, running late, still expires it.
				if err := e.svc.Deadline(context.Background(), tk.ID); err != nil {
					t.Fatal(err)
				}
				if got := e.get(t, tk.ID); got.State != broker.StateExpired || len(got.PendingApprovers) != 0 {
					t.Fatalf("after the deadline task: %s with approvers %v, want expired with none", got.State, got.PendingApprovers)
				}
			case c.op == "reject":
				if got.State != broker.StateRejected {
					t.Fatalf("state %s, want rejected", got.State)
				}
			default:
				if got.State != broker.StateApproved {
					t.Fatalf("state %s, want approved", got.State)
				}
				if !got.End.After(e.clock.Now()) {
					t.Fatalf("approved ticket ends at %s, not after the approval at %s", got.End, e.clock.Now())
				}
				wantEnd := tk.End
				if c.late == broker.LateKeepLength && e.clock.Now().After(tk.Start) {
					wantEnd = e.clock.Now().Truncate(time.Second).Add(length)
				}
				if !got.End.Equal(wantEnd) {
					t.Fatalf("end %s, want %s (%s)", got.End, wantEnd, c.late)
				}
			}
		})
	}
}

// With two approvals needed, the first counts before the deadline and the
// second, after it, does not: the ticket is not approved.
func TestSecondApprovalAfterDeadline(t *testing.T) {
	e := newTimingEnv(t, broker.ApprovalRule{Deadline: 5 * time.Second,
		Stages: []broker.RuleStage{{Approvers: []string{tApprover, tApprover2}, Required: 2}}})
	tk := e.file(t, "Approved", time.Hour)
	if _, err := e.svc.Approve(asEmail(tApprover), tk.ID, "first"); err != nil {
		t.Fatal(err)
	}
	e.setClock(tk.ApprovalDeadline.Add(34 * time.Millisecond))
	_, err := e.svc.Approve(asEmail(tApprover2), tk.ID, "second")
	wantCode(t, "second approval", err, broker.ECONFLICT)
	if got := e.get(t, tk.ID); got.State != broker.StatePending || len(got.Approvals) != 1 {
		t.Fatalf("state %s with %d approvals, want pending with 1", got.State, len(got.Approvals))
	}
	// Nor is it listed as waiting for the second approver any more.
	list, err := e.svc.Tickets(asEmail(tApprover2), broker.ListInput{PendingForMe: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Fatalf("pending for %s after the deadline: %d tickets, want none", tApprover2, len(list))
	}
}

// An extension asked at or after the end is refused, auto-approved or
// not; just before the end it is granted (auto) or opened (approved).
func TestExtendAtTheEnd(t *testing.T) {
	for _, ps := range []string{"Auto", "Approved"} {
		for _, at := range []time.Duration{-time.Millisecond, 0, 500 * time.Millisecond} {
			t.Run(ps+"/"+at.String(), func(t *testing.T) {
				e := newTimingEnv(t, broker.ApprovalRule{})
				tk := e.activate(t, ps, time.Minute)
				if tk.State != broker.StateActive {
					t.Fatalf("state %s, want active", tk.State)
				}
				e.setClock(tk.End.Add(at))
				_, err := e.svc.Extend(asEmail(tRequester), tk.ID, broker.ExtendInput{By: 2 * time.Minute, Reason: "more"})
				got := e.get(t, tk.ID)
				if at >= 0 {
					wantCode(t, "extend", err, broker.ECONFLICT)
					if !got.End.Equal(tk.End) || got.Extension != nil {
						t.Fatalf("refused extension changed the ticket: end %s, extension %+v", got.End, got.Extension)
					}
					return
				}
				wantCode(t, "extend", err, "")
				switch {
				case ps == "Auto" && !got.End.Equal(tk.End.Add(2*time.Minute)):
					t.Fatalf("auto extension: end %s, want %s", got.End, tk.End.Add(2*time.Minute))
				case ps == "Approved" && (got.Extension == nil || got.Extension.State != broker.ExtensionPending || !got.End.Equal(tk.End)):
					t.Fatalf("extension %+v, end %s; want it pending and the end kept", got.Extension, got.End)
				}
			})
		}
	}
}

// extensionPending returns an active one-minute ticket whose requester
// asked for two more minutes, with the clock at its end plus at.
func (e *timingEnv) extensionPending(t *testing.T, at time.Duration) *broker.Ticket {
	t.Helper()
	tk := e.activate(t, "Approved", time.Minute)
	if _, err := e.svc.Extend(asEmail(tRequester), tk.ID, broker.ExtendInput{By: 2 * time.Minute, Reason: "more"}); err != nil {
		t.Fatal(err)
	}
	e.setClock(tk.End.Add(at))
	return tk
}

// A pending extension can be decided until the ticket's end, not at it or
// after; when the ticket ends it is closed and waits for nobody.
func TestExtensionAtTheEnd(t *testing.T) {
	for _, op := range []string{"approve", "reject"} {
		for _, at := range []time.Duration{-time.Nanosecond, 0, 20 * time.Millisecond} {
			t.Run(op+"/"+at.String(), func(t *testing.T) {
				e := newTimingEnv(t, broker.ApprovalRule{})
				tk := e.extensionPending(t, at)
				var err error
				if op == "approve" {
					_, err = e.svc.Approve(asEmail(tApprover), tk.ID, "late")
				} else {
					_, err = e.svc.Reject(asEmail(tApprover), tk.ID, "late")
				}
				got := e.get(t, tk.ID)
				if at < 0 {
					wantCode(t, op, err, "")
					want := map[string]broker.ExtensionState{"approve": broker.ExtensionApproved, "reject": broker.ExtensionRejected}[op]
					if got.Extension.State != want {
						t.Fatalf("extension %s, want %s", got.Extension.State, want)
					}
					return
				}
				wantCode(t, op, err, broker.ECONFLICT)
				if !got.End.Equal(tk.End) || got.Extension.State != broker.ExtensionPending {
					t.Fatalf("refused %s changed the ticket: end %s, extension %s", op, got.End, got.Extension.State)
				}
				list, err := e.svc.Tickets(asEmail(tApprover), broker.ListInput{PendingForMe: true})
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != 0 {
					t.Fatalf("the ended ticket's extension is still listed as pending for %s", tApprover)
				}
				if err := e.svc.Expire(context.Background(), tk.ID); err != nil {
					t.Fatal(err)
				}
				got = e.get(t, tk.ID)
				if got.State != broker.StateExpired || got.Extension.State != broker.ExtensionClosed ||
					len(got.Extension.PendingApprovers) != 0 || got.Extension.Closed == nil {
					t.Fatalf("after expiry: %s, extension %+v; want expired with the extension closed", got.State, got.Extension)
				}
			})
		}
	}
}

// Terminate (and done) before the end terminates, closing a pending
// extension; at the end or after it, before the expiry task has run, the
// ticket is recorded as expired.
func TestTerminateAtTheEnd(t *testing.T) {
	for _, op := range []string{"terminate", "done"} {
		for _, at := range []time.Duration{-time.Nanosecond, 0, 300 * time.Millisecond} {
			t.Run(op+"/"+at.String(), func(t *testing.T) {
				e := newTimingEnv(t, broker.ApprovalRule{})
				tk := e.extensionPending(t, at)
				var got *broker.Ticket
				var err error
				if op == "terminate" {
					got, err = e.svc.Terminate(asEmail(tApprover), tk.ID, "stop")
				} else {
					got, err = e.svc.Done(asEmail(tRequester), tk.ID, "")
				}
				if err != nil {
					t.Fatal(err)
				}
				want := broker.StateTerminated
				if at >= 0 {
					want = broker.StateExpired
				}
				if got.State != want {
					t.Fatalf("%s at end%+v: state %s, want %s", op, at, got.State, want)
				}
				if want == broker.StateExpired && got.Closed != nil {
					t.Fatalf("expired ticket records a closing decision %+v", got.Closed)
				}
				if e := got.Extension; e.State != broker.ExtensionClosed || len(e.PendingApprovers) != 0 || e.Closed == nil {
					t.Fatalf("extension %+v, want it closed with nobody pending", e)
				}
				if stored := e.get(t, tk.ID); stored.State != want {
					t.Fatalf("stored state %s, want %s", stored.State, want)
				}
				// A deny entry only where a session can outlive the ticket:
				// at or after the end the session policy already stops them.
				e.aws.mu.Lock()
				denied := slices.Contains(e.aws.revoked, tk.ID)
				e.aws.mu.Unlock()
				if denied != (want == broker.StateTerminated) {
					t.Fatalf("%s at end%+v: deny entry written %v, want %v", op, at, denied, want == broker.StateTerminated)
				}
			})
		}
	}
}

// A thousand ordinary expiries of tickets that handed out sessions write
// no deny entry (each session's policy already stops it at the end), so
// the role's deny list never fills and its compaction never cuts anyone
// else; a termination still writes one.
func TestThousandExpiriesWriteNoDeny(t *testing.T) {
	e := newTimingEnv(t, broker.ApprovalRule{})
	ctx := context.Background()
	var ids []string
	for range 1000 {
		tk := e.activate(t, "Auto", time.Minute)
		if _, err := e.svc.Credentials(asEmail(tRequester), tk.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
	}
	cut := e.activate(t, "Auto", 2*time.Minute)
	e.setClock(e.clock.Now().Add(time.Minute))
	for _, id := range ids {
		if err := e.svc.Expire(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Revoke(ctx, id); err != nil { // the revoke task the outbox schedules
			t.Fatal(err)
		}
		if got := e.get(t, id); got.State != broker.StateExpired {
			t.Fatalf("ticket %s is %s, want expired", id, got.State)
		}
	}
	if _, err := e.svc.Terminate(asEmail(tApprover), cut.ID, "cut"); err != nil {
		t.Fatal(err)
	}
	e.aws.mu.Lock()
	defer e.aws.mu.Unlock()
	if want := []string{cut.ID}; !slices.Equal(e.aws.revoked, want) {
		t.Fatalf("deny entries written for %d tickets (%.5v...), want only the terminated %v", len(e.aws.revoked), e.aws.revoked, want)
	}
}
