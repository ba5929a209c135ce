package tasks

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

// Timing bounds here are generous on purpose: they catch a task that never
// runs, not one that runs a little late (BenchmarkExpiryLateness measures that).
const runWithin = 10 * time.Second

// TestScheduleRunsOnceNotEarly schedules a task 2 s ahead and checks that it
// runs exactly once and never before its time.
func TestScheduleRunsOnceNotEarly(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})

	ctx := context.Background()
	at := time.Now().Add(2 * time.Second)
	if err := s.Schedule(ctx, broker.TaskActivate, "t1", at); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	c := l.waitCall(t, 2*time.Second+runWithin)
	if c.Kind != broker.TaskActivate || c.ID != "t1" {
		t.Errorf("got call %+v, want Activate(t1)", c)
	}
	if c.At.Before(at) {
		t.Errorf("ran at %s, %s before its time %s", c.At.Format(time.RFC3339Nano), at.Sub(c.At), at.Format(time.RFC3339Nano))
	}
	t.Logf("ran %s after its time", c.At.Sub(at))
	id := TaskID(broker.TaskActivate, "t1", at)
	eventually(t, runWithin, "task completed", func() bool { return taskState(t, s, id) == asynq.TaskStateCompleted })
	if n := len(l.Calls()); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
}

// TestScheduleTwiceRunsOnce: the same kind, ticket and time scheduled many
// times, concurrently and again after it ran, is one task that runs once.
func TestScheduleTwiceRunsOnce(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	ctx := context.Background()
	at := time.Now().Add(3 * time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- s.Schedule(ctx, broker.TaskExpire, "t1", at) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Schedule: %v", err)
		}
	}
	tasks, err := s.Inspector().ListScheduledTasks(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Fatalf("got %d scheduled tasks, want 1", len(tasks))
	}
	if got, want := tasks[0].ID, TaskID(broker.TaskExpire, "t1", at); got != want {
		t.Errorf("task id = %q, want %q", got, want)
	}
	if got, want := string(tasks[0].Payload), `{"ticket_id":"t1","at":"`+at.UTC().Format(time.RFC3339Nano)+`"}`; got != want {
		t.Errorf("payload = %s, want %s", got, want)
	}

	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	l.waitCall(t, 3*time.Second+runWithin)
	id := TaskID(broker.TaskExpire, "t1", at)
	eventually(t, runWithin, "task completed", func() bool { return taskState(t, s, id) == asynq.TaskStateCompleted })

	// A late second approver: the completed task keeps its id taken.
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", at); err != nil {
		t.Fatalf("Schedule after run: %v", err)
	}
	if st := taskState(t, s, id); st != asynq.TaskStateCompleted {
		t.Errorf("task state after scheduling again = %v, want completed", st)
	}
	if n := len(l.Calls()); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
}

// TestUnschedule removes a scheduled task; it never runs. Removing what is
// not there is not an error.
func TestUnschedule(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	ctx := context.Background()

	// Nothing scheduled yet, not even the queue exists.
	if err := s.Unschedule(ctx, broker.TaskExpire, "t1"); err != nil {
		t.Fatalf("Unschedule of nothing: %v", err)
	}
	at := time.Now().Add(3 * time.Second)
	for _, k := range []broker.TaskKind{broker.TaskActivate, broker.TaskExpire} {
		if err := s.Schedule(ctx, k, "t1", at); err != nil {
			t.Fatalf("Schedule %s: %v", k, err)
		}
	}
	if err := s.Unschedule(ctx, broker.TaskActivate, "t1"); err != nil {
		t.Fatalf("Unschedule: %v", err)
	}
	if err := s.Unschedule(ctx, broker.TaskActivate, "t1"); err != nil {
		t.Fatalf("Unschedule twice: %v", err)
	}
	tasks, err := s.Inspector().ListScheduledTasks(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].Type != string(broker.TaskExpire) {
		t.Fatalf("scheduled tasks after unscheduling activate: %v, want only the expiry", tasks)
	}

	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	c := l.waitCall(t, 3*time.Second+runWithin)
	if c.Kind != broker.TaskExpire {
		t.Errorf("got call %+v, want only Expire", c)
	}
	eventually(t, runWithin, "expiry completed", func() bool {
		return taskState(t, s, TaskID(broker.TaskExpire, "t1", at)) == asynq.TaskStateCompleted
	})
	if calls := l.Calls(); len(calls) != 1 {
		t.Errorf("got calls %+v, want one Expire", calls)
	}
}

// TestExtend moves an expiry later the way an extension does (Unschedule,
// then Schedule at the new end): only the new one runs, not before its time.
func TestExtend(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	ctx := context.Background()

	// Both ends more than handOverLead away: their tasks wait in Asynq's
	// schedule, where Unschedule can still delete them. (A task already
	// handed to a worker finds the ticket's new end and does nothing.)
	oldEnd := time.Now().Add(handOverLead + 2*time.Second)
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", oldEnd); err != nil {
		t.Fatal(err)
	}
	newEnd := time.Now().Add(handOverLead + 3500*time.Millisecond)
	if err := s.Unschedule(ctx, broker.TaskExpire, "t1"); err != nil {
		t.Fatalf("Unschedule: %v", err)
	}
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", newEnd); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	c := l.waitCall(t, handOverLead+3500*time.Millisecond+runWithin)
	if c.At.Before(newEnd) {
		t.Errorf("expired at %s, before the new end %s", c.At.Format(time.RFC3339Nano), newEnd.Format(time.RFC3339Nano))
	}
	eventually(t, runWithin, "new expiry completed", func() bool {
		return taskState(t, s, TaskID(broker.TaskExpire, "t1", newEnd)) == asynq.TaskStateCompleted
	})
	if st := taskState(t, s, TaskID(broker.TaskExpire, "t1", oldEnd)); st != 0 {
		t.Errorf("old expiry is still there in state %v", st)
	}
	if calls := l.Calls(); len(calls) != 1 {
		t.Errorf("got calls %+v, want one Expire", calls)
	}
}

// TestPermanentErrorNotRetried: ENOTFOUND is archived after one attempt.
func TestPermanentErrorNotRetried(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	l.RevokeFn = func(context.Context, string) error { return broker.Errorf(broker.ENOTFOUND, "ticket gone") }
	startWorker(t, q, l, ServerConfig{RetryDelay: func(int, error, *asynq.Task) time.Duration { return 0 }})

	at := time.Now()
	if err := s.Schedule(context.Background(), broker.TaskRevoke, "t1", at); err != nil {
		t.Fatal(err)
	}
	id := TaskID(broker.TaskRevoke, "t1", at)
	eventually(t, runWithin, "task archived", func() bool { return taskState(t, s, id) == asynq.TaskStateArchived })
	info, err := s.Inspector().GetTaskInfo(q, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Retried != 0 {
		t.Errorf("retried %d times, want 0", info.Retried)
	}
	if n := len(l.Calls()); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
}

// TestTransientErrorRetried: any other error is retried until it succeeds.
func TestTransientErrorRetried(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	var mu sync.Mutex
	failures := 2
	l.ActivateFn = func(context.Context, string) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return broker.Errorf(broker.EUNAVAILABLE, "identity center is throttling")
		}
		return nil
	}
	startWorker(t, q, l, ServerConfig{RetryDelay: func(int, error, *asynq.Task) time.Duration { return 0 }})

	at := time.Now()
	if err := s.Schedule(context.Background(), broker.TaskActivate, "t1", at); err != nil {
		t.Fatal(err)
	}
	id := TaskID(broker.TaskActivate, "t1", at)
	eventually(t, runWithin, "task completed", func() bool { return taskState(t, s, id) == asynq.TaskStateCompleted })
	if n := len(l.Calls()); n != 3 {
		t.Errorf("got %d calls, want 3 (two failures, then success)", n)
	}
	info, err := s.Inspector().GetTaskInfo(q, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Retried != 2 {
		t.Errorf("retried %d times, want 2", info.Retried)
	}
}

// TestScheduleRearmsArchived: scheduling again a job that failed for good
// replaces it, so it runs again.
func TestScheduleRearmsArchived(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	var mu sync.Mutex
	fail := true
	l.ExpireFn = func(context.Context, string) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return broker.Errorf(broker.EINVALID, "bad")
		}
		return nil
	}
	startWorker(t, q, l, ServerConfig{})
	ctx := context.Background()
	at := time.Now()
	id := TaskID(broker.TaskExpire, "t1", at)
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", at); err != nil {
		t.Fatal(err)
	}
	eventually(t, runWithin, "task archived", func() bool { return taskState(t, s, id) == asynq.TaskStateArchived })
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", at); err != nil {
		t.Fatalf("Schedule again: %v", err)
	}
	eventually(t, runWithin, "task completed", func() bool { return taskState(t, s, id) == asynq.TaskStateCompleted })
	if n := len(l.Calls()); n != 2 {
		t.Errorf("got %d calls, want 2", n)
	}
}

func TestScheduleInvalid(t *testing.T) {
	t.Parallel()
	s := newScheduler(t, newQueue(t))
	ctx := context.Background()
	for _, tc := range []struct {
		kind broker.TaskKind
		id   string
		at   time.Time
	}{
		{"", "t1", time.Now()},
		{broker.TaskExpire, "", time.Now()},
		{broker.TaskExpire, "t1", time.Time{}},
	} {
		err := s.Schedule(ctx, tc.kind, tc.id, tc.at)
		if code := broker.ErrorCode(err); code != broker.EINVALID {
			t.Errorf("Schedule(%q, %q, %v) = %v, want code %s", tc.kind, tc.id, tc.at, err, broker.EINVALID)
		}
	}
}
