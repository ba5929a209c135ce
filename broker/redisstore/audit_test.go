package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

var auditKey = []byte("0123456789abcdef0123456789abcdef")

// newAuditLog returns a log holding n events, event i (from 1) about
// ticket t<i%3>.
func newAuditLog(t *testing.T, n int) (*Audit, *redis.Client) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	a := NewAudit(rdb, testPrefix(t), auditKey)
	for i := 1; i <= n; i++ {
		e := broker.AuditEvent{At: time.Unix(int64(1000+i), 0).UTC(), Type: "ticket.approve", Actor: "bob@example.com",
			Action: "approve", TicketID: fmt.Sprintf("t%d", i%3), AccountID: "111111111111", Detail: fmt.Sprintf("event %d", i)}
		if err := a.Record(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	return a, rdb
}

// rewrite replaces the whole stream by the events edit returns, keeping
// stream ids: what someone with write access to Redis can do.
func rewrite(t *testing.T, a *Audit, rdb *redis.Client, edit func(raw []string) []string) {
	t.Helper()
	ctx := t.Context()
	msgs, err := rdb.XRange(ctx, a.stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	raw := make([]string, len(msgs))
	for i, m := range msgs {
		raw[i] = m.Values["event"].(string)
	}
	raw = edit(raw)
	rdb.Del(ctx, a.stream)
	for i, r := range raw {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: a.stream, ID: msgs[i].ID, Values: []string{"event", r}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func breakSeq(t *testing.T, err error) int64 {
	t.Helper()
	var b *broker.AuditBreak
	if !errors.As(err, &b) {
		t.Fatalf("verify: %v, want an *AuditBreak", err)
	}
	return b.Seq
}

func TestAuditChainVerifies(t *testing.T) {
	a, _ := newAuditLog(t, 5)
	n, err := a.Verify(t.Context(), nil)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v; want 5 events, nil", n, err)
	}
	got, err := a.Events(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0].Seq != 5 || got[4].Seq != 1 || got[0].Prev != got[1].MAC || got[4].Prev != "" {
		t.Fatalf("events %+v, want 5..1 chained", got)
	}
	// Another key verifies nothing.
	other := NewAudit(a.rdb, "", []byte("another key of 32 characters...."))
	other.stream, other.head = a.stream, a.head
	if _, err := other.Verify(t.Context(), nil); breakSeq(t, err) != 1 {
		t.Fatalf("verify with another key: %v, want event 1 named", err)
	}
}

// Changing one byte of one stored event names exactly that event, for
// every event and for bytes anywhere in it.
func TestAuditOneByteChangedNamesThatEvent(t *testing.T) {
	a, rdb := newAuditLog(t, 6)
	for _, victim := range []int{0, 2, 5} {
		for _, pos := range []int{1, 20, -3} {
			t.Run(fmt.Sprintf("event %d byte %d", victim+1, pos), func(t *testing.T) {
				var orig []string
				rewrite(t, a, rdb, func(raw []string) []string {
					orig = append([]string(nil), raw...)
					b := []byte(raw[victim])
					i := pos
					if i < 0 {
						i += len(b)
					}
					b[i] ^= 0x01
					raw[victim] = string(b)
					return raw
				})
				_, err := a.Verify(t.Context(), nil)
				if got := breakSeq(t, err); got != int64(victim+1) {
					t.Errorf("verify named event %d (%v), want %d", got, err, victim+1)
				}
				rewrite(t, a, rdb, func([]string) []string { return orig })
				if _, err := a.Verify(t.Context(), nil); err != nil {
					t.Fatalf("restored log: %v", err)
				}
			})
		}
	}
	// A change that keeps the JSON valid: the detail of event 3.
	rewrite(t, a, rdb, func(raw []string) []string {
		raw[2] = strings.Replace(raw[2], `"event 3"`, `"event 4"`, 1)
		return raw
	})
	if _, err := a.Verify(t.Context(), nil); breakSeq(t, err) != 3 {
		t.Fatalf("verify: %v, want event 3", err)
	}
}

// Deleting the last events and making the rest look whole (head moved,
// and the tail re-chained without the key) is caught against a checkpoint
// exported before.
func TestAuditTruncationDetectedAgainstCheckpoint(t *testing.T) {
	ctx := context.Background()
	a, rdb := newAuditLog(t, 6)
	cp, err := a.Checkpoint(ctx)
	if err != nil || cp.Seq != 6 {
		t.Fatalf("checkpoint %+v, %v; want seq 6", cp, err)
	}
	if _, err := a.Verify(ctx, &cp); err != nil {
		t.Fatalf("verify against a fresh checkpoint: %v", err)
	}
	// Delete events 5 and 6 and set the head to event 4: the chain itself
	// still holds.
	rewrite(t, a, rdb, func(raw []string) []string { return raw[:4] })
	evs, _ := a.Events(ctx, 1)
	rdb.Set(ctx, a.head, fmt.Sprintf("%d %s", evs[0].Seq, evs[0].MAC), 0)
	if _, err := a.Verify(ctx, nil); err != nil {
		t.Fatalf("the cut log verifies without a checkpoint (%v); the test needs it to", err)
	}
	if _, err := a.Verify(ctx, &cp); breakSeq(t, err) != 5 {
		t.Fatalf("verify against the checkpoint: %v, want event 5 missing", err)
	}
	// Append forged events 5 and 6 chained with a guessed key: verify names 5.
	forger := NewAudit(rdb, "", []byte("not the key, but 32 characters.."))
	forger.stream, forger.head = a.stream, a.head
	for i := 0; i < 2; i++ {
		if err := forger.Record(ctx, broker.AuditEvent{Type: "ticket.approve", Actor: "mallory@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Verify(ctx, &cp); breakSeq(t, err) != 5 {
		t.Fatalf("verify: %v, want event 5 forged", err)
	}
	// A checkpoint made up without the key is refused.
	fake := cp
	fake.Seq = 4
	if _, err := a.Verify(ctx, &fake); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("verify against a forged checkpoint: %v, want its signature refused", err)
	}
}

func TestAuditQueryFiltersAndPages(t *testing.T) {
	a, _ := newAuditLog(t, 9)
	ctx := t.Context()
	var got []int64
	q := broker.AuditQuery{TicketID: "t1", Limit: 2}
	for range 5 {
		page, next, err := a.Query(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.Seq)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if fmt.Sprint(got) != "[7 4 1]" {
		t.Fatalf("ticket t1 pages: %v, want [7 4 1]", got)
	}
	page, _, err := a.Query(ctx, broker.AuditQuery{Since: time.Unix(1008, 0), Limit: 10}, nil)
	if err != nil || len(page) != 2 || page[0].Seq != 9 {
		t.Fatalf("since: %+v, %v; want events 9 and 8", page, err)
	}
}

// Appends from many goroutines and two processes' worth of logs (two
// Audit values on one stream) all land, in one unbroken chain.
func TestAuditConcurrentAppends(t *testing.T) {
	a, rdb := newAuditLog(t, 0)
	b := NewAudit(rdb, "", auditKey)
	b.stream, b.head = a.stream, a.head
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			log := a
			if i%2 == 1 {
				log = b
			}
			if err := log.Record(t.Context(), broker.AuditEvent{Type: "ticket.request", Actor: fmt.Sprintf("u%d@example.com", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, err := a.Verify(t.Context(), nil); err != nil || n != 100 {
		t.Fatalf("Verify = %d, %v; want 100 events, nil", n, err)
	}
}

func TestReplayGuardTakesAKeyOnce(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	g := NewReplayGuard(rdb, testPrefix(t))
	for i, want := range []bool{true, false, false} {
		if got, err := g.First(t.Context(), "k1", time.Minute); err != nil || got != want {
			t.Fatalf("try %d: %v, %v; want %v", i, got, err, want)
		}
	}
	if got, _ := g.First(t.Context(), "k2", time.Minute); !got {
		t.Fatal("another key refused")
	}
}

// Trimming keeps the rest verifiable from the signed trim checkpoint, and
// a forged trim checkpoint is caught.
func TestAuditTrimKeepsTheChainVerifiable(t *testing.T) {
	ctx := t.Context()
	a, rdb := newAuditLog(t, 6)
	old, err := a.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.Trim(ctx, time.Now().Add(time.Second))
	if err != nil || n != 6 {
		t.Fatalf("Trim = %d, %v; want 6", n, err)
	}
	for i := range 2 {
		if err := a.Record(ctx, broker.AuditEvent{Type: "ticket.request", Actor: fmt.Sprintf("u%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := a.Verify(ctx, &old); err != nil || got != 2 {
		t.Fatalf("Verify after trim = %d, %v; want 2 events from the checkpoint", got, err)
	}
	evs, _ := a.Events(ctx, 10)
	if len(evs) != 2 || evs[1].Seq != 7 {
		t.Fatalf("events after trim %+v, want 8 and 7", evs)
	}
	// Replace the trim checkpoint by one made without the key.
	forged, _ := json.Marshal(broker.SignCheckpoint([]byte("guessed key, 32 characters long."), broker.AuditEvent{Seq: 6, MAC: evs[1].Prev}, time.Now()))
	rdb.Set(ctx, a.base, forged, 0)
	if _, err := a.Verify(ctx, nil); breakSeq(t, err) != 7 {
		t.Fatalf("verify with a forged trim checkpoint: %v, want event 7 named", err)
	}
}

// A scan of the stream reads at most scanBudget entries per query: a
// filter nothing matches gets empty pages with a cursor, not one request
// that reads the whole log, and following the cursors still finds every
// match once, in order.
func TestAuditQueryScanIsBounded(t *testing.T) {
	old := scanBudget
	scanBudget = scanChunk
	t.Cleanup(func() { scanBudget = old })
	a, rdb := newAuditLog(t, 2*scanChunk+100)
	ctx := t.Context()
	reads := 0
	rdb.AddHook(countReads{&reads})

	nothing := func(broker.AuditEvent) bool { return false }
	page, next, err := a.Query(ctx, broker.AuditQuery{Limit: 10}, nothing)
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first page of nothing: %d events, next %q, %v; want none and a cursor", len(page), next, err)
	}
	if reads != 1 {
		t.Errorf("%d stream reads for one page, want 1 (the budget)", reads)
	}
	pages := 1
	for q := (broker.AuditQuery{Limit: 10, Cursor: next}); next != ""; pages++ {
		if _, next, err = a.Query(ctx, q, nothing); err != nil {
			t.Fatal(err)
		}
		q.Cursor = next
	}
	if pages != 3 {
		t.Errorf("%d pages to scan %d events with a budget of %d, want 3", pages, 2*scanChunk+100, scanChunk)
	}

	// Events 100 and 700 only: both found across the short pages.
	var got []int64
	q := broker.AuditQuery{Limit: 10}
	for {
		page, next, err := a.Query(ctx, q, func(e broker.AuditEvent) bool { return e.Seq == 100 || e.Seq == 700 })
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.Seq)
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	if fmt.Sprint(got) != "[700 100]" {
		t.Errorf("matches across pages: %v, want [700 100]", got)
	}
}

// countReads counts XREVRANGE commands.
type countReads struct{ n *int }

func (c countReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c countReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), "xrevrange") {
			*c.n++
		}
		return next(ctx, cmd)
	}
}

func (c countReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// countScripts counts script runs (EVALSHA and EVAL).
type countScripts struct{ n *atomic.Int64 }

func (c countScripts) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c countScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := strings.ToLower(cmd.Name()); name == "evalsha" || name == "eval" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c countScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Concurrent appends in one process go out together (group commit): 300
// events from 300 goroutines, one of them with a cancelled request, take
// fewer script runs than events, and all land in one unbroken chain,
// each indexed under its ticket.
func TestAuditGroupCommit(t *testing.T) {
	a, rdb := newAuditLog(t, 0)
	var runs atomic.Int64
	rdb.AddHook(countScripts{&runs})
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx := t.Context()
			if i == 7 {
				ctx = cancelled // its batch still lands for the others
			}
			e := broker.AuditEvent{Type: "ticket.request", Actor: fmt.Sprintf("u%d@example.com", i), TicketID: fmt.Sprintf("g%d", i%5)}
			if err := a.Record(ctx, e); err != nil {
				t.Error(i, err)
			}
		})
	}
	wg.Wait()
	if got, err := a.Verify(t.Context(), nil); err != nil || got != n {
		t.Fatalf("Verify = %d, %v; want %d events, nil", got, err, n)
	}
	if r := runs.Load(); r >= n {
		t.Errorf("%d script runs for %d concurrent events: nothing was batched", r, n)
	}
	for k := range 5 {
		evs, _, err := a.Query(t.Context(), broker.AuditQuery{TicketID: fmt.Sprintf("g%d", k), Limit: 1000}, nil)
		if err != nil || len(evs) != n/5 {
			t.Errorf("ticket g%d: %d events, %v; want %d", k, len(evs), err, n/5)
		}
	}
	t.Logf("%d events in %d script runs", n, runs.Load())
}
