package policies

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/redistest"
)

var redisAddr string

func TestMain(m *testing.M) { redistest.Main(m, func(a string) { redisAddr = a }) }

// fakeBus is an in-memory PubSub: each subscriber gets messages in order on
// its own goroutine.
type fakeBus struct {
	mu   sync.Mutex
	subs map[string]map[int]chan string
	next int
}

func newFakeBus() *fakeBus { return &fakeBus{subs: map[string]map[int]chan string{}} }

func (b *fakeBus) Publish(_ context.Context, channel, msg string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs[channel] {
		ch <- msg
	}
	return nil
}

func (b *fakeBus) Subscribe(_ context.Context, channel string, fn func(string)) (func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[channel] == nil {
		b.subs[channel] = map[int]chan string{}
	}
	id := b.next
	b.next++
	ch := make(chan string, 64)
	b.subs[channel][id] = ch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			fn(m)
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs[channel], id)
			b.mu.Unlock()
			close(ch)
			<-done
		})
	}, nil
}

// sharedRegistry stands in for the registry in Redis (a Source). down
// makes every read fail, as when the replica is cut off from Redis.
type sharedRegistry struct {
	mu      sync.Mutex
	r       broker.RegistryData
	version int64
	loads   int
	down    bool
}

var _ Source = (*sharedRegistry)(nil)

func newShared(r broker.RegistryData) *sharedRegistry { return &sharedRegistry{r: r, version: 1} }

func (s *sharedRegistry) set(r broker.RegistryData) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.r = r
	s.version++
}

func (s *sharedRegistry) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *sharedRegistry) Registry(context.Context) (broker.RegistryData, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return broker.RegistryData{}, 0, errors.New("connection refused")
	}
	s.loads++
	return s.r, s.version, nil
}

func (s *sharedRegistry) Version(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return 0, errors.New("connection refused")
	}
	return s.version, nil
}

func (s *sharedRegistry) loaded() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads
}

// eventually polls cond every 10 ms for up to a second.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWatchFakeBus(t *testing.T) { testWatch(t, newFakeBus()) }

func TestWatchRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	testWatch(t, RedisPubSub{Client: rdb})
}

// testWatch: a change announced by one replica is enforced by the other
// within a second; an invalid change is refused and changes nothing.
func testWatch(t *testing.T, ps PubSub) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store := newShared(tableRegistry())
	var replicas [2]*Enforcer
	for i := range replicas {
		e, err := Compile(tableRegistry())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Watch(ctx, ps, store, WatchOptions{}); err != nil {
			t.Fatal(err)
		}
		replicas[i] = e
	}
	a, b := replicas[0], replicas[1]
	if err := a.Watch(ctx, ps, store, WatchOptions{}); err == nil {
		t.Error("a second Watch was accepted")
	}
	alice := user("alice@x.com")
	mayPower := func(e *Enforcer) bool {
		ok, err := e.Allowed(ctx, alice, broker.ActRequest, dev, "PowerUser")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if mayPower(a) || mayPower(b) {
		t.Fatal("alice may request PowerUser before the change")
	}

	next := tableRegistry()
	next.PermissionSets[1].Scope.RequesterGroups = []string{"*"}
	store.set(next)
	if err := a.Changed(ctx); err != nil {
		t.Fatal(err)
	}
	if !mayPower(a) {
		t.Error("the replica that announced the change does not enforce it yet")
	}
	eventually(t, "the other replica enforces the change", func() bool { return mayPower(b) })

	bad := tableRegistry()
	bad.ApprovalRules[0].Stages[0].Required = 9
	store.set(bad)
	err := a.Changed(ctx)
	if err == nil || broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(err.Error(), "approval_rules[0].stages[0].required") {
		t.Fatalf("Changed with a bad registry = %v, want the stage error", err)
	}
	if !mayPower(a) {
		t.Error("a bad registry replaced the good one")
	}

	// Casbin's own Update (persist.Watcher) also makes the others reload.
	store.set(tableRegistry())
	w, err := NewWatcher(ctx, ps, Channel)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Update(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both replicas enforce the change announced with Update", func() bool { return !mayPower(a) && !mayPower(b) })

	cancel()
	eventually(t, "Watch stops with its context", func() bool { return a.w.Load() == nil })
}

func TestChangedWithoutWatch(t *testing.T) {
	e, err := Compile(tableRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Changed(context.Background()); err == nil {
		t.Error("Changed without Watch succeeded")
	}
}

func TestWatcherClose(t *testing.T) {
	bus := newFakeBus()
	w, err := NewWatcher(context.Background(), bus, "c")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	if err := w.SetUpdateCallback(func(m string) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := w.Update(); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m != w.ID() {
		t.Errorf("message %q, want the watcher's id %q", m, w.ID())
	}
	w.Close()
	if err := w.Update(); err == nil {
		t.Error("Update after Close succeeded")
	}
	bus.Publish(context.Background(), "c", "late")
	select {
	case m := <-got:
		t.Errorf("callback called after Close with %q", m)
	case <-time.After(20 * time.Millisecond):
	}
}
