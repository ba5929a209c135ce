package redisstore

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// redisAddr is the private redis-server of this test package.
var redisAddr string

func TestMain(m *testing.M) { redistest.Main(m, func(a string) { redisAddr = a }) }

// prefixes numbers the key prefixes, so that a test run again (-count)
// gets fresh keys on the package's one server.
var prefixes atomic.Int64

// testPrefix returns a key prefix no other test (or run) uses.
func testPrefix(tb testing.TB) string {
	return fmt.Sprintf("test:%s:%d", tb.Name(), prefixes.Add(1))
}

// newStore returns a Store whose keys start with a prefix of the test's own,
// and a raw client on the same server.
func newStore(tb testing.TB) (*Store, *redis.Client, string) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	tb.Cleanup(func() { rdb.Close() })
	prefix := testPrefix(tb)
	return New(rdb, Options{Prefix: prefix}), rdb, prefix
}

var t0 = time.Date(2025, 11, 25, 10, 0, 0, 0, time.UTC)

// newTicket returns a pending ticket created at t0 plus n minutes.
func newTicket(id string, n int, mods ...func(*broker.Ticket)) *broker.Ticket {
	created := t0.Add(time.Duration(n) * time.Minute)
	t := &broker.Ticket{
		ID:               id,
		Revision:         1,
		State:            broker.StatePending,
		Requester:        "req@example.com",
		Beneficiaries:    []string{"req@example.com"},
		AccountID:        "111111111111",
		PermissionSet:    "ReadOnlyAccess",
		Start:            created,
		End:              created.Add(time.Hour),
		Reason:           "investigate " + id,
		Stages:           []broker.Stage{{Approvers: []string{"boss@example.com"}, Required: 1}},
		Approvals:        []broker.Decision{},
		PendingApprovers: []string{"boss@example.com"},
		History:          []broker.Event{{At: created, Actor: "req@example.com", Action: "request", To: broker.StatePending}},
		CreatedAt:        created,
		UpdatedAt:        created,
	}
	for _, m := range mods {
		m(t)
	}
	return t
}

func mustCreate(tb testing.TB, s *Store, ts ...*broker.Ticket) {
	tb.Helper()
	for _, t := range ts {
		if err := s.CreateTicket(context.Background(), t); err != nil {
			tb.Fatalf("CreateTicket(%s): %v", t.ID, err)
		}
	}
}

func mustGet(tb testing.TB, s *Store, id string) *broker.Ticket {
	tb.Helper()
	t, err := s.Ticket(context.Background(), id)
	if err != nil {
		tb.Fatalf("Ticket(%s): %v", id, err)
	}
	return t
}

// ids lists the tickets' ids, in order.
func ids(ts []*broker.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// query returns the ids of the tickets matching f.
func query(tb testing.TB, s *Store, f broker.TicketFilter) []string {
	tb.Helper()
	ts, err := s.Tickets(context.Background(), f)
	if err != nil {
		tb.Fatalf("Tickets(%+v): %v", f, err)
	}
	return ids(ts)
}

// keys returns every key under prefix, found with SCAN.
func keys(tb testing.TB, rdb *redis.Client, prefix string) []string {
	tb.Helper()
	var out []string
	iter := rdb.Scan(context.Background(), 0, prefix+":*", 100).Iterator()
	for iter.Next(context.Background()) {
		out = append(out, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	return out
}

func TestNew(t *testing.T) {
	s := New(nil, Options{})
	if got, want := s.ticketKey("abc"), "jit:{tickets}:t:abc"; got != want {
		t.Errorf("ticketKey = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("New with a '{' in Prefix did not panic")
		}
	}()
	New(nil, Options{Prefix: "a{b}"})
}

// TestKeysShareOneSlot checks that every key a ticket touches carries the
// same hash tag, so scripts and MGET also work on Redis Cluster.
func TestKeysShareOneSlot(t *testing.T) {
	s := New(nil, Options{Prefix: "x"})
	tk := newTicket("abc", 0, func(t *broker.Ticket) {
		t.Beneficiaries = []string{"a{1}@example.com", "b@example.com"}
		t.PendingApprovers = []string{"c}@example.com"}
	})
	for _, k := range append([]string{s.ticketKey(tk.ID), s.outboxKey(), s.agendaKey()}, s.indexKeys(tk)...) {
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		if open < 0 || end < 0 || k[open+1:open+1+end] != "tickets" {
			t.Errorf("key %q does not hash on {tickets}", k)
		}
	}
}
