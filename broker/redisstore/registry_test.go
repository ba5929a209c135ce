package redisstore

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
)

func newRegistry(t *testing.T) *Registry {
	t.Helper()
	_, rdb, prefix := newStore(t)
	return NewRegistry(rdb, Options{Prefix: prefix})
}

func sampleRegistry(name string) broker.RegistryData {
	return broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: name}},
		PermissionSets: []broker.PermissionSet{{
			Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true,
			GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}},
		}},
		ApprovalRules: []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}, Deadline: 2 * time.Hour}},
		Admins:        []string{"carol@example.com"},
	}
}

func TestRegistry_replaceIsCompareAndSet(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if got, v, err := r.Registry(ctx); err != nil || v != 0 || len(got.Accounts) != 0 {
		t.Fatalf("empty store: Registry() = %+v, %d, %v; want nothing at version 0", got, v, err)
	}
	v1, err := r.ReplaceRegistry(ctx, sampleRegistry("dev"), 0)
	if err != nil || v1 != 1 {
		t.Fatalf("first ReplaceRegistry = %d, %v; want version 1", v1, err)
	}
	if _, err := r.ReplaceRegistry(ctx, sampleRegistry("stale"), 0); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("ReplaceRegistry at a stale version: err = %v, want conflict", err)
	}
	v2, err := r.ReplaceRegistry(ctx, sampleRegistry("dev2"), v1)
	if err != nil || v2 != 2 {
		t.Fatalf("second ReplaceRegistry = %d, %v; want version 2", v2, err)
	}
	got, v, err := r.Registry(ctx)
	if err != nil || v != 2 {
		t.Fatalf("Registry() version %d, %v; want 2", v, err)
	}
	if diff := cmp.Diff(sampleRegistry("dev2"), got); diff != "" {
		t.Errorf("stored registry (-want +got):\n%s", diff)
	}
	// The copy is the caller's own.
	got.Accounts[0].Name = "scribbled"
	again, _, _ := r.Registry(ctx)
	if again.Accounts[0].Name != "dev2" {
		t.Errorf("changing a returned registry changed the cache: %q", again.Accounts[0].Name)
	}
}

func TestRegistry_seed(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if ok, err := r.Seed(ctx, sampleRegistry("seed")); !ok || err != nil {
		t.Fatalf("Seed on an empty store = %v, %v; want true", ok, err)
	}
	if ok, err := r.Seed(ctx, sampleRegistry("other")); ok || err != nil {
		t.Fatalf("second Seed = %v, %v; want false, nil", ok, err)
	}
	if a, _ := r.Account(ctx, "111111111111"); a.Name != "seed" {
		t.Errorf("after two seeds the account is %q, want the first seed's", a.Name)
	}
}

// TestRegistry_concurrentAppliers has many writers replace the same
// version at once: exactly one wins, the others get ECONFLICT.
func TestRegistry_concurrentAppliers(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	v, err := r.ReplaceRegistry(ctx, sampleRegistry("base"), 0)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 16
	var wg sync.WaitGroup
	results := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			// Each writer has its own client view, as separate replicas would.
			_, results[i] = NewRegistry(r.rdb, Options{Prefix: strings.TrimSuffix(r.docKey, ":{registry}:doc")}).
				ReplaceRegistry(ctx, sampleRegistry(string(rune('a'+i))), v)
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch broker.ErrorCode(err) {
		case "":
			wins++
		case broker.ECONFLICT:
		default:
			t.Errorf("writer error: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
	if _, nv, _ := r.Registry(ctx); nv != v+1 {
		t.Errorf("version after the race is %d, want %d", nv, v+1)
	}
}

func TestRegistry_lookups(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if _, err := r.Account(ctx, "111111111111"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("Account on an empty store: %v, want not_found", err)
	}
	v, err := r.ReplaceRegistry(ctx, sampleRegistry("dev"), 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.Account(ctx, "111111111111")
	if err != nil || a.Name != "dev" {
		t.Fatalf("Account = %+v, %v", a, err)
	}
	p, err := r.PermissionSet(ctx, "ReadOnlyAccess")
	if err != nil || p.MaxDuration != 12*time.Hour || p.RoleName != "ReadOnlyAccess" {
		t.Fatalf("PermissionSet = %+v, %v", p, err)
	}
	if _, err := r.PermissionSet(ctx, "Nope"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("unknown permission set: %v, want not_found", err)
	}
	// Another replica changes the registry: this one sees it on its next lookup.
	other := NewRegistry(r.rdb, Options{Prefix: strings.TrimSuffix(r.docKey, ":{registry}:doc")})
	next := sampleRegistry("renamed")
	next.Accounts = append(next.Accounts, broker.Account{ID: "222222222222", Name: "staging"})
	if _, err := other.ReplaceRegistry(ctx, next, v); err != nil {
		t.Fatal(err)
	}
	if a, err := r.Account(ctx, "111111111111"); err != nil || a.Name != "renamed" {
		t.Errorf("after another replica's change: Account = %+v, %v; want renamed", a, err)
	}
	if _, err := r.Account(ctx, "222222222222"); err != nil {
		t.Errorf("new account: %v", err)
	}
}

func TestRegistry_keysShareOneSlot(t *testing.T) {
	r := NewRegistry(nil, Options{Prefix: "x"})
	for _, k := range []string{r.docKey, r.verKey} {
		if !strings.HasPrefix(k, "x:{registry}:") {
			t.Errorf("key %q does not hash on {registry}", k)
		}
	}
}

// TestRegistry_durationsAsStrings checks the stored JSON is readable.
func TestRegistry_durationsAsStrings(t *testing.T) {
	ctx := context.Background()
	r := newRegistry(t)
	if _, err := r.ReplaceRegistry(ctx, sampleRegistry("dev"), 0); err != nil {
		t.Fatal(err)
	}
	doc, err := r.rdb.Get(ctx, r.docKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"max_duration":"12h"`, `"deadline":"2h"`} {
		if !strings.Contains(doc, want) {
			t.Errorf("stored document lacks %s:\n%s", want, doc)
		}
	}
}
