package policies

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The benchmark registry is design.md's scale: 10,000 accounts, 100
// permission sets in 20 groups, 5,000 users in 500 groups, about 2,000
// scope entries (100 sets x about 20 requester groups, each set in about
// 100 accounts or in "*") and 20,000 approval rules of 1-3 stages.
var benchSize = genSize{accounts: 10000, sets: 100, setGroups: 20, userGroups: 500, users: 5000,
	scopeAccounts: 200, scopeGroups: 40, rules: 20000}

var bench struct {
	once sync.Once
	g    generated
	ref  *reference
	ds   []decision
	want []bool
}

// benchSetup generates the registry and 6,000 decisions with the
// reference's answers, once per process.
func benchSetup(b *testing.B) {
	bench.once.Do(func() {
		bench.g = generate(42, benchSize)
		bench.ref = newReference(bench.g.r)
		bench.ds = bench.g.decisions(bench.ref, 42, 6000)
		for _, d := range bench.ds {
			if d.approve {
				bench.want = append(bench.want, bench.ref.mayApprove(d.u, d.acct, d.ps, d.stage))
			} else {
				bench.want = append(bench.want, bench.ref.allowed(d.u, d.act, d.acct, d.ps))
			}
		}
	})
	if len(bench.g.r.ApprovalRules) != benchSize.rules {
		b.Fatalf("generated %d rules, want %d", len(bench.g.r.ApprovalRules), benchSize.rules)
	}
}

func decide(e *Enforcer, d decision) (bool, error) {
	if d.approve {
		return e.MayApprove(context.Background(), d.u, d.acct, d.ps, d.stage)
	}
	return e.Allowed(context.Background(), d.u, d.act, d.acct, d.ps)
}

// cpuTime is the process's user+system CPU time. The benchmark machine is
// shared, so wall-clock numbers vary with its load; CPU time much less.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// BenchmarkEnforce times single decisions on the full-size registry and
// reports p50/p99 latency and the live heap before and after (Casbin's g()
// memo would make the heap grow with the number of distinct decisions).
func BenchmarkEnforce(b *testing.B) {
	benchSetup(b)
	e, err := Compile(bench.g.r)
	if err != nil {
		b.Fatal(err)
	}
	for i, d := range bench.ds {
		got, err := decide(e, d)
		if err != nil {
			b.Fatal(err)
		}
		if got != bench.want[i] {
			b.Fatalf("decision %d (%+v) = %v, reference %v", i, d, got, bench.want[i])
		}
	}
	for _, kind := range []string{"mixed", "request", "approve"} {
		var ds []decision
		for _, d := range bench.ds {
			if kind == "mixed" || kind == "approve" && d.approve || kind == "request" && d.act == broker.ActRequest {
				ds = append(ds, d)
			}
		}
		b.Run(kind, func(b *testing.B) {
			before := heapMiB()
			lat := make([]time.Duration, 0, 1<<16)
			i := 0
			cpu0 := cpuTime()
			for b.Loop() {
				d := ds[i%len(ds)]
				i++
				t0 := time.Now()
				if _, err := decide(e, d); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/1e3/float64(i), "cpu-µs/op")
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Nanoseconds()) / 1e3 }
			b.ReportMetric(q(0.50), "p50-µs")
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(before, "heap-before-MiB")
			b.ReportMetric(heapMiB(), "heap-after-MiB")
		})
	}
}

// BenchmarkReload times a full recompile and swap after a one-rule change.
func BenchmarkReload(b *testing.B) {
	benchSetup(b)
	e, err := Compile(bench.g.r)
	if err != nil {
		b.Fatal(err)
	}
	r := bench.g.r
	r.ApprovalRules = slices.Clone(r.ApprovalRules)
	n := 0
	cpu0 := cpuTime()
	for b.Loop() {
		rule := cloneRule(r.ApprovalRules[0])
		rule.Stages[0].Approvers = append(rule.Stages[0].Approvers, fmt.Sprintf("extra%d@example.com", n))
		r.ApprovalRules[0] = rule
		n++
		if err := e.Reload(r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(n), "cpu-ms/op")
	if ok, err := e.MayApprove(context.Background(), broker.User{Email: fmt.Sprintf("extra%d@example.com", n-1)},
		r.ApprovalRules[0].Account, r.ApprovalRules[0].PermissionSet, 0); !ok || err != nil {
		b.Fatalf("the last change is not enforced: %v, %v", ok, err)
	}
	b.ReportMetric(float64(e.cur.Load().nLinks), "links")
	b.ReportMetric(heapMiB(), "heap-MiB")
}
