package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// delegationKeep is how long a delegation is kept after its end, for the
// record.
const delegationKeep = 90 * 24 * time.Hour

// casAttempts bounds the optimistic transactions on delegations.
const casAttempts = 50

var _ broker.DelegationStore = (*Store)(nil)

// delegationBase is "<prefix>:{delegations}:": every delegation key shares
// one hash tag, so a transaction over them works on Redis Cluster.
func (s *Store) delegationBase() string {
	return strings.TrimSuffix(s.base, "{tickets}:") + "{delegations}:"
}

func (s *Store) delegationKey(id string) string      { return s.delegationBase() + "d:" + id }
func (s *Store) delegationsFrom(email string) string { return s.delegationBase() + "from:" + email }
func (s *Store) delegationsTo(email string) string   { return s.delegationBase() + "to:" + email }

// delegationVersion changes with every write, so a transaction that read
// delegations can tell they changed under it.
func (s *Store) delegationVersion() string { return s.delegationBase() + "version" }

// CreateDelegation stores d if check accepts the delegations from or to
// d.From and d.To, in one optimistic transaction: a concurrent write
// makes it read and check again.
func (s *Store) CreateDelegation(ctx context.Context, d *broker.Delegation, check func([]broker.Delegation) error) error {
	if d == nil || d.ID == "" || d.From == "" || d.To == "" {
		return broker.Errorf(broker.EINVALID, "delegation id, from and to are required")
	}
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delegation: %w", err)
	}
	ttl := max(time.Until(d.End.Add(delegationKeep)), time.Minute)
	var checkErr error
	for range casAttempts {
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			ids, err := s.delegationIDs(ctx, tx, broker.DelegationFilter{From: d.From, To: d.From})
			if err != nil {
				return err
			}
			more, err := s.delegationIDs(ctx, tx, broker.DelegationFilter{From: d.To, To: d.To})
			if err != nil {
				return err
			}
			existing, err := s.loadDelegations(ctx, tx, append(ids, more...))
			if err != nil {
				return err
			}
			if checkErr = check(existing); checkErr != nil {
				return checkErr
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SetNX(ctx, s.delegationKey(d.ID), data, ttl)
				p.SAdd(ctx, s.delegationsFrom(d.From), d.ID)
				p.SAdd(ctx, s.delegationsTo(d.To), d.ID)
				p.Incr(ctx, s.delegationVersion())
				return nil
			})
			return err
		}, s.delegationVersion())
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue
		case checkErr != nil:
			return checkErr
		case err != nil:
			return fmt.Errorf("create delegation: %w", err)
		}
		return nil
	}
	return broker.Errorf(broker.ECONFLICT, "delegations are changing too often; try again")
}

// Delegations returns the delegations from f.From or to f.To (all of them
// when both are empty), ordered by start.
func (s *Store) Delegations(ctx context.Context, f broker.DelegationFilter) ([]broker.Delegation, error) {
	var ids []string
	var err error
	if f.From == "" && f.To == "" {
		ids, err = s.allDelegationIDs(ctx)
	} else {
		ids, err = s.delegationIDs(ctx, s.rdb, f)
	}
	if err != nil {
		return nil, err
	}
	return s.loadDelegations(ctx, s.rdb, ids)
}

// Delegation returns one delegation. ENOTFOUND if there is none.
func (s *Store) Delegation(ctx context.Context, id string) (broker.Delegation, error) {
	ds, err := s.loadDelegations(ctx, s.rdb, []string{id})
	if err != nil {
		return broker.Delegation{}, err
	}
	if len(ds) == 0 {
		return broker.Delegation{}, broker.Errorf(broker.ENOTFOUND, "delegation %s not found", id)
	}
	return ds[0], nil
}

// DeleteDelegation removes a delegation. ENOTFOUND if there is none.
func (s *Store) DeleteDelegation(ctx context.Context, id string) error {
	d, err := s.Delegation(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.delegationKey(id))
		p.SRem(ctx, s.delegationsFrom(d.From), id)
		p.SRem(ctx, s.delegationsTo(d.To), id)
		p.Incr(ctx, s.delegationVersion())
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete delegation %s: %w", id, err)
	}
	return nil
}

// delegationIDs returns the ids in the from and to sets f names.
func (s *Store) delegationIDs(ctx context.Context, c redis.Cmdable, f broker.DelegationFilter) ([]string, error) {
	var keys []string
	if f.From != "" {
		keys = append(keys, s.delegationsFrom(f.From))
	}
	if f.To != "" {
		keys = append(keys, s.delegationsTo(f.To))
	}
	var ids []string
	for _, k := range keys {
		got, err := c.SMembers(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("list delegations: %w", err)
		}
		ids = append(ids, got...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// allDelegationIDs scans every delegation key.
func (s *Store) allDelegationIDs(ctx context.Context) ([]string, error) {
	var ids []string
	prefix := s.delegationKey("")
	iter := s.rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		ids = append(ids, strings.TrimPrefix(iter.Val(), prefix))
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("list delegations: %w", err)
	}
	return ids, nil
}

// loadDelegations reads delegations by id, skipping those that are gone.
func (s *Store) loadDelegations(ctx context.Context, c redis.Cmdable, ids []string) ([]broker.Delegation, error) {
	return loadByID(ctx, c, ids, s.delegationKey, "delegation", func(d broker.Delegation) (time.Time, string) { return d.Start, d.ID })
}

// loadByID reads JSON records by id (key names each one's key), skipping
// those that are gone, in order of start then id.
func loadByID[T any](ctx context.Context, c redis.Cmdable, ids []string, key func(string) string, what string, order func(T) (time.Time, string)) ([]T, error) {
	out := []T{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	vals, err := c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("read %ss: %w", what, err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var x T
		if err := json.Unmarshal([]byte(str), &x); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", what, ids[i], err)
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b T) int {
		as, aid := order(a)
		bs, bid := order(b)
		if c := as.Compare(bs); c != 0 {
			return c
		}
		return strings.Compare(aid, bid)
	})
	return out, nil
}
