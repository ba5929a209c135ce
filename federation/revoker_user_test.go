package federation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/internal/fake"
)

// A per-beneficiary cut refuses that beneficiary's sessions of the ticket
// only: another beneficiary of the same ticket, and the same user on
// another ticket, keep working; a second cut of another user of the
// ticket joins the same statement.
func TestRevokeOneBeneficiary(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(time.Hour)
	mint := func(ticket, user string) broker.Credentials {
		t.Helper()
		r := mintReq(ticket, end)
		r.Beneficiary = user
		c, err := e.minter().Mint(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	alice, dave, daveOther, erin := mint("shared", "alice@example.com"), mint("shared", "dave@example.com"),
		mint("other", "dave@example.com"), mint("shared", "erin@example.com")
	rev := e.revoker()
	cut := func(user string) {
		t.Helper()
		if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "shared", AccountID: "111111111111", RoleName: "ReadOnlyAccess", User: user, Until: end}); err != nil {
			t.Fatal(err)
		}
	}
	cut("dave@example.com")
	cut("dave@example.com") // repeating is harmless
	works := func(name string, c broker.Credentials, want bool) {
		t.Helper()
		_, err := e.s3For(c).ListBuckets(ctx, &s3.ListBucketsInput{})
		if got := err == nil; got != want {
			t.Errorf("%s: works=%v (err %v), want %v", name, got, err, want)
		} else if !want && code(err) != "AccessDenied" {
			t.Errorf("%s: got %v, want AccessDenied", name, err)
		}
	}
	works("dave on the shared ticket", dave, false)
	works("alice on the shared ticket", alice, true)
	works("dave on another ticket", daveOther, true)
	works("erin on the shared ticket", erin, true)

	cut("erin@example.com")
	works("erin after her cut", erin, false)
	works("alice after erin's cut", alice, true)
	doc := e.denyEntry(t)
	if n := strings.Count(doc, "JitRevokedUsersUntil"); n != 1 {
		t.Errorf("deny entry has %d per-user statements, want 1 for the ticket:\n%s", n, doc)
	}

	// The whole ticket's cut still reaches everyone.
	if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "shared", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: end}); err != nil {
		t.Fatal(err)
	}
	works("alice after the ticket's cut", alice, false)

	// Pruned after its hour, like the ticket's entries.
	rev.Clock = fake.NewClock(e.clock.Now().Add(3 * time.Hour))
	if _, err := rev.PruneRole(ctx, "111111111111", "ReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	_, err := e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	if code(err) != "NoSuchEntity" {
		t.Errorf("deny entry after its hour: %v, want it gone", err)
	}
}
