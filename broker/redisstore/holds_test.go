package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestHoldsLastRelease(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	h := NewHolds(rdb, testPrefix(t))
	ctx := context.Background()
	for _, id := range []string{"a", "b", "a"} {
		if err := h.Hold(ctx, "k", id); err != nil {
			t.Fatal(err)
		}
	}
	if last, err := h.Release(ctx, "k", "a"); err != nil || last {
		t.Fatalf("release a: last=%v err=%v; want b still holding", last, err)
	}
	if last, err := h.Release(ctx, "k", "b"); err != nil || !last {
		t.Fatalf("release b: last=%v err=%v; want last", last, err)
	}
	if last, err := h.Release(ctx, "k", "b"); err != nil || !last {
		t.Fatalf("release again: last=%v err=%v", last, err)
	}
}

func TestLockerExcludes(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	l := NewLocker(rdb, testPrefix(t), time.Second)
	var inside, maxInside atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), "role")
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for {
				m := maxInside.Load()
				if n <= m || maxInside.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if maxInside.Load() != 1 {
		t.Fatalf("%d holders at once, want 1", maxInside.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	unlock, _ := l.Lock(context.Background(), "busy")
	defer unlock()
	if _, err := l.Lock(ctx, "busy"); err == nil {
		t.Fatal("second Lock of a held key returned before its context ended")
	}
}
