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

// preApprovalKeep is how long a pre-approval is kept after its end, for
// the record: tickets name the pre-approval that approved them.
const preApprovalKeep = 90 * 24 * time.Hour

var _ broker.PreApprovalStore = (*Store)(nil)

// preApprovalBase is "<prefix>:{preapprovals}:": one hash tag for every
// pre-approval key.
func (s *Store) preApprovalBase() string {
	return strings.TrimSuffix(s.base, "{tickets}:") + "{preapprovals}:"
}

func (s *Store) preApprovalKey(id string) string     { return s.preApprovalBase() + "p:" + id }
func (s *Store) preApprovalsBy(email string) string  { return s.preApprovalBase() + "by:" + email }
func (s *Store) preApprovalsFor(email string) string { return s.preApprovalBase() + "for:" + email }

// preApprovalsAll is the index of every pre-approval: a sorted set of
// ids scored by the time (Unix seconds) their record expires, so that the
// expired ones are cut from it by score. Pre-approvals stored before it
// existed are not in it.
func (s *Store) preApprovalsAll() string { return s.preApprovalBase() + "all" }

// preApprovalTTL is how long p's keys live: until preApprovalKeep after
// its end.
func preApprovalTTL(p broker.PreApproval) time.Duration {
	return max(time.Until(p.End.Add(preApprovalKeep)), time.Minute)
}

// CreatePreApproval stores p, indexed by its author and its subject, and
// in the index of all (preApprovalsAll); every key expires preApprovalKeep
// after p's end. The index sets' expiry moves to the latest of their
// members'; ids whose record is gone are skipped when read, and cut from
// the index of all here.
func (s *Store) CreatePreApproval(ctx context.Context, p broker.PreApproval) error {
	if p.ID == "" || p.By == "" || p.For == "" {
		return broker.Errorf(broker.EINVALID, "pre-approval id, by and for are required")
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode pre-approval: %w", err)
	}
	ttl := preApprovalTTL(p)
	_, err = s.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.SetNX(ctx, s.preApprovalKey(p.ID), data, ttl)
		for _, k := range []string{s.preApprovalsBy(p.By), s.preApprovalsFor(p.For)} {
			tx.SAdd(ctx, k, p.ID)
		}
		now := time.Now()
		tx.ZAdd(ctx, s.preApprovalsAll(), redis.Z{Score: float64(now.Add(ttl).Unix()), Member: p.ID})
		tx.ZRemRangeByScore(ctx, s.preApprovalsAll(), "-inf", fmt.Sprint(now.Unix()))
		for _, k := range []string{s.preApprovalsBy(p.By), s.preApprovalsFor(p.For), s.preApprovalsAll()} {
			tx.ExpireGT(ctx, k, ttl)
			tx.ExpireNX(ctx, k, ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create pre-approval: %w", err)
	}
	return nil
}

// PreApprovals returns those by f.By or for f.For, or with f.All those in
// the index of all whose record has not expired, by start.
func (s *Store) PreApprovals(ctx context.Context, f broker.PreApprovalFilter) ([]broker.PreApproval, error) {
	if f.All {
		ids, err := s.rdb.ZRangeByScore(ctx, s.preApprovalsAll(), &redis.ZRangeBy{Min: fmt.Sprint(time.Now().Unix()), Max: "+inf"}).Result()
		if err != nil {
			return nil, fmt.Errorf("list pre-approvals: %w", err)
		}
		slices.Sort(ids)
		return s.loadPreApprovals(ctx, s.rdb, ids)
	}
	var keys []string
	if f.By != "" {
		keys = append(keys, s.preApprovalsBy(f.By))
	}
	if f.For != "" {
		keys = append(keys, s.preApprovalsFor(f.For))
	}
	var ids []string
	for _, k := range keys {
		got, err := s.rdb.SMembers(ctx, k).Result()
		if err != nil {
			return nil, fmt.Errorf("list pre-approvals: %w", err)
		}
		ids = append(ids, got...)
	}
	slices.Sort(ids)
	return s.loadPreApprovals(ctx, s.rdb, slices.Compact(ids))
}

// PreApproval returns one. ENOTFOUND if there is none.
func (s *Store) PreApproval(ctx context.Context, id string) (broker.PreApproval, error) {
	ps, err := s.loadPreApprovals(ctx, s.rdb, []string{id})
	if err != nil {
		return broker.PreApproval{}, err
	}
	if len(ps) == 0 {
		return broker.PreApproval{}, broker.Errorf(broker.ENOTFOUND, "pre-approval %s not found", id)
	}
	return ps[0], nil
}

// RevokePreApproval marks one revoked in an optimistic transaction,
// keeping its expiry.
func (s *Store) RevokePreApproval(ctx context.Context, id, by string, at time.Time) (broker.PreApproval, error) {
	key := s.preApprovalKey(id)
	var out broker.PreApproval
	for range casAttempts {
		var stop error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			ps, err := s.loadPreApprovals(ctx, tx, []string{id})
			if err != nil {
				return err
			}
			if len(ps) == 0 {
				stop = broker.Errorf(broker.ENOTFOUND, "pre-approval %s not found", id)
				return stop
			}
			p := ps[0]
			if p.RevokedAt != nil {
				stop = broker.Errorf(broker.ECONFLICT, "pre-approval %s was revoked by %s at %s", id, p.RevokedBy, p.RevokedAt.Format(time.RFC3339))
				return stop
			}
			at := at.UTC()
			p.RevokedAt, p.RevokedBy = &at, by
			data, err := json.Marshal(p)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.SetArgs(ctx, key, data, redis.SetArgs{KeepTTL: true, Mode: "XX"})
				return nil
			})
			out = p
			return err
		}, key)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue
		case stop != nil:
			return broker.PreApproval{}, stop
		case err != nil:
			return broker.PreApproval{}, fmt.Errorf("revoke pre-approval %s: %w", id, err)
		}
		return out, nil
	}
	return broker.PreApproval{}, broker.Errorf(broker.ECONFLICT, "pre-approval %s is changing too often; try again", id)
}

// loadPreApprovals reads pre-approvals by id, skipping those that are gone.
func (s *Store) loadPreApprovals(ctx context.Context, c redis.Cmdable, ids []string) ([]broker.PreApproval, error) {
	return loadByID(ctx, c, ids, s.preApprovalKey, "pre-approval", func(p broker.PreApproval) (time.Time, string) { return p.Start, p.ID })
}
