package federation_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
)

// A storm of revocations spread over twelve hours no longer fits the
// role's budget one statement per hour, but fits once the buckets are
// merged: the list is merged, and another ticket's open session on the
// role keeps working (before, the whole list became "deny every session
// issued before now", cutting it).
func TestDenyOverflowKeepsOtherSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(time.Hour)
	mint := func(id string) broker.Credentials {
		t.Helper()
		c, err := e.minter().Mint(ctx, mintReq(id, end))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	kept, first := mint("keptkeptkeptkept"), mint("t000000000000000")
	rev := e.revoker()
	buckets := map[string][]string{} // the list one statement an hour would hold
	for i := range 470 {
		id := fmt.Sprintf("t%015d", i) // as long as broker.NewTicketID's
		until := end.Add(time.Duration(i%12) * time.Hour)
		if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: id, AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: until}); err != nil {
			t.Fatalf("revoke %d: %v", i, err)
		}
		if n := federation.PolicyChars(e.denyEntry(t)); n > federation.RoleInlineBudget {
			t.Fatalf("deny list is %d characters after %d tickets", n, i+1)
		}
		h := until.UTC().Format("2006010215")
		buckets[h] = append(buckets[h], id)
	}
	unmerged := federation.PolicyDocument{Version: "2012-10-17"}
	for h, ids := range buckets {
		unmerged.Statement = append(unmerged.Statement, federation.DenyStatement("JitRevokedUntil"+h, ids))
	}
	if b, _ := json.Marshal(unmerged); federation.PolicyChars(string(b)) <= federation.RoleInlineBudget {
		t.Fatalf("one statement an hour fits (%d characters): the test needs more tickets", federation.PolicyChars(string(b)))
	}
	doc := e.denyEntry(t)
	if strings.Contains(doc, "JitIssuedBefore") {
		t.Fatalf("the list fell back to denying every older session although merging fits:\n%.300s...", doc)
	}
	if _, err := e.s3For(first).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Errorf("a revoked session after merging: got %v, want AccessDenied", err)
	}
	if _, err := e.s3For(kept).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("another ticket's session was cut by the overflow: %v", err)
	}
}

// The role's other inline policies are counted as AWS counts them
// (characters, whitespace not counted), not in bytes: accented letters
// take two bytes each, and counting bytes made the list overflow and cut
// another ticket's session although everything fits.
func TestDenyBudgetCountsCharacters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(time.Hour)
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"` + strings.Repeat("é", 6000) + ` équipe  de  nuit"}}}]}`
	if _, err := e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("team"), PolicyDocument: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	kept, err := e.minter().Mint(ctx, mintReq("keptkeptkeptkept", end))
	if err != nil {
		t.Fatal(err)
	}
	rev := e.revoker()
	for i := range 100 {
		if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: fmt.Sprintf("t%015d", i), AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: end}); err != nil {
			t.Fatalf("revoke %d: %v", i, err)
		}
	}
	doc := e.denyEntry(t)
	if n := federation.PolicyChars(doc) + federation.PolicyChars(other); n > federation.RoleInlineBudget {
		t.Fatalf("the role's inline policies hold %d characters", n)
	}
	if strings.Contains(doc, "JitIssuedBefore") || strings.Count(doc, `"t0000`) != 100 {
		t.Fatalf("deny list compacted although it fits:\n%.300s...", doc)
	}
	if _, err := e.s3For(kept).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("another ticket's session was cut: %v", err)
	}
}

// Concurrent revocations of one role's tickets take turns: none is lost
// (IAM has no compare-and-set; without the lock two writers read the same
// list and the later write drops the other's ticket).
func TestConcurrentRevokesSerialize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rev := e.revoker()
	until := e.clock.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: fmt.Sprintf("c%015d", i), AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: until})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	doc := e.denyEntry(t)
	for i := range 16 {
		if id := fmt.Sprintf(`"c%015d"`, i); !strings.Contains(doc, id) {
			t.Errorf("ticket %s lost from the deny list", id)
		}
	}
}

// The permission set's budget is counted as AWS counts it: an
// administrator's policy whose compact JSON is over 10,240 bytes (spaces
// and accented letters in its strings) but under 10,240 characters
// without whitespace leaves room for a cut.
func TestCutPortalBudgetCountsCharacters(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"` + strings.Repeat("é ", 4000) + `"}}}]}`
	if n := federation.PolicyChars(doc); n > federation.MaxInlinePolicyChars-1000 || len(doc) <= federation.MaxInlinePolicyChars {
		t.Fatalf("fixture: %d characters, %d bytes", n, len(doc))
	}
	e.putInlinePolicy(t, "ReadOnlyAccess", doc)
	pd := e.portalDeny(e.ic())
	err := pd.CutPortal(ctx, broker.PortalCut{Assignment: e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111"),
		Before: e.clock.Now(), Until: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("cut: %v", err)
	}
	if sids := jitSids(mustSids(t, e.inlinePolicy(t, "ReadOnlyAccess"))); len(sids) != 1 {
		t.Errorf("JIT statements %v, want the cut", sids)
	}
}

func mustSids(t *testing.T, doc string) []string {
	t.Helper()
	sids, _ := statements(t, doc)
	return sids
}

// When the role's other inline policies leave no room even for the last
// shrink step, the revocation is refused too_large, naming the budget,
// and nothing is written (as for a permission set).
func TestDenyNoRoomTooLarge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// The largest policy the role takes, in steps of 50 characters: less
	// room is left than any deny statement needs.
	for n := 10000; ; n -= 50 {
		other := `{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"` + strings.Repeat("x", n) + `"}}}]}`
		_, err := e.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("team"), PolicyDocument: aws.String(other)})
		if err == nil {
			break
		} else if code(err) != "LimitExceeded" || n < 9000 {
			t.Fatal(err)
		}
	}
	err := e.revoker().Revoke(ctx, broker.RevokeRequest{TicketID: "t000000000000000", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: e.clock.Now().Add(time.Hour)})
	if broker.ErrorCode(err) != broker.ETOOLARGE || !strings.Contains(broker.ErrorMessage(err), "10240") {
		t.Fatalf("got %v, want too_large naming the budget", err)
	}
	_, err = e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	if code(err) != "NoSuchEntity" {
		t.Errorf("deny list after a refused revocation: %v, want none", err)
	}
}

// The permission set API's own length limit (32,768 characters,
// whitespace counted) is checked too: an administrator's policy with long
// runs of spaces in a string is far under the 10,240 budget but leaves no
// length for a cut, which is refused too_large saying so, changing
// nothing (instead of a ValidationException from Identity Center).
func TestCutPortalLengthLimit(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Team","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*",` +
		`"Condition":{"StringEquals":{"aws:PrincipalTag/team":"a` + strings.Repeat(" ", 32400) + `b"}}}]}`
	e.putInlinePolicy(t, "ReadOnlyAccess", doc)
	err := e.portalDeny(e.ic()).CutPortal(ctx, broker.PortalCut{Assignment: e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111"),
		Before: e.clock.Now(), Until: e.clock.Now().Add(time.Hour)})
	if broker.ErrorCode(err) != broker.ETOOLARGE || !strings.Contains(broker.ErrorMessage(err), "32768") {
		t.Fatalf("got %v, want too_large naming the length limit", err)
	}
	if got := e.inlinePolicy(t, "ReadOnlyAccess"); got != doc {
		t.Error("the inline policy changed")
	}
}
