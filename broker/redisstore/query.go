package redisstore

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// Tickets returns the tickets matching f, newest first (oldest first with
// f.Asc), ties broken by id, starting past f.After when it is set: at most
// f.Limit, or at most 1000 when f.Limit is 0 (or more than 1000). It reads
// the most selective index among the fields set in f (beneficiary,
// requester, state, else all tickets) and checks every field
// of f on the tickets themselves. Index entries whose ticket has vanished
// are skipped. f.All lifts the cap.
func (s *Store) Tickets(ctx context.Context, f broker.TicketFilter) ([]*broker.Ticket, error) {
	limit := f.Limit
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	if f.All {
		limit = math.MaxInt
	}
	key, exact := s.pickIndex(f)
	// An exact index needs only as many entries as the limit (plus any whose
	// ticket vanished); otherwise read pages and filter in Go.
	page := min(limit, maxLimit)
	if !exact {
		page = s.pageSize
	}
	// Members of one score are ordered by id, in the read's direction.
	from, to := "+inf", "-inf"
	if f.Asc {
		from, to = to, from
	}
	passed := func(redis.Z) bool { return false }
	if f.After != nil {
		from = strconv.FormatInt(f.After.Micros, 10)
		passed = func(z redis.Z) bool {
			id, _ := z.Member.(string)
			return int64(z.Score) == f.After.Micros && (id == f.After.ID || (id < f.After.ID) == f.Asc)
		}
	}

	out := make([]*broker.Ticket, 0, min(limit, 64))
	seen := make(map[string]bool)
	// Page by score rather than by rank, so tickets created or deleted
	// meanwhile do not shift the window: each page starts at the last
	// score of the previous one, skipping the members already read there.
	offset := int64(0)
	for len(out) < limit {
		zs, err := s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{
			Key: key, Start: from, Stop: to, ByScore: true, Rev: !f.Asc,
			Offset: offset, Count: int64(page),
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("read index %s: %w", key, err)
		}
		if len(zs) == 0 {
			break
		}
		ids := make([]string, 0, len(zs))
		for _, z := range zs {
			if id, ok := z.Member.(string); ok && !seen[id] && !passed(z) {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		ts, err := s.load(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if matches(t, f) && len(out) < limit {
				out = append(out, t)
			}
		}
		if len(zs) < page {
			break
		}
		last := zs[len(zs)-1].Score
		if lastStr := strconv.FormatFloat(last, 'f', -1, 64); lastStr == from {
			offset += int64(len(zs))
		} else {
			from, offset = lastStr, 0
			for _, z := range zs {
				if z.Score == last {
					offset++
				}
			}
		}
	}
	return out, nil
}

// pickIndex returns the index to read for f, and whether that index alone
// decides the match (no other field of f is set).
func (s *Store) pickIndex(f broker.TicketFilter) (key string, exact bool) {
	set := 0
	for _, v := range []string{string(f.State), f.Requester, f.Beneficiary} {
		if v != "" {
			set++
		}
	}
	switch {
	case f.Beneficiary != "":
		return s.beneficiaryKey(f.Beneficiary), set == 1
	case f.Requester != "":
		return s.requesterKey(f.Requester), set == 1
	case f.State != "":
		return s.stateKey(f.State), true
	}
	return s.allKey(), true
}

// load fetches the tickets with the given ids in order, skipping the ones
// that no longer exist.
func (s *Store) load(ctx context.Context, ids []string) ([]*broker.Ticket, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.ticketKey(id)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("get tickets: %w", err)
	}
	ts := make([]*broker.Ticket, 0, len(vals))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // deleted since the index was read
		}
		t, err := decode(ids[i], []byte(raw))
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, nil
}
