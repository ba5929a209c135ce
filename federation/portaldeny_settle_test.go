package federation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jitaccess/jit/broker"
)

// The broker's cut of an assignment writes a provisional deny before the
// deletion and settles it after (broker cutAssignment): a portal session
// opened before the cut or while the deletion runs is refused from the
// provisional deny on and after the settle; the settle replaces the far
// bound with its own and keeps another user's deny in the account; a
// session of a later assignment, issued after the settled bound, works.
func TestCutPortalSettle(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetPropagationDelay(0)
	ic := e.ic()
	pd := e.portalDeny(ic)
	const acct = "222222222222"
	alice := e.assignment("alice@example.com", "ReadOnlyAccess", acct)
	bob := e.assignment("bob@example.com", "ReadOnlyAccess", acct)
	for _, a := range []broker.Assignment{alice, bob} {
		if err := ic.Assign(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	bobOld := e.portalS3(t, "bob", "ReadOnlyAccess", acct)
	e.clock.Advance(time.Second)
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: bob, Before: e.clock.Now(), Until: e.clock.Now().Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	before := e.portalS3(t, "alice", "ReadOnlyAccess", acct)
	start := e.clock.Now()
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: alice, Before: start.Add(12 * time.Hour), Until: start.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// The deletion runs; the assignment is still there and the portal
	// still hands out sessions, which the provisional deny refuses.
	e.clock.Advance(40 * time.Second)
	during := e.portalS3(t, "alice", "ReadOnlyAccess", acct)
	for name, c := range map[string]*s3.Client{"before the cut": before, "during the deletion": during} {
		if err := listBuckets(c); apiErrCode(err) != "AccessDenied" {
			t.Fatalf("session opened %s, under the provisional deny: %v, want AccessDenied", name, err)
		}
	}
	if err := ic.Unassign(ctx, alice); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(1400 * time.Millisecond)
	bound := e.clock.Now().Truncate(time.Second).Add(time.Second)
	settle := broker.PortalCut{Assignment: alice, Before: bound, Until: bound.Add(12 * time.Hour), Settle: true}
	if err := pd.CutPortal(ctx, settle); err != nil {
		t.Fatal(err)
	}
	if err := pd.CutPortal(ctx, settle); err != nil { // repeating is harmless
		t.Fatal(err)
	}
	for name, c := range map[string]*s3.Client{"opened before the cut": before, "opened during the deletion": during, "of bob, cut earlier": bobOld} {
		if err := listBuckets(c); apiErrCode(err) != "AccessDenied" {
			t.Errorf("session %s after the settle: %v, want AccessDenied", name, err)
		}
	}
	doc := e.inlinePolicy(t, "ReadOnlyAccess")
	if !strings.Contains(doc, `"aws:TokenIssueTime":"`+bound.UTC().Format(time.RFC3339)+`"`) ||
		strings.Contains(doc, start.Add(12*time.Hour).UTC().Format(time.RFC3339)) {
		t.Fatalf("policy %s: want alice's bound settled to %s and the provisional one gone", doc, bound.UTC().Format(time.RFC3339))
	}
	// A later ticket assigns alice again; its sessions are issued after the bound.
	if err := ic.Assign(ctx, alice); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := listBuckets(e.portalS3(t, "alice", "ReadOnlyAccess", acct)); err != nil {
		t.Errorf("session of a later assignment: %v", err)
	}
}
