package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

func newCappedStore(tb testing.TB, limit int) (*Store, *redis.Client, string) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr, PoolSize: 64})
	tb.Cleanup(func() { rdb.Close() })
	prefix := testPrefix(tb)
	return New(rdb, Options{Prefix: prefix, MaxPendingPerRequester: limit}), rdb, prefix
}

// Issue 10 §6: 200 concurrent creates by one requester store exactly the
// cap; the rest are refused with EINVALID and leave nothing behind. Other
// requesters are not affected.
func TestPendingCapUnderConcurrency(t *testing.T) {
	const limit, tries = 20, 200
	s, rdb, prefix := newCappedStore(t, limit)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateTicket(ctx, newTicket(fmt.Sprintf("t%03d", i), i))
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "already has 20 pending tickets"):
			t.Errorf("create %d: %v, want invalid: already has 20 pending tickets", i, err)
		}
	}
	if ok != limit {
		t.Errorf("%d of %d creates stored, want exactly %d", ok, tries, limit)
	}
	keys, err := rdb.Keys(ctx, prefix+":{tickets}:t:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != limit {
		t.Errorf("%d tickets in Redis, want %d", len(keys), limit)
	}
	if n, _ := rdb.ZCard(ctx, s.requesterKey("req@example.com")).Result(); n != limit {
		t.Errorf("requester index holds %d, want %d", n, limit)
	}
	other := newTicket("other", 0, func(t *broker.Ticket) { t.Requester = "other@example.com" })
	if err := s.CreateTicket(ctx, other); err != nil {
		t.Errorf("another requester's ticket: %v", err)
	}
}

// A ticket that leaves pending frees its place; one that comes back to
// pending (an edited, resent ticket) takes one again and is refused at
// the cap; an approved ticket does not count.
func TestPendingCapFollowsState(t *testing.T) {
	s, _, _ := newCappedStore(t, 2)
	ctx := context.Background()
	a, b := newTicket("a", 1), newTicket("b", 2)
	for _, tk := range []*broker.Ticket{a, b} {
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateTicket(ctx, newTicket("c", 3)); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("third pending ticket: %v, want invalid", err)
	}
	// Still pending (an approval of stage 1 of 2): no second place taken.
	a.Reason = "still pending"
	if err := s.UpdateTicket(ctx, a); err != nil {
		t.Fatalf("update of a pending ticket at the cap: %v", err)
	}
	a.State = broker.StateRejected
	if err := s.UpdateTicket(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := newTicket("c", 3)
	if err := s.CreateTicket(ctx, c); err != nil {
		t.Fatalf("create after a rejection freed a place: %v", err)
	}
	a.State = broker.StatePending
	if err := s.UpdateTicket(ctx, a); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("resend over the cap: %v, want invalid", err)
	}
	b.State = broker.StateApproved
	if err := s.UpdateTicket(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTicket(ctx, a); err != nil {
		t.Fatalf("resend after an approval freed a place: %v", err)
	}
	if err := s.DeleteTicket(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTicket(ctx, newTicket("d", 4)); err != nil {
		t.Fatalf("create after a delete freed a place: %v", err)
	}
}
