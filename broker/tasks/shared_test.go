package tasks

import (
	"context"
	"log/slog"
	"strings"
	"sync"
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

// The reconciler's schedule on a Shared client stops without closing it
// and without an error in the log.
func TestSharedReconcileSchedulerStopsQuietly(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil))
	s, err := newReconcileScheduler(Shared{Client: rdb}, newQueue(t), time.Hour, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("the shared client was closed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(buf.String(), "level=ERROR") {
		t.Errorf("errors logged on a clean stop:\n%s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
