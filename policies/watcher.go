package policies

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/casbin/casbin/v2/persist"

	"github.com/jitaccess/jit/broker"
)

// Channel is the pub/sub channel on which replicas announce registry changes.
const Channel = "jit:policies:changed"

// PubSub is the small part of a message bus that reloading across replicas
// needs. RedisPubSub implements it over Redis. Its errors are transport
// failures and carry no broker code (internal).
type PubSub interface {
	// Publish sends msg to every current subscriber of channel.
	Publish(ctx context.Context, channel, msg string) error
	// Subscribe calls fn, one message at a time, for every message
	// published on channel until stop is called. It returns once the
	// subscription is active, so nothing published afterwards is missed.
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

// watch is an Enforcer's subscription.
type watch struct {
	w    *Watcher
	load func(context.Context) (broker.RegistryData, error)
	kick chan struct{}
}

func (wt *watch) poke() {
	select {
	case wt.kick <- struct{}{}:
	default: // a reload is already due; it will see this change too
	}
}

// Watch subscribes to Channel on ps and, until ctx ends, reloads from load
// whenever another replica announces a change (see Changed). Notices that
// arrive during a reload coalesce into one more reload. A failed load is
// retried with backoff (1 s doubling to 30 s); an invalid registry is
// logged (SetLogger) and the previous one kept. Watch also reloads once
// right after subscribing, so a change made between Compile and Watch is
// not missed. An Enforcer watches at most one PubSub.
func (e *Enforcer) Watch(ctx context.Context, ps PubSub, load func(context.Context) (broker.RegistryData, error)) error {
	e.mu.Lock()
	busy := e.w != nil
	e.mu.Unlock()
	if busy {
		return errors.New("policies: already watching")
	}
	w, err := NewWatcher(ctx, ps, Channel)
	if err != nil {
		return err
	}
	wt := &watch{w: w, load: load, kick: make(chan struct{}, 1)}
	_ = w.SetUpdateCallback(func(msg string) {
		if msg != w.ID() {
			wt.poke()
		}
	})
	e.mu.Lock()
	if e.w != nil {
		e.mu.Unlock()
		w.Close()
		return errors.New("policies: already watching")
	}
	e.w = wt
	e.mu.Unlock()
	wt.poke()
	go e.watchLoop(ctx, wt)
	return nil
}

func (e *Enforcer) watchLoop(ctx context.Context, wt *watch) {
	defer func() {
		wt.w.Close()
		e.mu.Lock()
		if e.w == wt {
			e.w = nil
		}
		e.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wt.kick:
		}
		for backoff := time.Second; ; backoff = min(2*backoff, 30*time.Second) {
			err := e.reloadFrom(ctx, wt.load)
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

func (e *Enforcer) reloadFrom(ctx context.Context, load func(context.Context) (broker.RegistryData, error)) error {
	r, err := load(ctx)
	if err != nil {
		return fmt.Errorf("load registry: %w", err)
	}
	return e.Reload(r)
}

// Changed is called after the registry changed: it reloads this enforcer
// from Watch's load function and then tells every other replica to reload.
// If the new registry is invalid it returns the error (EINVALID), keeps the
// previous one and tells no one. It fails if Watch is not running.
func (e *Enforcer) Changed(ctx context.Context) error {
	e.mu.Lock()
	wt := e.w
	e.mu.Unlock()
	if wt == nil {
		return errors.New("policies: Changed without Watch")
	}
	if err := e.reloadFrom(ctx, wt.load); err != nil {
		return err
	}
	return wt.w.Publish(ctx)
}
