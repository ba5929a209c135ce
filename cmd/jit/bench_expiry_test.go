package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/federation/sandbox"
)

// BenchmarkExpiryAtPeak: JIT_BENCH_TICKETS role tickets (default 1,000)
// end spread evenly at the density of 10,000 a minute (so 10,000 take one
// minute), on the real expiry path of the whole system in this process
// (startSystem as `jit serve` wires it, the built-in worker, Redis, the AWS
// sandbox at zero latency, the audit log). Lateness is the expire event's
// time minus the ticket's end; early expiries are counted.
func BenchmarkExpiryAtPeak(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("JIT_BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	window := time.Duration(n) * time.Minute / 10000
	concurrency := 0 // the default
	if v, err := strconv.Atoi(os.Getenv("JIT_BENCH_WORKERS")); err == nil && v > 0 {
		concurrency = v
	}
	e := startSandbox(b, sandbox.DemoFixture(), "ReadOnlyAccess")
	cfg := &Config{
		Registry: broker.RegistryData{
			// These tests file the same ticket again on purpose (guardrails_test.go tests the limits).
			Limits:   broker.Limits{OverlappingTickets: broker.OverlapAllow},
			Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: time.Hour,
				GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}}},
			Admins: []string{"carol@example.com"},
		},
		AWS:   AWSConfig{Region: "us-east-1", Endpoint: e.url, ManagementRole: sandbox.DemoManagementRole},
		Redis: RedisConfig{URL: fmt.Sprintf("redis://%s/%d", redisAddr, nextDB.Add(1))},
		OIDC:  OIDCConfig{Issuer: "http://127.0.0.1:1", ClientIDs: []string{"x"}},
	}
	cfg.Worker.Concurrency = concurrency
	cfg.Tickets.MaxPendingPerRequester = n + 1
	if err := cfg.validate(); err != nil {
		b.Fatal(err)
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sys, err := startSystem(context.Background(), deps{cfg: cfg, redisOpt: opt, aws: e.awsCfg, logger: logger, worker: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sys.close()
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})

	// Filing takes a while on a loaded machine: the window starts once
	// every ticket could have been filed at 100 a second.
	first := time.Now().Add(10*time.Second + time.Duration(n)*10*time.Millisecond)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				end := first.Add(window * time.Duration(i) / time.Duration(n))
				tk, err := sys.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
					End: end, Reason: "peak"})
				if err != nil {
					b.Errorf("create: %v", err)
					return
				}
				ids[i] = tk.ID
			}
		})
	}
	wg.Wait()
	if time.Now().After(first) {
		b.Fatalf("filing %d tickets outlasted the lead time; the window would start late", n)
	}
	b.ResetTimer()
	// Wait for the window and the last expiries.
	time.Sleep(time.Until(first.Add(window + 5*time.Second)))
	store := redisstore.New(sys.rdb, redisstore.Options{})
	var late []time.Duration
	early, missing := 0, 0
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Second) {
		late, early, missing = late[:0], 0, 0
		for _, id := range ids {
			tk, err := store.Ticket(context.Background(), id)
			if err != nil || tk.State != broker.StateExpired {
				missing++
				continue
			}
			for _, ev := range tk.History {
				if ev.Action == "expire" {
					d := ev.At.Sub(tk.End)
					if d < 0 {
						early++
					}
					late = append(late, d)
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
	}
	b.StopTimer()
	if missing > 0 {
		b.Fatalf("%d of %d tickets not expired a minute after the window", missing, n)
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(early), "early")
}
