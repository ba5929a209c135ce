package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Two limiters on one Redis (two JIT processes) share the limits.
func TestLimiterAcrossProcesses(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	prefix := testPrefix(t)
	a := NewLimiter(rdb, prefix, "sso", 10, 3)
	b := NewLimiter(rdb, prefix, "sso", 10, 3)
	var inFlight, peak atomic.Int32
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := a
			if i%2 == 1 {
				l = b
			}
			release, err := l.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
			}
			time.Sleep(5 * time.Millisecond)
			inFlight.Add(-1)
			release()
		}()
	}
	wg.Wait()
	if peak.Load() > 3 {
		t.Fatalf("%d operations outstanding at once across two limiters, want at most 3", peak.Load())
	}
	// 25 requests at 10 a second across both take at least two second boundaries.
	start := time.Now()
	for i := range 25 {
		l := a
		if i%2 == 1 {
			l = b
		}
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if secs := time.Now().Unix() - start.Unix(); secs < 2 {
		t.Fatalf("25 requests at 10/s passed within %d second boundaries, want at least 2", secs)
	}
}
