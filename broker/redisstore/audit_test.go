package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

func TestAuditChain(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	a := NewAudit(rdb, testPrefix(t))
	ctx := context.Background()
	for i, action := range []string{"approve", "terminate", "remove orphan assignment"} {
		if err := a.Record(ctx, broker.AuditEvent{At: time.Unix(int64(i), 0).UTC(), Actor: "bob@example.com", Action: action, TicketID: "t1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := a.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Action != "remove orphan assignment" || got[2].Action != "approve" {
		t.Fatalf("events %+v, want three newest first", got)
	}
	// Tamper with the middle entry: the chain must break there.
	msgs, _ := rdb.XRange(ctx, a.stream, "-", "+").Result()
	rdb.XDel(ctx, a.stream, msgs[1].ID)
	if err := a.Verify(ctx); err == nil {
		t.Fatal("Verify accepted a chain with an entry removed")
	}
}
