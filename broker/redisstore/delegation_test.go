package redisstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// noChain rejects a delegation that would continue or start a chain, like
// broker.Service.Delegate does.
func noChain(d *broker.Delegation) func([]broker.Delegation) error {
	return func(existing []broker.Delegation) error {
		for _, e := range existing {
			if e.Overlaps(*d) && (e.To == d.From || e.From == d.To) {
				return broker.Errorf(broker.EINVALID, "chain")
			}
		}
		return nil
	}
}

func TestDelegations_createListDelete(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	d := &broker.Delegation{ID: "d1", From: "bob@x.com", To: "dan@x.com", Start: t0, End: t0.Add(time.Hour)}
	if err := s.CreateDelegation(ctx, d, noChain(d)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []broker.DelegationFilter{{From: "bob@x.com"}, {To: "dan@x.com"}, {From: "dan@x.com", To: "dan@x.com"}, {}} {
		ds, err := s.Delegations(ctx, f)
		if err != nil || len(ds) != 1 || ds[0].ID != "d1" {
			t.Fatalf("Delegations(%+v) = %v, %v; want d1", f, ds, err)
		}
	}
	if ds, _ := s.Delegations(ctx, broker.DelegationFilter{From: "dan@x.com"}); len(ds) != 0 {
		t.Fatalf("from dan: %v, want none", ds)
	}
	chain := &broker.Delegation{ID: "d2", From: "dan@x.com", To: "eve@x.com", Start: t0, End: t0.Add(time.Hour)}
	if err := s.CreateDelegation(ctx, chain, noChain(chain)); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("chain: got %v, want the check's error", err)
	}
	if err := s.DeleteDelegation(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delegation(ctx, "d1"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("after delete: %v, want not found", err)
	}
	if err := s.DeleteDelegation(ctx, "d1"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("delete twice: %v, want not found", err)
	}
}

// Two delegations that together would form a chain (a->b, b->c), made at
// the same moment many times over: the transaction lets exactly one of each
// pair in.
func TestDelegations_concurrentChain(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	for i := range 20 {
		a, b, c := fmt.Sprintf("a%d@x.com", i), fmt.Sprintf("b%d@x.com", i), fmt.Sprintf("c%d@x.com", i)
		ab := &broker.Delegation{ID: fmt.Sprintf("ab%d", i), From: a, To: b, Start: t0, End: t0.Add(time.Hour)}
		bc := &broker.Delegation{ID: fmt.Sprintf("bc%d", i), From: b, To: c, Start: t0, End: t0.Add(time.Hour)}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, d := range []*broker.Delegation{ab, bc} {
			wg.Go(func() { errs[j] = s.CreateDelegation(ctx, d, noChain(d)) })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d: errors %v and %v; want exactly one to fail", i, errs[0], errs[1])
		}
	}
}
