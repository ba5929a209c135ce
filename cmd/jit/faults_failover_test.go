//go:build faults

package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/internal/redistest"
)

// failoverBound only catches "never" or go-redis's minute-long stale slot
// map; the test measures and logs the real figures (docs/operations.md).
const failoverBound = 30 * time.Second

// failoverTarget is a Redis that fails over: how jit reaches it, and how
// the test kills the master holding JIT's tickets and sees its replacement.
type failoverTarget struct {
	cfg    RedisConfig // for the test's own client
	yaml   string      // the config's redis: block
	synced func(ctx context.Context) error
	// kill kills the master and returns a function that waits for the
	// promotion of its replica.
	kill func(ctx context.Context) (promoted func() (time.Time, error), err error)
}

// A real 3+3 Redis Cluster: the ticket flow runs on it; the master holding
// JIT's tickets is killed (testFailover).
func TestFaultsClusterFailover(t *testing.T) {
	t.Parallel()
	cl, err := redistest.StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	addrs := cl.Addrs()
	testFailover(t, failoverTarget{
		cfg:    RedisConfig{ClusterAddrs: addrs},
		yaml:   "  cluster_addrs: [" + strings.Join(addrs, ", ") + "]",
		synced: cl.Synced,
		kill: func(ctx context.Context) (func() (time.Time, error), error) {
			master, replicas, err := cl.MasterOf(ctx, "jit:{tickets}:due")
			if err != nil || len(replicas) == 0 {
				return nil, fmt.Errorf("master of the tickets' slot %s, replicas %v: %v", master, replicas, err)
			}
			queueMaster, _, _ := cl.MasterOf(ctx, "asynq:{jit}:scheduled")
			t.Logf("tickets' slot on %s (replica %s); Asynq's queue on %s", master, replicas[0], queueMaster)
			if err := cl.Kill(master); err != nil {
				return nil, err
			}
			return func() (time.Time, error) { return cl.WaitMaster(ctx, replicas[0]) }, nil
		},
	})
}

// A sentinel group (a master, two replicas, three sentinels): the same,
// with the sentinels promoting a replica.
func TestFaultsSentinelFailover(t *testing.T) {
	t.Parallel()
	sg, err := redistest.StartSentinel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sg.Stop)
	cfg := RedisConfig{}
	cfg.Sentinel.MasterName, cfg.Sentinel.Addrs = redistest.SentinelMaster, sg.Sentinels
	testFailover(t, failoverTarget{
		cfg:    cfg,
		yaml:   fmt.Sprintf("  sentinel:\n    master_name: %s\n    addrs: [%s]", redistest.SentinelMaster, strings.Join(sg.Sentinels, ", ")),
		synced: sg.Synced,
		kill: func(ctx context.Context) (func() (time.Time, error), error) {
			old, err := sg.KillMaster(ctx)
			if err != nil {
				return nil, err
			}
			return func() (time.Time, error) { return sg.WaitPromoted(ctx, old) }, nil
		},
	})
}

// testFailover runs jit on the target: the whole flow first; then, with
// tickets pending, approved for later and active with ends spread over the
// failover, the master holding JIT's tickets is killed with SIGKILL and a
// replica takes over. No ticket is lost, every scheduled activation and
// expiry happens (not early) and cuts the session, and the API and the
// worker answer again within seconds of the promotion; the times are
// logged ("api answered ... after promotion", "worker: ...").
func testFailover(t *testing.T, target failoverTarget) {
	h := newHarnessOpts(t, string(devConfig), harnessOptions{redis: target.yaml})
	// The test reads Redis with the client jit builds.
	cc, err := newRedisClient(target.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	f := &faultEnv{harness: h, store: redisstore.New(cc, redisstore.Options{}), insp: asynq.NewInspectorFromRedisClient(cc)}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The flow.
	var first killRun
	activeRole(f, &first, time.Hour)
	f.must(http.StatusOK, "alice@example.com", "POST", "/api/v1/tickets/"+first.id+"/done", nil)
	f.waitState(first.id, broker.StateTerminated, 20*time.Second)
	f.refused("session of a ticket its holder said done", first.role[0])

	pending := f.create("ReadOnlyAccess", "", time.Hour)
	start := time.Now().Add(15 * time.Second).UTC().Truncate(time.Second).Add(time.Second)
	later := f.must(http.StatusCreated, "alice@example.com", "POST", "/api/v1/tickets", map[string]any{
		"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "start": start.Format(time.RFC3339),
		"duration": "8s", "reason": "starts after the failover"})["id"].(string)
	if code, err := f.approve(later); err != nil || code != http.StatusOK {
		t.Fatalf("approve %s: %d %v", later, code, err)
	}
	// Active tickets whose ends fall before, during and after the failover
	// (the kill comes about 3 s from now, the promotion 2 to 3 s later).
	killAt := time.Now().Add(3 * time.Second)
	var ending []killRun
	for _, d := range []time.Duration{4, 5, 6, 8, 11} {
		var k killRun
		activeRole(f, &k, d*time.Second)
		ending = append(ending, k)
	}
	// Redis replicates asynchronously: what a master took in its last
	// instant dies with it. Everything above has reached the replicas.
	if err := target.synced(ctx); err != nil {
		t.Fatal(err)
	}

	// Probe the API from the kill until well after the promotion.
	type probe struct {
		at time.Time
		ok bool
	}
	var (
		mu     sync.Mutex
		probes []probe
		stop   = make(chan struct{})
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			code, out, err := f.try("alice@example.com", "GET", "/api/v1/tickets/"+pending, nil)
			ok := err == nil && code == http.StatusOK && out["state"] == string(broker.StatePending)
			if ok { // a write, undone so the requester's pending cap is never reached
				var out map[string]any
				code, out, err = f.try("alice@example.com", "POST", "/api/v1/tickets", map[string]any{
					"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "probe"})
				ok = err == nil && code == http.StatusCreated
				if id, _ := out["id"].(string); ok {
					code, _, err = f.try("alice@example.com", "POST", "/api/v1/tickets/"+id+"/cancel", nil)
					ok = err == nil && code == http.StatusOK
				}
			}
			mu.Lock()
			probes = append(probes, probe{time.Now(), ok})
			mu.Unlock()
		}
	}()

	// Watch the ending tickets: when each is first seen expired.
	expiredAt := make([]time.Time, len(ending))
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		deadline := time.Now().Add(time.Minute)
		for left := len(ending); left > 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for i, k := range ending {
				if !expiredAt[i].IsZero() {
					continue
				}
				if tk, err := f.store.Ticket(ctx, k.id); err == nil && tk.State == broker.StateExpired {
					expiredAt[i] = time.Now()
					left--
				}
			}
		}
	}()

	time.Sleep(time.Until(killAt))
	killed := time.Now()
	waitPromoted, err := target.kill(ctx)
	if err != nil {
		t.Fatal(err)
	}
	promoted, err := waitPromoted()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica promoted %s after the master was killed", promoted.Sub(killed).Round(time.Millisecond))

	// The worker: every expiry runs and cuts; how late, counted from the
	// later of its end and the promotion.
	<-watchDone
	var worst time.Duration
	for i, k := range ending {
		tk := f.get(k.id)
		if expiredAt[i].IsZero() {
			t.Fatalf("ticket %s (end %s) not expired a minute after the kill: %s", k.id, tk.End, tk.State)
		}
		from := tk.End
		if promoted.After(from) {
			from = promoted
		}
		late := expiredAt[i].Sub(from)
		t.Logf("ticket ending %s after the kill: expired %s after max(end, promotion)", tk.End.Sub(killed).Round(time.Millisecond), late.Round(time.Millisecond))
		worst = max(worst, late)
		if expiredAt[i].Before(tk.End) {
			t.Errorf("ticket %s expired at %s, before its end %s", k.id, expiredAt[i], tk.End)
		}
		for _, s := range k.role {
			f.refused("session of an expired ticket", s)
		}
	}
	t.Logf("worker: every expiry ran, the latest %s after max(its end, the promotion)", worst.Round(time.Millisecond))
	if worst > failoverBound {
		t.Errorf("an expiry ran %s after the promotion or its end; want well under %s", worst, failoverBound)
	}

	// The approval made before the failover starts on time and ends.
	f.waitState(later, broker.StateActive, failoverBound+20*time.Second)
	if tk := f.get(later); tk.Start.Before(start) {
		t.Errorf("ticket %s started %s, before its start %s", later, tk.Start, start)
	}
	f.waitState(later, broker.StateExpired, failoverBound+20*time.Second)

	// The API: the last failing probe, counted from the promotion.
	if d := time.Until(promoted.Add(10 * time.Second)); d > 0 {
		time.Sleep(d)
	}
	close(stop)
	<-done
	mu.Lock()
	var lastFail time.Time
	okAfter := 0
	for _, p := range probes {
		if !p.ok {
			lastFail = p.at
		} else if p.at.After(promoted) {
			okAfter++
		}
	}
	mu.Unlock()
	api := time.Duration(0)
	if lastFail.After(promoted) {
		api = lastFail.Sub(promoted)
	}
	outage := time.Duration(0)
	if !lastFail.IsZero() {
		outage = lastFail.Sub(killed)
	}
	t.Logf("api answered correctly from %s after promotion on (last failed probe %s after the kill; %d probes, %d good after promotion)",
		api.Round(time.Millisecond), outage.Round(time.Millisecond), len(probes), okAfter)
	if api > failoverBound || okAfter == 0 {
		t.Errorf("the API failed until %s after the promotion (%d good probes after it)", api, okAfter)
	}

	// Nothing lost: the pending ticket is there and still works.
	if code, err := f.approve(pending); err != nil || code != http.StatusOK {
		t.Fatalf("approve %s after the failover: %d %v", pending, code, err)
	}
	f.works("session of a ticket approved after the failover", f.s3With(f.mustCreds("alice@example.com", pending)))
	for _, id := range []string{first.id, later, pending} {
		if st := f.get(id).State; !slices.Contains([]broker.State{broker.StateTerminated, broker.StateExpired, broker.StateActive}, st) {
			t.Errorf("ticket %s is %s after the failover", id, st)
		}
	}
}
