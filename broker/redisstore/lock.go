package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Locker implements broker.Locker with a Redis lease per key
// (SET NX PX, released only by its owner). A holder that dies loses the
// lock when the lease runs out.
type Locker struct {
	rdb   redis.UniversalClient
	base  string
	lease time.Duration
	poll  time.Duration
}

var _ broker.Locker = (*Locker)(nil)

// NewLocker returns a Locker under prefix (default "jit") whose leases
// last lease (default 30 s): longer than any locked piece of work.
func NewLocker(rdb redis.UniversalClient, prefix string, lease time.Duration) *Locker {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if lease <= 0 {
		lease = 30 * time.Second
	}
	return &Locker{rdb: rdb, base: prefix + ":lock:", lease: lease, poll: 20 * time.Millisecond}
}

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
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
			return func() { unlockScript.Run(context.WithoutCancel(ctx), l.rdb, []string{k}, token) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %s: %w", key, ctx.Err())
		case <-time.After(l.poll):
		}
	}
}
