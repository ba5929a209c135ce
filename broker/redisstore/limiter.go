package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter paces calls to a rate-limited AWS API across every JIT process:
// at most PerSecond requests in each wall-clock second (a fixed window per
// second), and at most Outstanding operations in flight (leases that lapse
// if their holder dies). It satisfies federation.Limiter. Keys:
// <prefix>:{limit:<name>}:second:<unix> and <prefix>:{limit:<name>}:leases.
type Limiter struct {
	rdb         redis.UniversalClient
	base        string
	perSecond   int
	outstanding int
	lease       time.Duration
	poll        time.Duration
}

// NewLimiter returns a Limiter named name (one per limited API) under
// prefix (default "jit"); perSecond defaults to 20 and outstanding to 10,
// Identity Center's documented limits.
func NewLimiter(rdb redis.UniversalClient, prefix, name string, perSecond, outstanding int) *Limiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if perSecond <= 0 {
		perSecond = 20
	}
	if outstanding <= 0 {
		outstanding = 10
	}
	return &Limiter{rdb: rdb, base: prefix + ":{limit:" + name + "}:", perSecond: perSecond, outstanding: outstanding,
		lease: 10 * time.Minute, poll: 20 * time.Millisecond}
}

// takeScript counts one request in the current second's window.
var takeScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
return n
`)

// Wait blocks until one more request may be sent in some second.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		now := time.Now()
		n, err := takeScript.Run(ctx, l.rdb, []string{fmt.Sprintf("%ssecond:%d", l.base, now.Unix())}).Int()
		if err != nil {
			return fmt.Errorf("rate limit: %w", err)
		}
		if n <= l.perSecond {
			return nil
		}
		next := now.Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(next)):
		}
	}
}

// acquireScript drops lapsed leases and takes one if fewer than the limit are held.
var acquireScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  return 1
end
return 0
`)

// Acquire blocks until one more operation may be outstanding, and returns
// its release.
func (l *Limiter) Acquire(ctx context.Context) (func(), error) {
	b := make([]byte, 12)
	rand.Read(b)
	id := hex.EncodeToString(b)
	key := l.base + "leases"
	for {
		now := time.Now()
		ok, err := acquireScript.Run(ctx, l.rdb, []string{key}, now.UnixMilli(), now.Add(l.lease).UnixMilli(), l.outstanding, id).Int()
		if err != nil {
			return nil, fmt.Errorf("operation limit: %w", err)
		}
		if ok == 1 {
			return func() { l.rdb.ZRem(context.WithoutCancel(ctx), key, id) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(l.poll):
		}
	}
}
