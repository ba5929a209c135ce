package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A burst of writes passes, the next is refused with a wait of about one
// emission interval, and other keys are not affected; two limiters on one
// Redis (two JIT processes) share the count.
func TestRateLimiter(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	prefix := testPrefix(t)
	a := NewRateLimiter(rdb, prefix, "writes", 6, 3) // one every 10 s, bursts of 3
	b := NewRateLimiter(rdb, prefix, "writes", 6, 3)
	ctx := context.Background()
	for i, l := range []*RateLimiter{a, b, a} {
		if wait, err := l.Allow(ctx, "alice@example.com"); err != nil || wait != 0 {
			t.Fatalf("event %d = %v, %v; want allowed", i+1, wait, err)
		}
	}
	wait, err := b.Allow(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if wait <= 0 || wait > 10*time.Second {
		t.Errorf("event 4 wait = %v, want refused with a wait in (0, 10s]", wait)
	}
	if wait, err := a.Allow(ctx, "bob@example.com"); err != nil || wait != 0 {
		t.Errorf("another key = %v, %v; want allowed", wait, err)
	}
}

// Many concurrent events for one key: exactly the burst passes.
func TestRateLimiterConcurrent(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	l := NewRateLimiter(rdb, testPrefix(t), "writes", 1, 20) // refills once a minute
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := l.Allow(context.Background(), "alice@example.com")
			if err != nil {
				t.Error(err)
			} else if wait == 0 {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 20 {
		t.Errorf("%d of 200 allowed, want the burst of 20", got)
	}
}

// Without Redis the limiter says so instead of allowing.
func TestRateLimiterRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	if _, err := NewRateLimiter(rdb, "", "writes", 60, 10).Allow(context.Background(), "alice@example.com"); err == nil {
		t.Error("Allow without Redis succeeded")
	}
}
