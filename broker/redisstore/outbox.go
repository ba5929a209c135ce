package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

var _ broker.Outbox = (*Store)(nil)

// outboxKey names the sorted set of tickets written since their
// consequences were last put in place: member the ticket id, score the
// Redis server's time of the latest write in milliseconds. CreateTicket,
// UpdateTicket and DeleteTicket change it in the same script as the ticket,
// so a write and its mark happen together or not at all.
func (s *Store) outboxKey() string { return s.base + "outbox" }

// dueScript returns up to ARGV[2] outbox entries marked at least ARGV[1]
// milliseconds ago by the Redis server's clock, oldest first, with their
// marks.
var dueScript = redis.NewScript(`
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[1])
return redis.call('ZRANGE', KEYS[1], '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]), 'WITHSCORES')
`)

// clearScript removes an outbox entry only if its mark is still ARGV[2]: a
// ticket written again meanwhile keeps its newer mark.
var clearScript = redis.NewScript(`
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then
	return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
`)

// Due returns up to max tickets written at least olderThan ago (by the
// Redis server's clock) whose consequences have not been confirmed since.
func (s *Store) Due(ctx context.Context, olderThan time.Duration, max int) ([]broker.OutboxEntry, error) {
	res, err := dueScript.Run(ctx, s.rdb, []string{s.outboxKey()}, olderThan.Milliseconds(), max).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	out := make([]broker.OutboxEntry, 0, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		out = append(out, broker.OutboxEntry{TicketID: res[i], Mark: res[i+1]})
	}
	return out, nil
}

// Clear removes e from the outbox unless the ticket was written again
// after e was read.
func (s *Store) Clear(ctx context.Context, e broker.OutboxEntry) error {
	if err := clearScript.Run(ctx, s.rdb, []string{s.outboxKey()}, e.TicketID, e.Mark).Err(); err != nil {
		return fmt.Errorf("clear outbox entry %s: %w", e.TicketID, err)
	}
	return nil
}

// OutboxLen returns how many tickets wait in the outbox (for tests and
// health checks).
func (s *Store) OutboxLen(ctx context.Context) (int64, error) {
	return s.rdb.ZCard(ctx, s.outboxKey()).Result()
}
