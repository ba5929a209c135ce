package redisstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

func TestPreApprovals_createListRevoke(t *testing.T) {
	s, rdb, _ := newStore(t)
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)
	p := broker.PreApproval{ID: "p1", By: "bob@x.com", For: "alice@x.com", AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Start: start, End: start.Add(7 * 24 * time.Hour), Reason: "on duty", CreatedAt: start}
	if err := s.CreatePreApproval(ctx, p); err != nil {
		t.Fatal(err)
	}
	for _, f := range []broker.PreApprovalFilter{{By: "bob@x.com"}, {For: "alice@x.com"}, {By: "alice@x.com", For: "alice@x.com"}} {
		ps, err := s.PreApprovals(ctx, f)
		if err != nil || len(ps) != 1 || ps[0].ID != "p1" || ps[0].Reason != "on duty" {
			t.Fatalf("PreApprovals(%+v) = %v, %v; want p1", f, ps, err)
		}
	}
	for _, f := range []broker.PreApprovalFilter{{For: "bob@x.com"}, {By: "alice@x.com"}, {}} {
		if ps, err := s.PreApprovals(ctx, f); err != nil || len(ps) != 0 {
			t.Fatalf("PreApprovals(%+v) = %v, %v; want none", f, ps, err)
		}
	}
	ttl := rdb.TTL(ctx, s.preApprovalKey("p1")).Val()
	if want := 7*24*time.Hour + preApprovalKeep; ttl < want-time.Minute || ttl > want {
		t.Fatalf("ttl %s, want about %s", ttl, want)
	}
	at := start.Add(time.Hour)
	got, err := s.RevokePreApproval(ctx, "p1", "carol@x.com", at)
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.RevokedBy != "carol@x.com" {
		t.Fatalf("revoke: %+v, %v", got, err)
	}
	if stored, err := s.PreApproval(ctx, "p1"); err != nil || stored.RevokedBy != "carol@x.com" {
		t.Fatalf("stored after revoke: %+v, %v", stored, err)
	}
	if ttl2 := rdb.TTL(ctx, s.preApprovalKey("p1")).Val(); ttl2 < ttl-time.Minute {
		t.Fatalf("revoke changed the expiry: %s, was %s", ttl2, ttl)
	}
	if _, err := s.RevokePreApproval(ctx, "p1", "bob@x.com", at); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("revoke twice: %v, want conflict", err)
	}
	if _, err := s.RevokePreApproval(ctx, "nope", "bob@x.com", at); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("revoke unknown: %v, want not found", err)
	}
	if _, err := s.PreApproval(ctx, "nope"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("unknown: %v, want not found", err)
	}
}

// The index of all pre-approvals lists everyone's, is cut of expired ids
// when one is stored, skips ids whose record is gone, and expires with
// its latest member.
func TestPreApprovals_all(t *testing.T) {
	s, rdb, _ := newStore(t)
	ctx := context.Background()
	start := time.Now().UTC().Truncate(time.Second)
	mk := func(id, by, who string, days int) broker.PreApproval {
		return broker.PreApproval{ID: id, By: by, For: who, AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
			Start: start, End: start.Add(time.Duration(days) * 24 * time.Hour), Reason: "r", CreatedAt: start}
	}
	if ps, err := s.PreApprovals(ctx, broker.PreApprovalFilter{All: true}); err != nil || len(ps) != 0 {
		t.Fatalf("all, empty store: %v %v", ps, err)
	}
	for _, p := range []broker.PreApproval{mk("p1", "bob@x.com", "alice@x.com", 7), mk("p2", "dave@x.com", "erin@x.com", 1)} {
		if err := s.CreatePreApproval(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// An id whose record expired long ago (score in the past): cut by the next store.
	rdb.ZAdd(ctx, s.preApprovalsAll(), redis.Z{Score: float64(time.Now().Add(-time.Hour).Unix()), Member: "old"})
	// An id whose record is gone though its score says otherwise: skipped.
	rdb.ZAdd(ctx, s.preApprovalsAll(), redis.Z{Score: float64(time.Now().Add(time.Hour).Unix()), Member: "gone"})
	ps, err := s.PreApprovals(ctx, broker.PreApprovalFilter{All: true, By: "nobody@x.com"})
	if err != nil || len(ps) != 2 || ps[0].ID != "p1" || ps[1].ID != "p2" {
		t.Fatalf("all: %+v %v, want p1 and p2", ps, err)
	}
	if err := s.CreatePreApproval(ctx, mk("p3", "bob@x.com", "frank@x.com", 2)); err != nil {
		t.Fatal(err)
	}
	if got := rdb.ZRange(ctx, s.preApprovalsAll(), 0, -1).Val(); len(got) != 4 || slices.Contains(got, "old") {
		t.Fatalf("index after a store: %v, want p1 p2 p3 gone, without old", got)
	}
	ttl := rdb.TTL(ctx, s.preApprovalsAll()).Val()
	if want := 7*24*time.Hour + preApprovalKeep; ttl < want-time.Minute || ttl > want {
		t.Fatalf("index ttl %s, want about %s (its latest member's)", ttl, want)
	}
}
