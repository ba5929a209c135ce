package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

// TestWorkerRestart: a task scheduled while one worker ran is run by a
// worker started after the first stopped, since tasks live in Redis.
func TestWorkerRestart(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	w := startWorker(t, q, l, ServerConfig{})
	at := time.Now().Add(1500 * time.Millisecond)
	if err := s.Schedule(context.Background(), broker.TaskExpire, "t1", at); err != nil {
		t.Fatal(err)
	}
	w.Shutdown()
	// No worker runs when the task comes due.
	time.Sleep(time.Until(at) + 500*time.Millisecond)
	if n := len(l.Calls()); n != 0 {
		t.Fatalf("got %d calls with no worker running", n)
	}
	startWorker(t, q, l, ServerConfig{})
	c := l.waitCall(t, runWithin)
	if c.Kind != broker.TaskExpire || c.ID != "t1" || c.At.Before(at) {
		t.Errorf("got call %+v, want Expire(t1) after %s", c, at.Format(time.RFC3339Nano))
	}
	eventually(t, runWithin, "task completed", func() bool {
		return taskState(t, s, TaskID(broker.TaskExpire, "t1", at)) == asynq.TaskStateCompleted
	})
	if n := len(l.Calls()); n != 1 {
		t.Errorf("got %d calls, want 1", n)
	}
}
