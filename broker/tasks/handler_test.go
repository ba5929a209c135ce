package tasks

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

func mustTask(t *testing.T, kind broker.TaskKind, id string, at time.Time) *asynq.Task {
	t.Helper()
	task, err := newTask(kind, id, at)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// TestHandlerWaitsForDueTime hands a handler a task 1.5 s early, as Asynq
// can, and checks that it acts no earlier than the task's time.
func TestHandlerWaitsForDueTime(t *testing.T) {
	t.Parallel()
	l := newFakeLifecycle()
	at := time.Now().Add(1500 * time.Millisecond)
	h := NewExpireHandler(l, SystemClock{})
	if err := h.ProcessTask(context.Background(), mustTask(t, broker.TaskExpire, "t1", at)); err != nil {
		t.Fatalf("ProcessTask: %v", err)
	}
	returned := time.Now()
	if returned.Before(at) {
		t.Errorf("handler returned at %s, before the task's time %s", returned.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	}
	calls := l.Calls()
	if len(calls) != 1 {
		t.Fatalf("got %d calls, want 1", len(calls))
	}
	if c := calls[0]; c.Kind != broker.TaskExpire || c.ID != "t1" || c.At.Before(at) {
		t.Errorf("got call %+v, want Expire(t1) at or after %s", c, at.Format(time.RFC3339Nano))
	}
}

// TestHandlerWaitsOnClock drives the wait with a fake clock: nothing happens
// until the clock reaches the task's time.
func TestHandlerWaitsOnClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	at := clock.Now().Add(900 * time.Millisecond)
	l := newFakeLifecycle()
	h := NewActivateHandler(l, clock)
	done := make(chan error, 1)
	go func() { done <- h.ProcessTask(context.Background(), mustTask(t, broker.TaskActivate, "t1", at)) }()

	if d := <-clock.waiting; d != 900*time.Millisecond {
		t.Errorf("handler waits %s, want 900ms", d)
	}
	clock.Advance(899 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("handler returned %v 1ms before the task's time", err)
	case <-time.After(50 * time.Millisecond):
	}
	if n := len(l.Calls()); n != 0 {
		t.Fatalf("handler acted %d times before the task's time", n)
	}
	clock.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatalf("ProcessTask: %v", err)
	}
	if n := len(l.Calls()); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
}

func TestHandlerCancelled(t *testing.T) {
	t.Parallel()
	l := newFakeLifecycle()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := NewRevokeHandler(l, SystemClock{}).ProcessTask(ctx, mustTask(t, broker.TaskRevoke, "t1", time.Now().Add(5*time.Second)))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, asynq.SkipRetry) {
		t.Errorf("a cancelled wait must be retried, got %v", err)
	}
	if n := len(l.Calls()); n != 0 {
		t.Errorf("got %d calls, want none", n)
	}
}

// TestHandlerTooEarly: a task handed over more than MaxWait early goes back
// to run at its time, and that is not counted as a failure.
func TestHandlerTooEarly(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	l := newFakeLifecycle()
	task := mustTask(t, broker.TaskActivate, "t1", clock.Now().Add(time.Minute))
	err := NewActivateHandler(l, clock).ProcessTask(context.Background(), task)
	e, ok := notDue(err)
	if !ok {
		t.Fatalf("got %v, want a *NotDueError", err)
	}
	if e.In != time.Minute {
		t.Errorf("NotDueError.In = %s, want 1m", e.In)
	}
	if isFailure(err) {
		t.Error("isFailure(not due) = true, want false")
	}
	if got := retryDelay(asynq.DefaultRetryDelayFunc, time.Hour)(3, err, task); got != time.Minute {
		t.Errorf("retry delay = %s, want 1m", got)
	}
	if n := len(l.Calls()); n != 0 {
		t.Errorf("got %d calls, want none", n)
	}
	other := errors.New("boom")
	if !isFailure(other) {
		t.Error("isFailure(other) = false, want true")
	}
	if got := retryDelay(func(int, error, *asynq.Task) time.Duration { return 7 * time.Second }, time.Hour)(0, other, task); got != 7*time.Second {
		t.Errorf("retry delay for other errors = %s, want the base delay 7s", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Second)
	tests := []struct {
		name      string
		task      *asynq.Task
		err       error // returned by the lifecycle
		wantErr   bool
		wantSkip  bool
		wantCalls int
	}{
		{name: "ok", task: mustTask(t, broker.TaskExpire, "t1", past), wantCalls: 1},
		{name: "not json", task: asynq.NewTask(string(broker.TaskExpire), []byte("{")), wantErr: true, wantSkip: true},
		{name: "no ticket", task: asynq.NewTask(string(broker.TaskExpire), []byte(`{"at":"2030-01-01T00:00:00Z"}`)), wantErr: true, wantSkip: true},
		{name: "no time", task: asynq.NewTask(string(broker.TaskExpire), []byte(`{"ticket_id":"t1"}`)), wantErr: true, wantSkip: true},
		{name: "bad time", task: asynq.NewTask(string(broker.TaskExpire), []byte(`{"ticket_id":"t1","at":"soon"}`)), wantErr: true, wantSkip: true},
		{name: "not found", task: mustTask(t, broker.TaskExpire, "t1", past), err: broker.Errorf(broker.ENOTFOUND, "gone"), wantErr: true, wantSkip: true, wantCalls: 1},
		{name: "invalid", task: mustTask(t, broker.TaskExpire, "t1", past), err: broker.Errorf(broker.EINVALID, "bad"), wantErr: true, wantSkip: true, wantCalls: 1},
		{name: "forbidden", task: mustTask(t, broker.TaskExpire, "t1", past), err: broker.Errorf(broker.EFORBIDDEN, "no"), wantErr: true, wantSkip: true, wantCalls: 1},
		{name: "conflict", task: mustTask(t, broker.TaskExpire, "t1", past), err: broker.Errorf(broker.ECONFLICT, "busy"), wantErr: true, wantCalls: 1},
		{name: "unavailable", task: mustTask(t, broker.TaskExpire, "t1", past), err: broker.Errorf(broker.EUNAVAILABLE, "aws down"), wantErr: true, wantCalls: 1},
		{name: "internal", task: mustTask(t, broker.TaskExpire, "t1", past), err: errors.New("redis: connection refused"), wantErr: true, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newFakeLifecycle()
			l.ExpireFn = func(context.Context, string) error { return tt.err }
			err := NewExpireHandler(l, SystemClock{}).ProcessTask(context.Background(), tt.task)
			if got := err != nil; got != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if got := errors.Is(err, asynq.SkipRetry); got != tt.wantSkip {
				t.Errorf("errors.Is(%v, SkipRetry) = %v, want %v", err, got, tt.wantSkip)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error %v does not wrap the lifecycle's error %v", err, tt.err)
			}
			if got := len(l.Calls()); got != tt.wantCalls {
				t.Errorf("got %d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestMuxRoutes(t *testing.T) {
	t.Parallel()
	l := newFakeLifecycle()
	mux := NewMux(l, SystemClock{}, discard)
	past := time.Now().Add(-time.Second)
	for _, k := range []broker.TaskKind{broker.TaskActivate, broker.TaskExpire, broker.TaskRevoke} {
		if err := mux.ProcessTask(context.Background(), mustTask(t, k, "t-"+string(k), past)); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	var got []broker.TaskKind
	for _, c := range l.Calls() {
		if c.ID != "t-"+string(c.Kind) {
			t.Errorf("%s called with ticket %q", c.Kind, c.ID)
		}
		got = append(got, c.Kind)
	}
	want := []broker.TaskKind{broker.TaskActivate, broker.TaskExpire, broker.TaskRevoke}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got calls %v, want %v", got, want)
	}
	if err := mux.ProcessTask(context.Background(), asynq.NewTask("ticket:unknown", nil)); err == nil {
		t.Error("unknown task type: got nil error")
	}
}

func TestTaskIDDeterministic(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	a := TaskID(broker.TaskExpire, "t1", at)
	if b := TaskID(broker.TaskExpire, "t1", at.In(time.FixedZone("x", 3600))); a != b {
		t.Errorf("same instant in another zone: %q != %q", a, b)
	}
	if a != "ticket:expire:t1:1893553445000000006" {
		t.Errorf("TaskID = %q", a)
	}
	for _, other := range []string{
		TaskID(broker.TaskActivate, "t1", at),
		TaskID(broker.TaskExpire, "t2", at),
		TaskID(broker.TaskExpire, "t1", at.Add(time.Nanosecond)),
	} {
		if other == a {
			t.Errorf("different jobs share id %q", a)
		}
	}
}

// A failed ticket task is retried within MaxRetryDelay, however often it
// failed: Asynq's own delay grows as n^4 seconds (minutes by the third
// retry), too long for a cut that must happen.
func TestRetryDelayCapped(t *testing.T) {
	f := retryDelay(asynq.DefaultRetryDelayFunc, 30*time.Second)
	task := asynq.NewTask(string(broker.TaskRevoke), nil)
	for n := range 25 {
		if d := f(n, errors.New("throttled"), task); d > 30*time.Second || d <= 0 {
			t.Fatalf("retry %d waits %v, want (0, 30s]", n, d)
		}
	}
}
