package redisstore

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// benchTickets is JIT_BENCH_TICKETS, default def.
func benchTickets(def int) int {
	if n, err := strconv.Atoi(os.Getenv("JIT_BENCH_TICKETS")); err == nil && n > 0 {
		return n
	}
	return def
}

// usedMemory reads used_memory from INFO memory.
func usedMemory(tb testing.TB, rdb *redis.Client) int64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	tb.Fatal("no used_memory in INFO")
	return 0
}

// BenchmarkTicketFootprint stores JIT_BENCH_TICKETS tickets (default 2,000)
// from 100 requesters, all waiting for one approver, on one Redis (one
// shard: every key shares the {tickets} slot), then ends 90 % of them. It
// reports the write rate of one shard (creates/s and ends/s from 8
// writers), Redis memory per open and per ended ticket (ticket and its
// indexes; Asynq's task for it is not counted), and the first page of the
// approver's pending list and of a requester's own list with all of them
// stored (p50/p99 over the loop's queries).
func BenchmarkTicketFootprint(b *testing.B) {
	n := benchTickets(2000)
	s, rdb, _ := newStore(b)
	ctx := context.Background()
	id := func(i int) string { return fmt.Sprintf("fp%07d", i) }
	requester := func(i int) string { return fmt.Sprintf("user%03d@example.com", i%100) }
	parallel := func(f func(i int)) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					f(i)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	base := usedMemory(b, rdb)
	took := parallel(func(i int) {
		tk := newTicket(id(i), 0, func(tk *broker.Ticket) {
			tk.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			tk.Start, tk.End = tk.CreatedAt, tk.CreatedAt.Add(time.Hour)
			tk.Requester, tk.Beneficiaries = requester(i), []string{requester(i)}
		})
		if err := s.CreateTicket(ctx, tk); err != nil {
			b.Errorf("create %s: %v", tk.ID, err)
		}
	})
	open := usedMemory(b, rdb)
	creates := float64(n) / took.Seconds()

	// End 90 %: approved, activated and expired (one write here).
	ended := n - n/10
	took = parallel(func(i int) {
		if i >= ended {
			return
		}
		tk, err := s.Ticket(ctx, id(i))
		if err != nil {
			b.Errorf("get %s: %v", id(i), err)
			return
		}
		at := tk.End
		tk.State, tk.PendingApprovers, tk.Stage = broker.StateExpired, nil, 1
		tk.Approvals = append(tk.Approvals, broker.Decision{By: "boss@example.com", At: tk.CreatedAt, Comment: "ok"})
		tk.History = append(tk.History,
			broker.Event{At: tk.CreatedAt, Actor: "boss@example.com", Action: "approve", From: broker.StatePending, To: broker.StateApproved},
			broker.Event{At: tk.CreatedAt, Actor: "system", Action: "activate", From: broker.StateApproved, To: broker.StateActive},
			broker.Event{At: at, Actor: "system", Action: "expire", From: broker.StateActive, To: broker.StateExpired})
		tk.UpdatedAt = at
		if err := s.UpdateTicket(ctx, tk); err != nil {
			b.Errorf("end %s: %v", tk.ID, err)
		}
	})
	after := usedMemory(b, rdb)
	// Open tickets are assumed to weigh what they weighed before.
	perOpen := float64(open-base) / float64(n)
	perEnded := (float64(after-base) - perOpen*float64(n-ended)) / float64(ended)
	ends := float64(ended) / took.Seconds()
	b.Run("store", func(b *testing.B) {
		for b.Loop() { // measured above, once
		}
		b.ReportMetric(creates, "creates/s")
		b.ReportMetric(ends, "ends/s")
		b.ReportMetric(perOpen, "B/open")
		b.ReportMetric(perEnded, "B/ended")
	})

	svc := newListService(b, s, t0.Add(time.Hour))
	boss := broker.WithUser(ctx, broker.User{Email: "boss@example.com"})
	user := broker.WithUser(ctx, broker.User{Email: requester(n - 1)})
	for _, bc := range []struct {
		name  string
		who   context.Context
		q     broker.TicketQuery
		total int
	}{
		{"pending-first-page", boss, broker.TicketQuery{PendingForMe: true, Limit: 25}, n - ended},
		{"requester-first-page", user, broker.TicketQuery{Mine: true, Limit: 25}, (n + 99 - (n-1)%100 - 1) / 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				page, err := svc.ListTickets(bc.who, bc.q)
				lat = append(lat, time.Since(start))
				if err != nil || page.Total == 0 {
					b.Fatalf("total %d, %v", page.Total, err)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
