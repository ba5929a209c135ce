package policies

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
	"github.com/jitaccess/jit/internal/redistest"
)

// withAdmins is the decision table's registry with these admins.
func withAdmins(admins ...string) broker.RegistryData {
	r := tableRegistry()
	r.Admins = admins
	return r
}

// A replica that missed the change notice (here: no notice is ever sent)
// still decides on the stored registry within MaxAge, and refuses rather
// than decide on a registry it cannot confirm.
func TestDecisionsFollowTheStoredRegistry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store := newShared(withAdmins("carol@x.com", "dave@x.com"))
	clock := fake.NewClock(time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC))
	e, err := Compile(withAdmins("carol@x.com", "dave@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Watch(ctx, newFakeBus(), store, WatchOptions{MaxAge: time.Second, Now: clock.Now}); err != nil {
		t.Fatal(err)
	}
	dave := user("dave@x.com")
	isAdmin := func() (bool, string) {
		t.Helper()
		ok, err := e.Allowed(ctx, dave, broker.ActAdminister, "", "")
		if err != nil {
			return false, broker.ErrorCode(err)
		}
		return ok, ""
	}
	if ok, code := isAdmin(); !ok || code != "" {
		t.Fatalf("dave before the change: admin %v, code %q; want admin", ok, code)
	}

	// dave is removed; the notice is lost.
	store.set(withAdmins("carol@x.com"))
	clock.Advance(999 * time.Millisecond)
	// Within MaxAge of the last check, the registry checked then is used
	// (the documented bound)...
	if ok, _ := isAdmin(); !ok {
		t.Log("the change was seen early (allowed: the bound is an upper one)")
	}
	// ...and not a moment longer.
	clock.Advance(time.Millisecond)
	if ok, code := isAdmin(); ok || code != "" {
		t.Fatalf("dave MaxAge after the change: admin %v, code %q; want not admin", ok, code)
	}
	if got, want := e.Version(), int64(2); got != want {
		t.Errorf("version in force %d, want %d", got, want)
	}
	// MayApprove checks the same way.
	store.set(withAdmins("carol@x.com"))
	store.setDown(true)
	clock.Advance(time.Second)
	if _, err := e.MayApprove(ctx, user("mgr@x.com"), sandbox, "ReadOnly", 0); broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("MayApprove cut off from the registry: %v, want unavailable", err)
	}

	// Cut off: once the last check is MaxAge old, decisions are refused.
	store.setDown(false)
	clock.Advance(time.Second)
	if ok, code := isAdmin(); ok || code != "" {
		t.Fatalf("after reconnecting: admin %v, code %q", ok, code)
	}
	store.setDown(true)
	store.set(withAdmins("carol@x.com", "dave@x.com")) // a change it cannot see
	if ok, code := isAdmin(); ok || code != "" {
		t.Fatalf("cut off, within MaxAge: admin %v, code %q; want the last checked answer", ok, code)
	}
	clock.Advance(time.Second)
	for _, act := range []broker.Action{broker.ActAdminister, broker.ActRequest, broker.ActRequestForOthers} {
		ok, err := e.Allowed(ctx, dave, act, dev, "ReadOnly")
		if ok || broker.ErrorCode(err) != broker.EUNAVAILABLE {
			t.Errorf("cut off, %s: %v %v; want refused (unavailable)", act, ok, err)
		}
	}
	if _, _, err := e.Rule(ctx, dev, "ReadOnly", nil); broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("Rule cut off: %v, want unavailable", err)
	}
	// Back: the first decision catches up.
	store.setDown(false)
	if ok, code := isAdmin(); !ok || code != "" {
		t.Fatalf("healed: admin %v, code %q; want admin again", ok, code)
	}

	// A stored registry that does not compile is refused, not worked
	// around with the previous one, and not compiled on every decision.
	bad := withAdmins("carol@x.com")
	bad.ApprovalRules[0].Stages[0].Required = 9
	store.set(bad)
	clock.Advance(time.Second)
	if ok, code := isAdmin(); ok || code != broker.EUNAVAILABLE {
		t.Fatalf("invalid stored registry: admin %v, code %q; want unavailable", ok, code)
	}
	loads := store.loaded()
	clock.Advance(time.Second)
	if _, code := isAdmin(); code != broker.EUNAVAILABLE {
		t.Fatalf("invalid stored registry, again: code %q; want unavailable", code)
	}
	if got := store.loaded(); got != loads {
		t.Errorf("the invalid registry was loaded again (%d loads, want %d)", got, loads)
	}
	store.set(withAdmins("carol@x.com"))
	clock.Advance(time.Second)
	if ok, code := isAdmin(); ok || code != "" {
		t.Fatalf("fixed registry: admin %v, code %q", ok, code)
	}
}

// A replica whose pub/sub connection to Redis is cut while a change is
// announced reloads once go-redis has subscribed again, without waiting
// for a decision to look.
func TestWatchReloadsAfterResubscribe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store := newShared(withAdmins("carol@x.com", "dave@x.com"))
	direct := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { direct.Close() })
	proxy := redistest.NewProxy(t, redisAddr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1})
	t.Cleanup(func() { viaProxy.Close() })

	a, err := Compile(withAdmins("carol@x.com", "dave@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compile(withAdmins("carol@x.com", "dave@x.com"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Watch(ctx, RedisPubSub{Client: direct}, store, WatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Watch(ctx, RedisPubSub{Client: viaProxy}, store, WatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both replicas load version 1", func() bool { return a.Version() == 1 && b.Version() == 1 })

	proxy.Cut()
	store.set(withAdmins("carol@x.com"))
	if err := a.Changed(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Version() != 2 {
		t.Fatalf("the announcing replica is at version %d, want 2", a.Version())
	}
	// Nobody asks b anything: only the resubscription can bring it up to date.
	if b.Version() != 1 {
		t.Fatalf("b reloaded while cut off (version %d)", b.Version())
	}
	proxy.Restore()
	within(t, 10*time.Second, "b reloads after subscribing again", func() bool { return b.Version() == 2 })
}

// within polls cond every 10 ms for up to d.
func within(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
