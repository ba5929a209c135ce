package policies

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casbin/casbin/v2/persist"

	"github.com/jitaccess/jit/broker"
)

// Channel is the pub/sub channel on which replicas announce registry changes.
const Channel = "jit:policies:changed"

// Resubscribed is the message a PubSub delivers when it has subscribed
// again after losing its connection: messages published meanwhile may be
// lost. Publishers never send it (Watcher publishes its non-empty ID).
const Resubscribed = ""

// PubSub is the small part of a message bus that reloading across replicas
// needs. RedisPubSub implements it over Redis. Its errors are transport
// failures and carry no broker code (internal).
type PubSub interface {
	// Publish sends msg to every current subscriber of channel.
	Publish(ctx context.Context, channel, msg string) error
	// Subscribe calls fn, one message at a time, for every message
	// published on channel until stop is called, and with Resubscribed
	// each time the subscription is made again after a lost connection.
	// It returns once the subscription is active, so nothing published
	// afterwards is missed while the connection holds.
	Subscribe(ctx context.Context, channel string, fn func(msg string)) (stop func(), err error)
}

// Watcher is a Casbin persist.Watcher over a PubSub. Every message on its
// channel, its own included, goes to the update callback; Update publishes
// the watcher's ID.
//
// The Enforcer does not hand it to Casbin's SetWatcher: each reload swaps in
// a new Casbin enforcer, and a message means "load the registry again",
// which Watch does itself.
type Watcher struct {
	ps      PubSub
	channel string
	id      string

	mu     sync.Mutex
	cb     func(string)
	stop   func()
	closed bool
}

var _ persist.Watcher = (*Watcher)(nil)

// NewWatcher subscribes to channel on ps.
func NewWatcher(ctx context.Context, ps PubSub, channel string) (*Watcher, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("watcher id: %w", err)
	}
	w := &Watcher{ps: ps, channel: channel, id: hex.EncodeToString(b[:])}
	stop, err := ps.Subscribe(ctx, channel, w.deliver)
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", channel, err)
	}
	w.mu.Lock()
	w.stop = stop
	w.mu.Unlock()
	return w, nil
}

// ID identifies this watcher in the messages it publishes.
func (w *Watcher) ID() string { return w.id }

func (w *Watcher) deliver(msg string) {
	w.mu.Lock()
	cb, closed := w.cb, w.closed
	w.mu.Unlock()
	if cb != nil && !closed {
		cb(msg)
	}
}

// SetUpdateCallback sets the function called with each message.
func (w *Watcher) SetUpdateCallback(fn func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cb = fn
	return nil
}

// Update publishes a change notice, waiting at most 5 seconds.
func (w *Watcher) Update() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.Publish(ctx)
}

// Publish publishes a change notice carrying the watcher's ID.
func (w *Watcher) Publish(ctx context.Context) error {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return errors.New("watcher is closed")
	}
	if err := w.ps.Publish(ctx, w.channel, w.id); err != nil {
		return fmt.Errorf("publish %s: %w", w.channel, err)
	}
	return nil
}

// Close unsubscribes; the callback is not called any more.
func (w *Watcher) Close() {
	w.mu.Lock()
	stop := w.stop
	w.closed, w.stop = true, nil
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Source is where the registry in force lives (redisstore.Registry). Its
// errors are transport failures (internal).
type Source interface {
	// Registry returns the stored registry and its version.
	Registry(ctx context.Context) (broker.RegistryData, int64, error)
	// Version returns the stored version: one cheap read.
	Version(ctx context.Context) (int64, error)
}

// DefaultMaxAge is how long a decision may rely on the last check that the
// registry it uses is the stored one (WatchOptions.MaxAge).
const DefaultMaxAge = time.Second

// WatchOptions tune Watch. The zero value is the default.
type WatchOptions struct {
	// MaxAge bounds how stale a decision may be: every decision uses a
	// registry that was the stored one at most MaxAge before the decision
	// began. Default DefaultMaxAge.
	MaxAge time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// watch is an Enforcer's subscription and its freshness checks.
type watch struct {
	w      *Watcher
	src    Source
	kick   chan struct{}
	maxAge time.Duration
	now    func() time.Time

	// checked is the last version check that matched the registry in
	// force; decisions trust it for maxAge.
	checked atomic.Pointer[versionCheck]
	// catchUp serializes the reloads decisions wait for.
	catchUp sync.Mutex
	// bad is the stored version that failed to load as an invalid
	// registry, so decisions refuse without compiling it again.
	bad atomic.Int64
}

type versionCheck struct {
	at      time.Time
	version int64
}

func (wt *watch) poke() {
	select {
	case wt.kick <- struct{}{}:
	default: // a reload is already due; it will see this change too
	}
}

// Watch keeps e on the registry stored in src, on every replica:
//
//   - it subscribes to Channel on ps and reloads from src whenever another
//     replica announces a change (see Changed), and whenever the
//     subscription is made again after a lost connection (Resubscribed),
//     since notices sent meanwhile are lost; notices that arrive during a
//     reload coalesce into one more reload, and a failed reload is retried
//     with backoff (1 s doubling to 30 s);
//   - every decision (Allowed, MayApprove) first makes sure the registry in
//     force is the stored one: when its last check is older than
//     opts.MaxAge (1 s by default) it reads the stored version (one cheap
//     read) and, if it moved, reloads before deciding. When the version
//     cannot be read, or the stored registry cannot be loaded or is
//     invalid, the decision is refused with EUNAVAILABLE instead of being
//     made on a registry that may be stale.
//
// So a decision always uses a registry that was the stored one at most
// MaxAge before it began, however notices are lost. Watch also reloads
// once right after subscribing. It runs until ctx ends; an Enforcer
// watches at most one PubSub.
func (e *Enforcer) Watch(ctx context.Context, ps PubSub, src Source, opts WatchOptions) error {
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if e.w.Load() != nil {
		return errors.New("policies: already watching")
	}
	w, err := NewWatcher(ctx, ps, Channel)
	if err != nil {
		return err
	}
	wt := &watch{w: w, src: src, kick: make(chan struct{}, 1), maxAge: opts.MaxAge, now: opts.Now}
	_ = w.SetUpdateCallback(func(msg string) {
		if msg != w.ID() {
			wt.poke()
		}
	})
	if !e.w.CompareAndSwap(nil, wt) {
		w.Close()
		return errors.New("policies: already watching")
	}
	wt.poke()
	go e.watchLoop(ctx, wt)
	return nil
}

func (e *Enforcer) watchLoop(ctx context.Context, wt *watch) {
	defer func() {
		wt.w.Close()
		e.w.CompareAndSwap(wt, nil)
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wt.kick:
		}
		for backoff := time.Second; ; backoff = min(2*backoff, 30*time.Second) {
			err := e.reloadFrom(ctx, wt)
			if err == nil || ctx.Err() != nil {
				break
			}
			if broker.ErrorCode(err) == broker.EINVALID {
				e.log().Error("policies: registry change not applied", "err", err)
				break
			}
			e.log().Warn("policies: reload failed, retrying", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			case <-wt.kick:
			}
		}
	}
}

// reloadFrom loads the stored registry and swaps it in, unless a reload
// started later has already been applied. An invalid registry is
// remembered (wt.bad) and returned (EINVALID).
func (e *Enforcer) reloadFrom(ctx context.Context, wt *watch) error {
	gen := e.nextGen()
	r, v, err := wt.src.Registry(ctx)
	if err != nil {
		return fmt.Errorf("load registry: %w", err)
	}
	if err := e.apply(r, v, gen); err != nil {
		wt.bad.Store(v)
		return fmt.Errorf("registry version %d: %w", v, err)
	}
	return nil
}

// errStale is the refusal of a decision that cannot be made on the
// registry in force. It says nothing about the registry itself.
var errStale = broker.Errorf(broker.EUNAVAILABLE, "authorization is paused: this server cannot confirm it has the current access rules; try again shortly")

// current returns the snapshot a decision uses: the one in force once it is
// known to be the stored one (see Watch). Without Watch it is simply the
// one in force. Errors: EUNAVAILABLE.
func (e *Enforcer) current(ctx context.Context) (*snapshot, error) {
	s := e.cur.Load()
	wt := e.w.Load()
	if wt == nil {
		return s, nil
	}
	now := wt.now()
	if c := wt.checked.Load(); c != nil && c.version == s.version && !now.Before(c.at) && now.Sub(c.at) < wt.maxAge {
		return s, nil
	}
	v, err := wt.src.Version(ctx)
	if err != nil {
		return nil, errStale
	}
	if v != s.version {
		if s, err = e.catchUp(ctx, wt, v); err != nil {
			return nil, err
		}
	}
	wt.checked.Store(&versionCheck{at: now, version: s.version})
	return s, nil
}

// catchUp reloads so that the registry in force is version v, the stored
// one, or a newer one loaded meanwhile. A stored version lower than the one
// in force (Redis restored from a backup) is loaded too. Errors:
// EUNAVAILABLE.
func (e *Enforcer) catchUp(ctx context.Context, wt *watch, v int64) (*snapshot, error) {
	wt.catchUp.Lock()
	defer wt.catchUp.Unlock()
	if s := e.cur.Load(); s.version == v {
		return s, nil // another decision caught up meanwhile
	}
	if v != 0 && wt.bad.Load() == v {
		return nil, errStale
	}
	if err := e.reloadFrom(ctx, wt); err != nil {
		e.log().Error("policies: the stored registry cannot be applied; refusing decisions", "version", v, "err", err)
		return nil, errStale
	}
	s := e.cur.Load()
	if s.version < v {
		return nil, errStale
	}
	return s, nil
}

// Changed is called after the registry changed: it reloads this enforcer
// from Watch's source and then tells every other replica to reload. If the
// new registry is invalid it returns the error (EINVALID), keeps the
// previous one and tells no one. It fails if Watch is not running.
func (e *Enforcer) Changed(ctx context.Context) error {
	wt := e.w.Load()
	if wt == nil {
		return errors.New("policies: Changed without Watch")
	}
	if err := e.reloadFrom(ctx, wt); err != nil {
		return err
	}
	return wt.w.Publish(ctx)
}
