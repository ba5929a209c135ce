package federation_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
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
