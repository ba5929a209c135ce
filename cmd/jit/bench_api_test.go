package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
	"github.com/redis/go-redis/v9"
)

// benchVerifier takes the bearer token as the user's email.
type benchVerifier struct{}

func (benchVerifier) Verify(_ context.Context, raw string) (broker.User, error) {
	if !strings.Contains(raw, "@") {
		return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "bad token")
	}
	return broker.User{Email: raw, Groups: []string{"engineers"}}, nil
}

// BenchmarkAPICreateApprove: 200 concurrent clients, each filing a role
// ticket (its own requester) and bob approving it, through the HTTP API of
// the whole system in this process (startSystem with the demo registry,
// Redis, the AWS sandbox at zero latency, the built-in worker). Reports
// tickets filed and approved per second and the p99 of each call.
// benchAPI is the whole system in this process with its HTTP API served
// on a local port, for benchmarks.
type benchAPI struct {
	sys  *system
	sb   *icSystem // the AWS sandbox side
	call func(user, method, path string, body any) (int, map[string]any, time.Duration)
}

// startBenchAPI starts the system with the demo registry (no write rate
// limit), a bearer token being the user's email, and an HTTP client for
// clients concurrent callers.
func startBenchAPI(b *testing.B, clients int) *benchAPI {
	var cfg Config
	if err := yaml.Unmarshal(devConfig, &cfg); err != nil {
		b.Fatal(err)
	}
	e := startSandbox(b, sandbox.DemoFixture(), "ReadOnlyAccess")
	cfg.AWS = AWSConfig{Region: "us-east-1", Endpoint: e.url, ManagementRole: sandbox.DemoManagementRole}
	cfg.Redis = RedisConfig{URL: fmt.Sprintf("redis://%s/%d", redisAddr, nextDB.Add(1))}
	cfg.OIDC = OIDCConfig{Issuer: "http://127.0.0.1:1", ClientIDs: []string{"x"}}
	off := 0
	cfg.RateLimit.WritesPerMinute = &off // one approver approves everything
	// Each client files the same ticket again and again.
	cfg.Registry.Limits.OverlappingTickets = broker.OverlapAllow
	if err := cfg.validate(); err != nil {
		b.Fatal(err)
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	sys, err := startSystem(context.Background(), deps{cfg: &cfg, redisOpt: opt, aws: e.awsCfg, verifier: benchVerifier{}, logger: logger, worker: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sys.close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	b.Cleanup(stop)
	go sys.serveAPI(ctx, l)
	base := "http://" + l.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	call := func(user, method, path string, body any) (int, map[string]any, time.Duration) {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+user)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, time.Since(start)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		took := time.Since(start)
		out := map[string]any{}
		json.Unmarshal(raw, &out)
		return resp.StatusCode, out, took
	}
	return &benchAPI{sys: sys, sb: e, call: call}
}

func BenchmarkAPICreateApprove(b *testing.B) {
	const clients = 200
	api := startBenchAPI(b, clients)
	call := api.call
	var (
		mu               sync.Mutex
		creates, approve []time.Duration
	)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := max(b.N/clients, 1)
	for c := range clients {
		wg.Go(func() {
			user := fmt.Sprintf("bench%03d@example.com", c)
			for range per {
				code, out, d1 := call(user, "POST", "/api/v1/tickets", map[string]any{"account_id": "111111111111",
					"permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "bench"})
				id, _ := out["id"].(string)
				if code != http.StatusCreated || id == "" {
					b.Errorf("create: %d %v", code, out)
					return
				}
				code, out, d2 := call("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]any{"comment": "ok"})
				if code != http.StatusOK {
					b.Errorf("approve: %d %v", code, out)
					return
				}
				mu.Lock()
				creates, approve = append(creates, d1), append(approve, d2)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	if len(creates) == 0 {
		b.Fatal("no ticket went through")
	}
	slices.Sort(creates)
	slices.Sort(approve)
	b.ReportMetric(float64(len(creates))/took.Seconds(), "tickets/s")
	b.ReportMetric(float64(creates[len(creates)*99/100].Microseconds())/1000, "create-p99-ms")
	b.ReportMetric(float64(approve[len(approve)*99/100].Microseconds())/1000, "approve-p99-ms")
}

// BenchmarkCredentials: sessions minted through the API, 20 callers at
// once, each for their own active role ticket (mints of one ticket take
// turns: each records its session in the ticket), against its floor: the
// same Redis round trips as one call (recorded, then sent again as they
// were) and one AssumeRole of the role against the sandbox, without the
// broker around them; and, for comparison, the ticket's read and the
// AssumeRole alone (read-and-assume). Each reports calls/s and p99;
// the ratio of the two rates is what the broker costs.
func BenchmarkCredentials(b *testing.B) {
	const callers = 20
	api := startBenchAPI(b, callers)
	var ids []string
	for c := range callers {
		user := fmt.Sprintf("mint%02d@example.com", c)
		code, out, _ := api.call(user, "POST", "/api/v1/tickets", map[string]any{"account_id": "111111111111",
			"permission_set": "ReadOnlyAccess", "duration": "2h", "reason": "bench"})
		id, _ := out["id"].(string)
		if code != http.StatusCreated {
			b.Fatalf("create: %d %v", code, out)
		}
		if code, out, _ := api.call("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]any{"comment": "ok"}); code != http.StatusOK {
			b.Fatalf("approve: %d %v", code, out)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if _, out, _ := api.call(fmt.Sprintf("mint%02d@example.com", i), "GET", "/api/v1/tickets/"+id, nil); out["state"] == string(broker.StateActive) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("a ticket did not become active")
			}
		}
	}
	stsc := sts.NewFromConfig(api.sb.awsCfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(api.sb.url) })
	run := func(b *testing.B, one func(c int) error) {
		var (
			mu  sync.Mutex
			lat []time.Duration
		)
		b.SetParallelism(callers / 2) // 20 callers on 2 cores
		var next atomic.Int32
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			c := int(next.Add(1)-1) % callers
			for pb.Next() {
				t0 := time.Now()
				if err := one(c); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		})
		took := time.Since(start)
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(len(lat))/took.Seconds(), "calls/s")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		}
	}
	b.Run("api", func(b *testing.B) {
		run(b, func(c int) error {
			if code, out, _ := api.call(fmt.Sprintf("mint%02d@example.com", c), "POST", "/api/v1/tickets/"+ids[c]+"/credentials", map[string]any{}); code != http.StatusOK {
				return fmt.Errorf("credentials: %d %v", code, out)
			}
			return nil
		})
	})
	// For comparison: the ticket's read and the AssumeRole alone.
	b.Run("read-and-assume", func(b *testing.B) {
		run(b, func(c int) error {
			ctx := context.Background()
			if err := api.sys.rdb.Get(ctx, "jit:{tickets}:t:"+ids[c]).Err(); err != nil {
				return err
			}
			_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/ReadOnlyAccess"),
				RoleSessionName: aws.String("floor"), DurationSeconds: aws.Int32(900)})
			return err
		})
	})
	// The floor sends the Redis round trips one call sends (recorded from
	// one more call of each caller) as they are, answers unread.
	rec := &roundTrips{}
	api.sys.rdb.AddHook(rec)
	trips := make([][]roundTrip, callers)
	for c := range callers {
		rec.start()
		if code, out, _ := api.call(fmt.Sprintf("mint%02d@example.com", c), "POST", "/api/v1/tickets/"+ids[c]+"/credentials", map[string]any{}); code != http.StatusOK {
			b.Fatalf("credentials: %d %v", code, out)
		}
		trips[c] = rec.stop()
	}
	b.Logf("one call's Redis round trips: %d (%v)", len(trips[0]), roundTripNames(trips[0]))
	b.Run("floor", func(b *testing.B) {
		run(b, func(c int) error {
			ctx := context.Background()
			for _, t := range trips[c] {
				pipe := api.sys.rdb.Pipeline()
				for _, args := range t {
					pipe.Do(ctx, args...)
				}
				pipe.Exec(ctx) // a script refused (the version, the audit head moved) is still a round trip
			}
			_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/ReadOnlyAccess"),
				RoleSessionName: aws.String("floor"), DurationSeconds: aws.Int32(900)})
			return err
		})
	})
}

// roundTrip is one round trip to Redis: a command, or a pipeline's.
type roundTrip [][]any

// roundTrips records the round trips a client sends while started.
type roundTrips struct {
	mu  sync.Mutex
	on  bool
	got []roundTrip
}

func (r *roundTrips) start() { r.mu.Lock(); r.on, r.got = true, nil; r.mu.Unlock() }

func (r *roundTrips) stop() []roundTrip {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on = false
	return r.got
}

func (r *roundTrips) add(cmds ...redis.Cmder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	var t roundTrip
	for _, c := range cmds {
		t = append(t, slices.Clone(c.Args()))
	}
	r.got = append(r.got, t)
}

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		r.add(cmd)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		r.add(cmds...)
		return next(ctx, cmds)
	}
}

func roundTripNames(ts []roundTrip) []string {
	var out []string
	for _, t := range ts {
		var names []string
		for _, args := range t {
			names = append(names, fmt.Sprint(args[0]))
		}
		out = append(out, strings.Join(names, "+"))
	}
	return out
}
