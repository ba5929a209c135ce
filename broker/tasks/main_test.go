package tasks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/redistest"
)

var redisAddr string

func TestMain(m *testing.M) { redistest.Main(m, func(a string) { redisAddr = a }) }

// redisOpt is the private test Redis. Tests keep apart by queue name.
func redisOpt() asynq.RedisConnOpt { return asynq.RedisClientOpt{Addr: redisAddr} }

var queueSeq atomic.Int64

// newQueue returns a queue name no other test uses.
func newQueue(t testing.TB) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("%s-%d", name, queueSeq.Add(1))
}

// newScheduler returns a Scheduler on queue, closed when the test ends.
func newScheduler(t testing.TB, queue string) *Scheduler {
	t.Helper()
	s, err := NewScheduler(redisOpt(), SchedulerConfig{Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// startWorker starts a Worker on queue calling l, shut down when the test
// ends (or earlier by the caller; Shutdown twice is harmless).
func startWorker(t testing.TB, queue string, l Lifecycle, cfg ServerConfig) *Worker {
	t.Helper()
	cfg.Queue = queue
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = discard
	}
	w := NewWorker(redisOpt(), l, cfg)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	t.Cleanup(func() { once.Do(w.Shutdown) })
	return w
}

// call is one call a fakeLifecycle saw.
type call struct {
	Kind broker.TaskKind
	ID   string
	At   time.Time // when it was made, by the real clock
}

// fakeLifecycle records every call and answers with the function fields,
// which default to success.
type fakeLifecycle struct {
	ActivateFn func(ctx context.Context, id string) error
	ExpireFn   func(ctx context.Context, id string) error
	RevokeFn   func(ctx context.Context, id string) error

	mu    sync.Mutex
	calls []call
	seen  chan call // each call is also sent here if it has room
}

func newFakeLifecycle() *fakeLifecycle { return &fakeLifecycle{seen: make(chan call, 10000)} }

var _ Lifecycle = (*fakeLifecycle)(nil)

func (f *fakeLifecycle) record(kind broker.TaskKind, id string, fn func(context.Context, string) error, ctx context.Context) error {
	c := call{Kind: kind, ID: id, At: time.Now()}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	select {
	case f.seen <- c:
	default:
	}
	if fn == nil {
		return nil
	}
	return fn(ctx, id)
}

func (f *fakeLifecycle) Activate(ctx context.Context, id string) error {
	return f.record(broker.TaskActivate, id, f.ActivateFn, ctx)
}

func (f *fakeLifecycle) Expire(ctx context.Context, id string) error {
	return f.record(broker.TaskExpire, id, f.ExpireFn, ctx)
}

func (f *fakeLifecycle) Revoke(ctx context.Context, id string) error {
	return f.record(broker.TaskRevoke, id, f.RevokeFn, ctx)
}

// Calls returns a copy of the calls so far.
func (f *fakeLifecycle) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// waitCall returns the next call, failing the test if none comes within d.
func (f *fakeLifecycle) waitCall(t testing.TB, d time.Duration) call {
	t.Helper()
	select {
	case c := <-f.seen:
		return c
	case <-time.After(d):
		t.Fatalf("no call within %s", d)
		return call{}
	}
}

// eventually fails the test unless cond holds within d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// taskState returns the state of a task, or 0 if it does not exist.
func taskState(t testing.TB, s *Scheduler, id string) asynq.TaskState {
	t.Helper()
	info, err := s.Inspector().GetTaskInfo(s.Queue(), id)
	if err != nil {
		return 0
	}
	return info.State
}

// fakeClock is a clock tests move by hand. After returns a channel that
// fires once the clock has been advanced past the wait; each call to After
// is announced on waiting.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []fakeTimer
	waiting chan time.Duration
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waiting: make(chan time.Duration, 100)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{at: c.now.Add(d), c: ch})
	c.mu.Unlock()
	c.waiting <- d
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.c <- c.now
		} else {
			kept = append(kept, t)
		}
	}
	c.timers = kept
}
