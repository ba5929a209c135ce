package redisstore

import (
	"context"
	"testing"
	"time"

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
