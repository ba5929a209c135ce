package tasks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// latenessResult is what one lateness run measured.
type latenessResult struct {
	n                  int
	p50, p99, max, min time.Duration
	early              int // runs before the due time; must stay 0
}

var (
	latenessOnce sync.Once
	lateness     latenessResult
	latenessErr  error
)

// BenchmarkExpiryLateness schedules JIT_BENCH_TICKETS expiries (default 200)
// due at random times 2 to 5 s ahead, runs them on a Worker with
// JIT_BENCH_CONCURRENCY workers (default DefaultConcurrency), and reports
// how late each ran after its due time.
// It runs once whatever b.N and -benchtime say; it reports and never
// asserts timing.
func BenchmarkExpiryLateness(b *testing.B) {
	n := envInt(b, "JIT_BENCH_TICKETS", 200)
	workers := envInt(b, "JIT_BENCH_CONCURRENCY", DefaultConcurrency)
	latenessOnce.Do(func() { lateness, latenessErr = measureLateness(b, n, workers) })
	if latenessErr != nil {
		b.Fatal(latenessErr)
	}
	r := lateness
	b.ReportMetric(float64(r.n), "tickets")
	b.ReportMetric(float64(workers), "workers")
	b.ReportMetric(ms(r.p50), "p50-ms")
	b.ReportMetric(ms(r.p99), "p99-ms")
	b.ReportMetric(ms(r.max), "max-ms")
	b.ReportMetric(float64(r.early), "early")
	b.ReportMetric(0, "ns/op") // one run, not per-op
}

// envInt reads a positive number from the environment, or returns def.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// measureLateness schedules n expiries and waits for all of them to run.
func measureLateness(b *testing.B, n, workers int) (latenessResult, error) {
	q := newQueue(b)
	s := newScheduler(b, q)
	ctx := context.Background()

	var mu sync.Mutex
	due := make(map[string]time.Time, n)
	late := make([]time.Duration, 0, n)
	all := make(chan struct{})
	l := newFakeLifecycle()
	l.ExpireFn = func(_ context.Context, id string) error {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		late = append(late, now.Sub(due[id]))
		if len(late) == n {
			close(all)
		}
		return nil
	}
	startWorker(b, q, l, ServerConfig{Concurrency: workers})

	base := time.Now().Add(2 * time.Second)
	mu.Lock()
	for i := range n {
		id := fmt.Sprintf("b%d", i)
		due[id] = base.Add(rand.N(3 * time.Second))
	}
	mu.Unlock()
	start := time.Now()
	for id, at := range due {
		if err := s.Schedule(ctx, broker.TaskExpire, id, at); err != nil {
			return latenessResult{}, err
		}
	}
	b.Logf("scheduled %d tasks in %s", n, time.Since(start).Round(time.Millisecond))
	if time.Now().After(base) {
		b.Logf("scheduling took past the first due time; the numbers include that")
	}
	select {
	case <-all:
	case <-time.After(5*time.Second + time.Minute):
		mu.Lock()
		defer mu.Unlock()
		return latenessResult{}, fmt.Errorf("only %d of %d tasks ran within a minute of their time", len(late), n)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(late)
	r := latenessResult{
		n:   n,
		min: late[0],
		p50: late[len(late)/2],
		p99: late[min(len(late)-1, len(late)*99/100)],
		max: late[len(late)-1],
	}
	for _, d := range late {
		if d < 0 {
			r.early++
		}
	}
	if len(l.Calls()) != n {
		b.Logf("got %d calls for %d tasks", len(l.Calls()), n)
	}
	return r, nil
}
