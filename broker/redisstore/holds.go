package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Holds implements broker.Holds: one Redis set per shared grant, holding
// the ids of the tickets that need it. Keys: <prefix>:{holds}:<grant key>.
type Holds struct {
	rdb  redis.UniversalClient
	base string
}

var _ broker.Holds = (*Holds)(nil)

// NewHolds returns Holds keeping its sets in rdb under prefix (default "jit").
func NewHolds(rdb redis.UniversalClient, prefix string) *Holds {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &Holds{rdb: rdb, base: prefix + ":{holds}:"}
}

// Hold records that ticketID needs key.
func (h *Holds) Hold(ctx context.Context, key, ticketID string) error {
	if err := h.rdb.SAdd(ctx, h.base+key, ticketID).Err(); err != nil {
		return fmt.Errorf("hold %s: %w", key, err)
	}
	return nil
}

// releaseScript removes a holder and reports how many remain, atomically.
var releaseScript = redis.NewScript(`
redis.call('SREM', KEYS[1], ARGV[1])
return redis.call('SCARD', KEYS[1])
`)

// Release drops ticketID's hold and reports whether none remain.
func (h *Holds) Release(ctx context.Context, key, ticketID string) (bool, error) {
	n, err := releaseScript.Run(ctx, h.rdb, []string{h.base + key}, ticketID).Int()
	if err != nil {
		return false, fmt.Errorf("release %s: %w", key, err)
	}
	return n == 0, nil
}

// Holders lists the tickets holding key.
func (h *Holds) Holders(ctx context.Context, key string) ([]string, error) {
	ids, err := h.rdb.SMembers(ctx, h.base+key).Result()
	if err != nil {
		return nil, fmt.Errorf("holders of %s: %w", key, err)
	}
	return ids, nil
}
