package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Locker implements broker.Locker with a Redis lease per key
// (SET NX PX, released only by its owner). The holder renews the lease
// every third of it for as long as it holds the lock, so work of any
// length stays exclusive (an Identity Center cut can take minutes), and a
// holder that dies loses the lock within one lease.
type Locker struct {
	rdb   redis.UniversalClient
	base  string
	lease time.Duration
	poll  time.Duration
}

var _ broker.Locker = (*Locker)(nil)

// DefaultLease is how long a lock outlives a holder that died.
const DefaultLease = 6 * time.Second

// NewLocker returns a Locker under prefix (default "jit") whose leases
// last lease (default DefaultLease) and are renewed while held.
func NewLocker(rdb redis.UniversalClient, prefix string, lease time.Duration) *Locker {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if lease <= 0 {
		lease = DefaultLease
	}
	return &Locker{rdb: rdb, base: prefix + ":lock:", lease: lease, poll: 20 * time.Millisecond}
}

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// renewScript extends the lease to ARGV[2] ms if the caller still owns it.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// Lock waits until it owns key's lock, or ctx ends.
func (l *Locker) Lock(ctx context.Context, key string) (func(), error) {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	k := l.base + key
	for {
		ok, err := l.rdb.SetNX(ctx, k, token, l.lease).Result()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", key, err)
		}
		if ok {
			return l.hold(context.WithoutCancel(ctx), k, token), nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", key, ctx.Err())
		case <-time.After(l.poll):
		}
	}
}

// hold renews the lease on k until the returned release is called, then
// deletes it. A renewal that finds the lease gone (Redis lost it, or it ran
// out while this process stalled) stops renewing; the work under the lock
// is then no longer exclusive, which is logged by nobody here: the locked
// work is idempotent by design and re-checks the ticket.
func (l *Locker) hold(ctx context.Context, k, token string) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(l.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				n, err := renewScript.Run(ctx, l.rdb, []string{k}, token, l.lease.Milliseconds()).Int()
				if err == nil && n == 0 {
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			unlockScript.Run(ctx, l.rdb, []string{k}, token)
		})
	}
}
