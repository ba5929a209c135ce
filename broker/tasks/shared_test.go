package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// A Shared client carries the scheduler's and the worker's traffic, and
// neither closes it: its owner still uses it after both are done.
func TestSharedClientRunsTasksAndStaysOpen(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	q := newQueue(t)
	s, err := NewScheduler(Shared{Client: rdb}, SchedulerConfig{Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	l := newFakeLifecycle()
	w := NewWorker(Shared{Client: rdb}, l, ServerConfig{Queue: q, ShutdownTimeout: time.Second, Logger: discard, ReconcileEvery: time.Hour})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Schedule(context.Background(), broker.TaskExpire, "t1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := l.waitCall(t, runWithin); c.Kind != broker.TaskExpire || c.ID != "t1" {
		t.Errorf("got call %+v, want Expire(t1)", c)
	}
	w.Shutdown()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("the shared client was closed by the worker or the scheduler: %v", err)
	}
}
