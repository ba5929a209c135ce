package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// ReplayGuard remembers keys (signed callbacks already taken) for a while,
// across replicas. Keys: <prefix>:{replay}:<key>.
type ReplayGuard struct {
	rdb  redis.UniversalClient
	base string
}

// NewReplayGuard returns a guard under prefix (default "jit").
func NewReplayGuard(rdb redis.UniversalClient, prefix string) *ReplayGuard {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &ReplayGuard{rdb: rdb, base: prefix + ":{replay}:"}
}

// First records key for ttl and reports whether it was new.
func (g *ReplayGuard) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := g.rdb.SetNX(ctx, g.base+key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("replay guard: %w", err)
	}
	return ok, nil
}
