package federation

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

// A storm of cuts at distinct seconds makes one entry each and would pass
// the inline policy's budget; compact merges each account's settled
// entries so the cut fits, and every user stays denied at least as far
// back and as long as before. A cut in progress (its provisional bound
// ahead of now) keeps its own entry.
func TestCompactKeepsEveryDeny(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	doc := &inlinePolicy{top: map[string]json.RawMessage{}, noChaining: true}
	type deny struct {
		account, user string
		before, until time.Time
	}
	var want []deny
	for i := range 60 {
		d := deny{account: []string{"111111111111", "222222222222"}[i%2], user: fmt.Sprintf("9067%06d-user", i),
			before: now.Add(-time.Duration(60-i) * time.Second), until: now.Add(time.Duration(12+i%3) * time.Hour).Truncate(time.Hour)}
		doc.deny(d.account, d.user, d.before, d.until)
		want = append(want, d)
	}
	provisional := deny{account: "222222222222", user: "9067-inflight", before: now.Add(12 * time.Hour), until: now.Add(24 * time.Hour).Truncate(time.Hour)}
	doc.deny(provisional.account, provisional.user, provisional.before, provisional.until)
	text, err := doc.marshal()
	if err != nil {
		t.Fatal(err)
	}
	if PolicyChars(text) <= MaxInlinePolicyChars {
		t.Fatalf("the storm fits (%d characters): the test needs more entries", PolicyChars(text))
	}
	if text, err = fitBudget(doc, MaxInlinePolicyChars, maxPermissionSetPolicyLen, now); err != nil {
		t.Fatal(err)
	}
	if n := PolicyChars(text); n > MaxInlinePolicyChars {
		t.Fatalf("compacted policy holds %d characters, over %d", n, MaxInlinePolicyChars)
	}
	covered := func(d deny) bool {
		return slices.ContainsFunc(doc.denies, func(e *portalDenyEntry) bool {
			return e.account == d.account && slices.Contains(e.users, d.user) && !e.before.Before(d.before) && !e.until.Before(d.until)
		})
	}
	for _, d := range want {
		if !covered(d) {
			t.Errorf("%s in %s no longer denied before %s until %s", d.user, d.account, d.before, d.until)
		}
	}
	if !slices.ContainsFunc(doc.denies, func(e *portalDenyEntry) bool {
		return slices.Equal(e.users, []string{provisional.user}) && e.before.Equal(provisional.before)
	}) {
		t.Errorf("the cut in progress lost its own entry: %+v", doc.denies)
	}
	if len(doc.denies) != 3 {
		t.Errorf("%d entries after compacting, want one per account and the provisional one", len(doc.denies))
	}
}
