package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/internal/fake"
	"github.com/jitaccess/jit/internal/redistest"
	"github.com/jitaccess/jit/policies"
)

// rbgWorld is a break-glass world on a private redis-server, wired as the
// server wires it: tickets, outbox and agenda in redisstore, the registry
// stored in Redis and watched by the enforcer, tasks in Asynq.
type rbgWorld struct {
	svc   *broker.Service
	clock *fake.Clock
	store *redisstore.Store
	sched *tasks.Scheduler
	notes *notes
}

func newRBGWorld(t *testing.T, r broker.RegistryData) *rbgWorld {
	t.Helper()
	srv, err := redistest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rdb.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	reg := redisstore.NewRegistry(rdb, redisstore.Options{})
	broker.NormalizeRegistry(&r)
	if _, err := reg.Seed(ctx, r); err != nil {
		t.Fatal(err)
	}
	authz, err := policies.Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := authz.Watch(ctx, policies.RedisPubSub{Client: rdb}, reg, policies.WatchOptions{}); err != nil {
		t.Fatal(err)
	}
	sched, err := tasks.NewScheduler(asynq.RedisClientOpt{Addr: srv.Addr}, tasks.SchedulerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sched.Close() })
	w := &rbgWorld{clock: fake.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)), store: redisstore.New(rdb, redisstore.Options{}), sched: sched, notes: &notes{}}
	w.svc, err = broker.NewService(broker.ServiceConfig{
		Store: w.store, Outbox: w.store, Agenda: w.store, Scheduler: sched, Rescheduler: sched,
		Registry: reg, RegistryStore: reg, OnRegistryChange: authz.Changed,
		Authorizer: authz, BreakGlass: authz, Approvals: approvals.New(authz), Minter: &eMinter{}, Revoker: dNoop{},
		Clock: w.clock, Notifier: w.notes, Directory: broker.ListDirectory{Domains: []string{"example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *rbgWorld) breakGlass(t *testing.T, u broker.User, reason string) *broker.Ticket {
	t.Helper()
	tk, err := w.svc.CreateTicket(as(u), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Duration: 30 * time.Minute, Reason: reason, BreakGlass: true})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// apply changes the registry as `jit admin apply` does (carol is an admin).
func (w *rbgWorld) apply(t *testing.T, edit func(r *broker.RegistryData)) {
	t.Helper()
	r := bgRegistry()
	edit(&r)
	if _, err := w.svc.ApplyRegistry(as(carol), broker.ApplyInput{Registry: r}); err != nil {
		t.Fatal(err)
	}
}

// escalations counts the review overdue events in the ticket's history.
func (w *rbgWorld) escalations(t *testing.T, id string) int {
	t.Helper()
	tk, err := w.store.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range tk.History {
		if e.Action == broker.ActionReviewOverdue {
			n++
		}
	}
	return n
}

// A break-glass ticket's review follows the break-glass rule in force, not
// the rule as it was when the ticket was filed: lee, taken out of the
// rule's notify list after dave broke glass, no longer sees or reviews the
// ticket (404, as anyone with no standing on it); pat, added since, sees
// and reviews it.
func TestBreakGlassReviewFollowsRuleInForce(t *testing.T) {
	w := newRBGWorld(t, bgRegistry())
	tk := w.breakGlass(t, dave, "incident 11")
	pat := broker.User{Email: "pat@example.com"}
	if _, err := w.svc.Ticket(as(lee), tk.ID); err != nil {
		t.Fatalf("lee, told by the rule at filing, cannot see the ticket: %v", err)
	}
	if _, err := w.svc.Ticket(as(pat), tk.ID); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("pat, whom no rule names, sees the ticket: %v", err)
	}

	w.apply(t, func(r *broker.RegistryData) { r.BreakGlass[0].Notify = []string{"pat@example.com"} })

	if _, err := w.svc.Review(as(lee), tk.ID, "looked"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("review by lee, taken out of the rule: %v, want not found", err)
	}
	if _, err := w.svc.Ticket(as(lee), tk.ID); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("lee, taken out of the rule, still sees the ticket: %v", err)
	}
	if page, err := w.svc.ListTickets(as(lee), broker.TicketQuery{Unreviewed: true}); err != nil || len(page.Tickets) != 0 {
		t.Errorf("lee's unreviewed list: %v %v, want empty", ids(page.Tickets), err)
	}
	if page, err := w.svc.ListTickets(as(pat), broker.TicketQuery{Unreviewed: true}); err != nil || !slices.Equal(ids(page.Tickets), []string{tk.ID}) {
		t.Errorf("pat's unreviewed list: %v %v, want the ticket", ids(page.Tickets), err)
	}
	got, err := w.svc.Review(as(pat), tk.ID, "checked the trail")
	if err != nil || len(got.Reviews) != 1 || got.Reviews[0].By != "pat@example.com" {
		t.Fatalf("review by pat, added to the rule: %v %+v", err, got)
	}
}

// The overdue review escalates to the escalate_to of the rule in force
// when the deadline passes: sam was replaced by pat after filing, so pat is
// told and may review, sam is not told and no longer sees the ticket. With
// the rule gone altogether, the administrators are told and review.
func TestBreakGlassEscalationFollowsRuleInForce(t *testing.T) {
	w := newRBGWorld(t, bgRegistry())
	tk := w.breakGlass(t, dave, "incident 12")
	gone := w.breakGlass(t, broker.User{Email: "oc@example.com", Groups: []string{"oncall"}}, "incident 13")
	pat := broker.User{Email: "pat@example.com"}

	w.apply(t, func(r *broker.RegistryData) { r.BreakGlass[0].EscalateTo = []string{"pat@example.com"} })
	w.clock.Advance(4 * time.Hour)
	if err := w.svc.ReviewOverdue(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if ns := w.notes.to("pat@example.com"); len(ns) != 1 || ns[0].Kind != broker.NotifyReviewOverdue || ns[0].TicketID != tk.ID {
		t.Errorf("notifications to pat: %+v, want the overdue review", ns)
	}
	if ns := w.notes.to("sam@example.com"); len(ns) != 0 {
		t.Errorf("sam, no longer escalated to, was told: %+v", ns)
	}
	if _, err := w.svc.Ticket(as(sam), tk.ID); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("sam sees the escalated ticket: %v, want not found", err)
	}
	if _, err := w.svc.Review(as(pat), tk.ID, "late but fine"); err != nil {
		t.Errorf("review by pat after the escalation: %v", err)
	}

	// The rule is removed: nobody but the administrators reviews, and they
	// are told of the overdue review.
	w.apply(t, func(r *broker.RegistryData) { r.BreakGlass = nil })
	if err := w.svc.ReviewOverdue(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	got, err := w.store.Ticket(context.Background(), gone.ID)
	if err != nil || got.BreakGlass.EscalatedAt.IsZero() {
		t.Fatalf("ticket whose rule is gone not escalated: %v %+v", err, got)
	}
	if ns := w.notes.to("group:admins"); len(ns) != 1 || ns[0].TicketID != gone.ID {
		t.Errorf("notifications to the admins: %+v, want the overdue review of %s", ns, gone.ID)
	}
	for _, u := range []broker.User{lee, sam, pat} {
		if _, err := w.svc.Review(as(u), gone.ID, "?"); broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Errorf("review by %s of a ticket whose rule is gone: %v, want not found", u.Email, err)
		}
	}
	if _, err := w.svc.Review(as(carol), gone.ID, "admin review"); err != nil {
		t.Errorf("review by an admin of a ticket whose rule is gone: %v", err)
	}
}

// A lost review_overdue task (an Asynq task lost in Redis's AOF window, or
// a crash between storing the ticket and enqueueing it) does not lose the
// escalation: the overdue sweep (RunOverdue) backs up the review deadline
// as it backs up every other transition, and escalates exactly once; a
// ticket whose task ran escalates once too, with the sweep after it, and
// a lost task that turns up after the sweep changes nothing. The review is
// due (20m) before the ticket ends (30m), so no other write on the ticket
// would repair the lost task.
func TestBreakGlassLostReviewTaskIsSwept(t *testing.T) {
	r := bgRegistry()
	r.BreakGlass[0].ReviewWithin = 20 * time.Minute
	w := newRBGWorld(t, r)
	ctx := context.Background()
	lost := w.breakGlass(t, dave, "incident 14")
	ran := w.breakGlass(t, broker.User{Email: "oc@example.com", Groups: []string{"oncall"}}, "incident 15")

	// The outbox drain puts both tickets in the agenda (as it does after
	// every write), once its grace has passed.
	drained := 0
	for deadline := time.Now().Add(10 * time.Second); drained < 2; time.Sleep(100 * time.Millisecond) {
		n, err := w.svc.DrainOutbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if drained += n; time.Now().After(deadline) {
			t.Fatalf("outbox drained %d tickets, want 2", drained)
		}
	}
	// Then the review task of one is lost.
	taskID := tasks.TaskID(broker.TaskReviewOverdue, lost.ID, lost.BreakGlass.ReviewBy)
	if _, err := w.sched.Inspector().GetTaskInfo(w.sched.Queue(), taskID); err != nil {
		t.Fatalf("review task %s not in Asynq: %v", taskID, err)
	}
	if err := w.sched.Inspector().DeleteTask(w.sched.Queue(), taskID); err != nil {
		t.Fatal(err)
	}

	w.clock.Advance(20*time.Minute - time.Second)
	if _, err := w.svc.RunOverdue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := w.escalations(t, lost.ID); n != 0 {
		t.Fatalf("escalated %d times before the deadline", n)
	}

	w.clock.Advance(time.Second + broker.OverdueGrace + time.Second)
	if err := w.svc.ReviewOverdue(ctx, ran.ID); err != nil { // what the task that was not lost runs
		t.Fatal(err)
	}
	for range 2 {
		if _, err := w.svc.RunOverdue(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := w.escalations(t, lost.ID); n != 1 {
		t.Fatalf("ticket whose review task was lost escalated %d times by the sweep, want 1", n)
	}
	if err := w.svc.ReviewOverdue(ctx, lost.ID); err != nil { // the lost task turns up after all
		t.Fatal(err)
	}
	for _, id := range []string{lost.ID, ran.ID} {
		if n := w.escalations(t, id); n != 1 {
			t.Errorf("ticket %s escalated %d times, want 1", id, n)
		}
	}
	ns := w.notes.to("sam@example.com")
	if len(ns) != 2 || ns[0].TicketID == ns[1].TicketID {
		t.Errorf("overdue reviews told to sam: %+v, want one per ticket", ns)
	}
	if got, err := w.store.Ticket(ctx, lost.ID); err != nil || got.State != broker.StateActive || got.BreakGlass.EscalatedAt.IsZero() {
		t.Errorf("swept ticket: %v %+v, want active (it ends later) and escalated", err, got)
	}
	// Nothing is left to sweep until the tickets end.
	if due, err := w.store.Overdue(ctx, w.clock.Now(), 10); err != nil || len(due) != 0 {
		t.Errorf("agenda after the escalations: %v %v, want nothing due", due, err)
	}
}
