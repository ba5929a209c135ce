package federation_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// BenchmarkTerminateToDeny measures how long a termination takes to put
// its deny entry in place on the role (the sandbox has no latency and no
// propagation delay), over 300 terminations of one role, the list growing.
func BenchmarkTerminateToDeny(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	rev := e.revoker()
	var lat []time.Duration
	for range b.N {
		lat = lat[:0]
		for i := range 300 {
			req := broker.RevokeRequest{TicketID: fmt.Sprintf("b%015d", i), AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: e.clock.Now().Add(time.Hour)}
			start := time.Now()
			if err := rev.Revoke(ctx, req); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkTerminateStorm: 100 terminations at once across 10 roles of one
// account (10 a role, each role's deny list written concurrently by 10
// revokes): the time from each Revoke's start to its deny entry in place.
func BenchmarkTerminateStorm(b *testing.B) {
	f := sandbox.DemoFixture()
	roles := []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"}
	for i := range 7 {
		name := fmt.Sprintf("Team%d", i)
		f.Roles = append(f.Roles, sandbox.Role{Account: "111111111111", Name: name, Path: "/", MaxSessionDuration: 3600,
			Policies: map[string]string{name: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}`}})
		roles = append(roles, name)
	}
	e := newEnvWith(b, f)
	ctx := context.Background()
	rev := e.revoker()
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	for n := range b.N {
		var wg sync.WaitGroup
		for i := range 100 {
			wg.Go(func() {
				req := broker.RevokeRequest{TicketID: fmt.Sprintf("s%07d%08d", n, i), AccountID: "111111111111", RoleName: roles[i%len(roles)], Until: e.clock.Now().Add(time.Hour)}
				start := time.Now()
				if err := rev.Revoke(ctx, req); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
