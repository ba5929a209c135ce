package broker_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// eSigner makes console links and counts them.
type eSigner struct{ n atomic.Int64 }

func (*eSigner) CheckDestination(string, string) error { return nil }

func (s *eSigner) SigninURL(context.Context, broker.Credentials, string, string) (string, error) {
	s.n.Add(1)
	return "https://signin.example/federation?Action=login", nil
}

// Issue 10 §5: a console link is checked against the registry in force,
// as every credential is: after the requester's group lost the permission
// set, the next link of the active ticket is refused with the reason and
// none is made.
func TestConsoleLinkRechecksRegistry(t *testing.T) {
	signer := &eSigner{}
	w := newEWorld(t, broker.ServiceConfig{Signer: signer})
	tk := w.approved(t, alice)
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ConsoleURL(as(alice), tk.ID, "", ""); err != nil {
		t.Fatalf("console link before the change: %v", err)
	}
	w.change(t, dropEngineers)
	_, err := w.svc.ConsoleURL(as(alice), tk.ID, "", "")
	if broker.ErrorCode(err) != broker.EFORBIDDEN || !strings.Contains(broker.ErrorMessage(err), "alice@example.com may not request ReadOnlyAccess") {
		t.Errorf("console link after the change: %v, want forbidden with the reason", err)
	}
	if n := signer.n.Load(); n != 1 {
		t.Errorf("%d console links made, want only the one before the change", n)
	}
}
