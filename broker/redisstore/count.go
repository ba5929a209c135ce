package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// CountByState returns how many stored tickets are in each state (the size
// of each state's index), for metrics.
func (s *Store) CountByState(ctx context.Context) (map[broker.State]int64, error) {
	cmds := make(map[broker.State]*redis.IntCmd, len(broker.States))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, st := range broker.States {
			cmds[st] = p.ZCard(ctx, s.stateKey(st))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count tickets: %w", err)
	}
	out := make(map[broker.State]int64, len(cmds))
	for st, c := range cmds {
		out[st] = c.Val()
	}
	return out, nil
}
