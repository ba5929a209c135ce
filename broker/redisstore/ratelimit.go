package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// RateLimiter limits how often each key (a user) may do something, across
// every JIT process sharing the Redis: perMinute on average, with bursts of
// up to burst at once. It is go-redis/redis_rate's GCRA limiter (one Lua
// script, Redis's own clock); it satisfies console.RateLimiter. Keys:
// rate:<prefix>:ratelimit:<name>:<key>, each expiring once it is back to
// its initial state.
type RateLimiter struct {
	lim   *redis_rate.Limiter
	limit redis_rate.Limit
	base  string
}

// NewRateLimiter returns a RateLimiter named name (one per limited kind of
// request) under prefix (default "jit"). perMinute and burst must be
// positive; a burst of 0 means perMinute.
func NewRateLimiter(rdb redis.UniversalClient, prefix, name string, perMinute, burst int) *RateLimiter {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if burst <= 0 {
		burst = perMinute
	}
	return &RateLimiter{
		lim:   redis_rate.NewLimiter(rdb),
		limit: redis_rate.Limit{Rate: perMinute, Burst: burst, Period: time.Minute},
		base:  prefix + ":ratelimit:" + name + ":",
	}
}

// Allow counts one event for key and returns zero when it is within the
// limit, or how long until the next one would be. A refused event is not
// counted, so waiting RetryAfter is always enough.
func (l *RateLimiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	res, err := l.lim.Allow(ctx, l.base+key, l.limit)
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	if res.RetryAfter <= 0 { // refused without a wait: never, but do not answer "go ahead"
		return time.Second, nil
	}
	return res.RetryAfter, nil
}
