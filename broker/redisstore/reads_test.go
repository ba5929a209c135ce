package redisstore

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// getCounter counts the GET commands a client sends.
type getCounter struct{ n atomic.Int64 }

func (c *getCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *getCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "get") {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *getCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// An update of a ticket this process has just read (or written) does not
// read it again; an update from a ticket another process changed since is
// refused as before, and the next read and update leave exactly the index
// entries of what is stored.
func TestUpdateAfterReadReadsOnce(t *testing.T) {
	ctx := context.Background()
	a, rdb, prefix := newStore(t)
	count := &getCounter{}
	rdb.AddHook(count)
	b := New(redis.NewClient(&redis.Options{Addr: redisAddr}), Options{Prefix: prefix}) // another process
	mustCreate(t, a, newTicket("t1", 0))

	tk, err := a.Ticket(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	before := count.n.Load()
	tk.Beneficiaries = []string{"x@example.com"}
	if err := a.UpdateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	tk.Reason = "written, then changed again"
	if err := a.UpdateTicket(ctx, tk); err != nil { // from its own write
		t.Fatal(err)
	}
	if n := count.n.Load() - before; n != 0 {
		t.Errorf("two updates after a read sent %d GETs, want 0", n)
	}

	// b changes the ticket: a's copy is stale.
	other := mustGet(t, b, "t1")
	other.Beneficiaries = []string{"y@example.com"}
	if err := b.UpdateTicket(ctx, other); err != nil {
		t.Fatal(err)
	}
	tk.Reason = "stale"
	if err := a.UpdateTicket(ctx, tk); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("update from a stale copy: %v, want conflict", err)
	}
	tk = mustGet(t, a, "t1")
	tk.Beneficiaries = []string{"z@example.com"}
	if err := a.UpdateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	for who, want := range map[string][]string{"x@example.com": {}, "y@example.com": {}, "z@example.com": {"t1"}} {
		if got := query(t, a, broker.TicketFilter{Beneficiary: who}); !slices.Equal(got, want) {
			t.Errorf("beneficiary %s: %v, want %v", who, got, want)
		}
	}

	// Deleted and created again under the same id, at version 1 again,
	// while a remembers other bytes for version 1: the wrong entry costs
	// only a retry.
	if err := b.DeleteTicket(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, newTicket("t1", 0, func(t *broker.Ticket) { t.Beneficiaries = []string{"w@example.com"} }))
	fresh := mustGet(t, b, "t1")
	a.reads.put("t1", readEntry{version: 1, digest: "not the stored bytes", keys: []string{a.beneficiaryKey("v@example.com")}})
	fresh.Reason = "after the re-create"
	if err := a.UpdateTicket(ctx, fresh); err != nil {
		t.Fatalf("update through a wrong entry: %v, want a retry that succeeds", err)
	}
	if got := query(t, a, broker.TicketFilter{Beneficiary: "w@example.com"}); !slices.Equal(got, []string{"t1"}) {
		t.Errorf("beneficiary w@example.com after the retry: %v", got)
	}
}
