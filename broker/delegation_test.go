package broker_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

func newDelService(t *testing.T) (*broker.Service, *fake.Store) {
	t.Helper()
	store := fake.NewStore()
	never := actNever{}
	n := 0
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: actStore(), Scheduler: never, Approvals: actEngine(t), Minter: never, Revoker: never,
		Registry:    actRegistry{},
		Authorizer:  actAuthz{admins: []string{"carol@example.com"}},
		Clock:       fake.NewClock(actNow),
		Delegations: store,
		NewID:       func() string { n++; return fmt.Sprintf("d%d", n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

// The ticket "role" is approved by bob (and group:Security); its requester
// is alice. These tests read it as a delegate to see which delegations
// count at the moment of the decision.
func TestDelegationRules(t *testing.T) {
	svc, _ := newDelService(t)
	delegate := func(from, to string, d time.Duration) (*broker.Delegation, error) {
		return svc.Delegate(actAs(from), broker.DelegateInput{To: to, End: actNow.Add(d)})
	}
	must := func(from, to string, d time.Duration) string {
		t.Helper()
		del, err := delegate(from, to, d)
		if err != nil {
			t.Fatalf("%s delegates to %s: %v", from, to, err)
		}
		return del.ID
	}
	sees := func(who string) bool {
		t.Helper()
		_, err := svc.Ticket(actAs(who), "role")
		if err != nil && broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Fatal(err)
		}
		return err == nil
	}

	bobToDave := must("bob@example.com", "dave@example.com", 24*time.Hour)
	if !sees("dave@example.com") {
		t.Fatal("dave, bob's delegate, does not see bob's ticket")
	}
	// dave, bob's delegate, delegates his own approvals: allowed.
	daveToFrank := must("dave@example.com", "frank@example.com", time.Hour)
	if sees("frank@example.com") {
		t.Error("frank sees bob's ticket through dave: delegations do not pass on")
	}
	// frank closes a cycle back to bob: bob -> dave -> frank -> bob.
	frankToBob := must("frank@example.com", "bob@example.com", time.Hour)
	if sees("dave@example.com") {
		t.Error("dave acts for bob through a cycle of three")
	}
	if err := svc.DeleteDelegation(actAs("frank@example.com"), frankToBob); err != nil {
		t.Fatal(err)
	}
	if !sees("dave@example.com") {
		t.Error("dave does not act for bob once the cycle is broken")
	}
	// A direct cycle.
	daveToBob := must("dave@example.com", "bob@example.com", time.Hour)
	if sees("dave@example.com") {
		t.Error("dave acts for bob while bob acts for dave")
	}
	if err := svc.DeleteDelegation(actAs("bob@example.com"), daveToBob); err != nil {
		t.Fatalf("bob declines dave's delegation: %v", err)
	}
	if !sees("dave@example.com") {
		t.Error("dave does not act for bob after bob declined dave's delegation")
	}

	// Deleting: delegator, delegate, admin; nobody else, and they learn nothing.
	if err := svc.DeleteDelegation(actAs("erin@example.com"), bobToDave); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("a stranger deletes: %v, want not_found", err)
	}
	if err := svc.DeleteDelegation(actAs("dave@example.com"), bobToDave); err != nil {
		t.Errorf("the delegate declines: %v", err)
	}
	if sees("dave@example.com") {
		t.Error("dave still acts for bob after declining")
	}
	if err := svc.DeleteDelegation(actAs("carol@example.com"), daveToFrank); err != nil {
		t.Errorf("an admin deletes: %v", err)
	}

	// Errors speak only of the caller's own delegations.
	must("bob@example.com", "dave@example.com", 366*24*time.Hour-time.Minute)
	for _, c := range []struct {
		from, to string
		code     string
	}{
		{"erin@example.com", "bob@example.com", ""},               // bob has delegated away
		{"erin@example.com", "dave@example.com", ""},              // dave is bob's delegate
		{"dave@example.com", "erin@example.com", ""},              // dave, a delegate, delegates his own
		{"erin@example.com", "bob@example.com", broker.ECONFLICT}, // erin's own overlap
		{"erin@example.com", "erin@example.com", broker.EINVALID},
		{"erin@example.com", "\u017fam@example.com", ""}, // a look-alike is another address
	} {
		_, err := delegate(c.from, c.to, time.Hour)
		if got := broker.ErrorCode(err); got != c.code && !(c.code == "" && err == nil) {
			t.Errorf("%s delegates to %s: %v, want code %q", c.from, c.to, err, c.code)
		}
		if err != nil {
			for _, other := range []string{"dave@example.com", "bob@example.com has", "has delegated", "acts as delegate"} {
				if other != c.to && strings.Contains(err.Error(), other) {
					t.Errorf("error to %s reveals %q: %v", c.from, other, err)
				}
			}
		}
	}
}
