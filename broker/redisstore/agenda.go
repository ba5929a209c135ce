package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

var _ broker.Agenda = (*Store)(nil)

// agendaKey names the sorted set of tickets by their next due time (Unix
// milliseconds).
func (s *Store) agendaKey() string { return s.base + "due" }

// SetDue records when the ticket's next transition is due; the zero time
// removes it.
func (s *Store) SetDue(ctx context.Context, id string, at time.Time) error {
	var err error
	if at.IsZero() {
		err = s.rdb.ZRem(ctx, s.agendaKey(), id).Err()
	} else {
		err = s.rdb.ZAdd(ctx, s.agendaKey(), redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
	}
	if err != nil {
		return fmt.Errorf("agenda of ticket %s: %w", id, err)
	}
	return nil
}

// Overdue returns up to max tickets due before the given time, earliest first.
func (s *Store) Overdue(ctx context.Context, before time.Time, max int) ([]string, error) {
	ids, err := s.rdb.ZRangeByScore(ctx, s.agendaKey(), &redis.ZRangeBy{
		Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: int64(max),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("read the agenda: %w", err)
	}
	return ids, nil
}
