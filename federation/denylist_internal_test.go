package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// PolicyChars counts as AWS does against the role inline policy budget:
// characters, not bytes, and whitespace nowhere, not even inside strings.
func TestPolicyCharsCountsAsAWS(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      int
	}{
		{"compact", `{"a":"b"}`, 9},
		{"whitespace between tokens", "{ \"a\" :\n\t\"b\" }\r\n", 9},
		{"whitespace inside strings", `{"a":"b c  d"}`, 11},
		{"non-ASCII is one character each", `{"a":"éé"}`, 10},
		{"other Unicode spaces", "{\"a\":\"b\u00a0\u2003c\"}", 10},
		{"not JSON at all", "a b", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PolicyChars(tc.doc); got != tc.want {
				t.Errorf("PolicyChars(%q) = %d, want %d", tc.doc, got, tc.want)
			}
		})
	}
}

// A bucket goes once its hour has begun (and the margin for clock skew
// has passed), not before; both lists use the same buckets and rule.
func TestBucketsPruneOnlyExpired(t *testing.T) {
	h := time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		until time.Time
		want  time.Time
	}{
		{h, h},
		{h.Add(time.Nanosecond), h.Add(time.Hour)},
		{h.Add(-30 * time.Minute), h},
	} {
		if got := denyBucket(tc.until); !got.Equal(tc.want) {
			t.Errorf("denyBucket(%s) = %s, want %s", tc.until, got, tc.want)
		}
	}
	role := func() *roleDenyList {
		return &roleDenyList{doc: &PolicyDocument{Version: "2012-10-17", Statement: []Statement{
			DenyStatement(sidPrefix+untilHour(h.Add(-time.Hour)), []string{"old"}),
			DenyStatement(sidPrefix+untilHour(h), []string{"due"}),
			UserDenyStatement(userSidPrefix+untilHour(h.Add(time.Hour))+"later", "later", []string{"dave@example.com"}),
			{Sid: "Admins", Effect: "Deny", Action: "s3:DeleteBucket", Resource: "*"},
		}}}
	}
	portal := func() *inlinePolicy {
		doc := &inlinePolicy{top: map[string]json.RawMessage{}}
		doc.deny("111111111111", "u-old", h.Add(-13*time.Hour), denyBucket(h.Add(-time.Hour)))
		doc.deny("111111111111", "u-due", h.Add(-12*time.Hour), denyBucket(h))
		doc.deny("111111111111", "u-later", h.Add(-11*time.Hour), denyBucket(h.Add(time.Hour)))
		return doc
	}
	m := pruneMargin
	for _, tc := range []struct {
		now    time.Time
		pruned int
	}{
		{h.Add(-time.Hour + m - time.Nanosecond), 0},
		{h.Add(-time.Hour + m), 1},
		{h.Add(m - time.Nanosecond), 1},
		{h.Add(m), 2},
		{h.Add(30 * time.Minute), 2},
		{h.Add(time.Hour + m), 3},
	} {
		r := role()
		if got := r.prune(tc.now); got != tc.pruned {
			t.Errorf("role list at %s: pruned %d, want %d", tc.now, got, tc.pruned)
		}
		if !slices.ContainsFunc(r.doc.Statement, func(st Statement) bool { return st.Sid == "Admins" }) {
			t.Errorf("role list at %s: a statement JIT did not write was pruned", tc.now)
		}
		if got := portal().prune(tc.now); got != tc.pruned {
			t.Errorf("portal deny at %s: pruned %d, want %d", tc.now, got, tc.pruned)
		}
	}
}

// Writers of the same list take turns; writers of another list do not
// wait for them.
func TestDenyListLockSerializes(t *testing.T) {
	var d denyList
	ctx := context.Background()
	var inside, overlaps atomic.Int32
	counter := 0
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			unlock, err := d.lock(ctx, nil, "role:111111111111/ReadOnlyAccess")
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			n := counter
			time.Sleep(time.Millisecond) // widen the window a lost update needs
			counter = n + 1
			inside.Add(-1)
		})
	}
	wg.Wait()
	if counter != 50 || overlaps.Load() != 0 {
		t.Fatalf("counter %d (want 50), %d overlapping writers (want 0)", counter, overlaps.Load())
	}
	unlock, _ := d.lock(ctx, nil, "a")
	defer unlock()
	unlockB, _ := d.lock(ctx, nil, "b") // would deadlock if keys shared a lock
	unlockB()
}

// Shrinking the role deny list first merges what it can without cutting
// anyone: each ticket's per-user statements into one, per-user statements
// covered by the ticket's own deny dropped, then every whole-ticket deny
// into one statement in the latest bucket. Every (ticket, user) denied
// before stays denied at least as long.
func TestRoleShrinkKeepsEveryDeny(t *testing.T) {
	h := time.Date(2026, 12, 4, 13, 0, 0, 0, time.UTC)
	doc := &PolicyDocument{Version: "2012-10-17"}
	for i := range 40 {
		addDeny(doc, fmt.Sprintf("t%015d", i), h.Add(time.Duration(i%12)*time.Hour))
	}
	addUserDeny(doc, "shared", "dave@example.com", h)
	addUserDeny(doc, "shared", "erin@example.com", h.Add(2*time.Hour))
	addUserDeny(doc, "t000000000000001", "alice@example.com", h) // covered by its ticket's deny
	l := &roleDenyList{doc: doc}
	before := denied(doc)
	for step := range 2 {
		if !l.shrink(step, h) {
			t.Fatalf("step %d missing", step)
		}
	}
	if n := len(doc.Statement); n != 2 {
		t.Errorf("%d statements after the harmless steps, want 2 (one for whole tickets, one for the shared ticket's users)", n)
	}
	after := denied(doc)
	for k, until := range before {
		got := after[k]
		if id, _, ok := strings.Cut(k, "/"); ok {
			got = max(got, after[id]) // the ticket's own deny holds its users too
		}
		if got < until {
			t.Errorf("%s denied until %q after shrinking, was %q", k, got, until)
		}
	}
	for _, st := range doc.Statement {
		if strings.HasPrefix(st.Sid, issuedBeforeSid) {
			t.Errorf("a harmless step wrote %s", st.Sid)
		}
	}
}

// denied maps "ticket" and "ticket/user" to the bucket until which the
// role list denies them.
func denied(doc *PolicyDocument) map[string]string {
	out := map[string]string{}
	for _, st := range doc.Statement {
		hour, _ := sidHour(st.Sid)
		for _, id := range denyTickets(st) {
			if strings.HasPrefix(st.Sid, userSidPrefix) {
				for _, u := range conditionValues(st, "aws:SourceIdentity") {
					out[id+"/"+u] = max(out[id+"/"+u], hour)
				}
				continue
			}
			out[id] = max(out[id], hour)
		}
	}
	return out
}

// A storm of portal cuts, one a minute for an hour in one account,
// passes the budget; the cuts are merged only as coarsely as needed (ten
// minutes here), so a user cut long ago keeps a bound near their own and
// a session a later ticket gave them is not cut: before, every settled
// entry of the account took the latest bound.
func TestPortalShrinkFinestFit(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	doc := &inlinePolicy{top: map[string]json.RawMessage{}, noChaining: true}
	own := map[string]time.Time{}
	for i := range 60 {
		u := fmt.Sprintf("9067%06d-user", i)
		before := now.Add(-time.Duration(60-i) * time.Minute).Add(17 * time.Second)
		doc.deny("111111111111", u, before, denyBucket(before.Add(12*time.Hour)))
		own[u] = before
	}
	if text, _ := doc.marshal(); PolicyChars(text) <= MaxInlinePolicyChars {
		t.Fatalf("the storm fits (%d characters): the test needs more entries", PolicyChars(text))
	}
	text, err := fitBudget(doc, MaxInlinePolicyChars, maxPermissionSetPolicyLen, now)
	if err != nil {
		t.Fatal(err)
	}
	if n := PolicyChars(text); n > MaxInlinePolicyChars {
		t.Fatalf("%d characters after shrinking", n)
	}
	if !doc.noChaining {
		t.Error("the chaining deny was dropped although merging made room")
	}
	for u, b := range own {
		i := slices.IndexFunc(doc.denies, func(e *portalDenyEntry) bool { return slices.Contains(e.users, u) })
		if i < 0 {
			t.Errorf("%s no longer denied", u)
			continue
		}
		got := doc.denies[i].before
		if got.Before(b) {
			t.Errorf("%s denied before %s, want at least %s", u, got, b)
		}
		if got.Sub(b) >= 10*time.Minute {
			t.Errorf("%s's bound moved from %s to %s: a session of a later ticket would be cut", u, b, got)
		}
	}
}
