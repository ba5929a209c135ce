package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// PurgeEnded deletes, with their index entries, up to max tickets in a
// final state (expired, rejected, cancelled, terminated) that nothing has
// written since before endedBefore, so Redis holds open work and recent
// history rather than all history. The audit log, kept apart, still holds
// every purged ticket's events. It returns how many it deleted.
//
// Only tickets created before endedBefore can qualify, so each state's
// index is read from its oldest entry up to that score, not in full.
func (s *Store) PurgeEnded(ctx context.Context, endedBefore time.Time, max int) (int, error) {
	deleted := 0
	for _, st := range broker.States {
		if !st.Final() {
			continue
		}
		lo := "-inf"
		for deleted < max {
			ids, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: s.stateKey(st), ByScore: true,
				Start: lo, Stop: strconv.FormatInt(endedBefore.UnixMicro(), 10), Count: int64(s.pageSize)}).Result()
			if err != nil {
				return deleted, fmt.Errorf("purge %s tickets: %w", st, err)
			}
			for _, z := range ids {
				id, _ := z.Member.(string)
				t, raw, err := s.get(ctx, id)
				if broker.ErrorCode(err) == broker.ENOTFOUND {
					continue
				} else if err != nil {
					return deleted, err
				}
				if !t.State.Final() || !t.UpdatedAt.Before(endedBefore) {
					continue
				}
				// Only the copy just checked: a ticket changed since (a
				// rejected one edited back to pending) stays.
				keys := append([]string{s.ticketKey(id), s.outboxKey()}, s.indexKeys(t)...)
				ok, err := deleteScript.Run(ctx, s.rdb, keys, digest(raw), id).Int()
				if err != nil {
					return deleted, fmt.Errorf("purge ticket %s: %w", id, err)
				}
				if ok != resOK {
					continue
				}
				if deleted++; deleted >= max {
					break
				}
			}
			if len(ids) < s.pageSize {
				break
			}
			lo = "(" + strconv.FormatFloat(ids[len(ids)-1].Score, 'f', 0, 64)
		}
	}
	return deleted, nil
}
