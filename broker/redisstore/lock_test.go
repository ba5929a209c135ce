package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A lock held for several leases stays exclusive (its holder renews it),
// and a lease whose holder died (nobody renews it) frees within one lease.
func TestLockerRenewsWhileHeld(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	const lease = 300 * time.Millisecond
	prefix := testPrefix(t)
	l := NewLocker(rdb, prefix, lease)
	ctx := context.Background()

	unlock, err := l.Lock(ctx, "cut")
	if err != nil {
		t.Fatal(err)
	}
	held := time.Now()
	for time.Since(held) < 4*lease {
		try, cancel := context.WithTimeout(ctx, lease/2)
		if _, err := l.Lock(try, "cut"); !errors.Is(err, context.DeadlineExceeded) {
			cancel()
			t.Fatalf("a second holder got the lock %v after the first took it (err %v)", time.Since(held), err)
		}
		cancel()
	}
	unlock()
	unlock() // twice is harmless
	relock, err := l.Lock(ctx, "cut")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	relock()

	// A holder that died: its token is in Redis with a lease, unrenewed.
	if err := rdb.Set(ctx, prefix+":lock:dead", "someone-else", lease).Err(); err != nil {
		t.Fatal(err)
	}
	try, cancel := context.WithTimeout(ctx, 10*lease)
	defer cancel()
	start := time.Now()
	u, err := l.Lock(try, "dead")
	if err != nil {
		t.Fatalf("a dead holder's lease did not free: %v", err)
	}
	u()
	t.Logf("a dead holder's lock freed after %v (lease %v)", time.Since(start).Round(time.Millisecond), lease)
}
