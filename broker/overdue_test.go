package broker_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// oAgenda is an in-memory broker.Agenda.
type oAgenda struct {
	mu  sync.Mutex
	due map[string]time.Time
}

func (a *oAgenda) SetDue(_ context.Context, id string, at time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if at.IsZero() {
		delete(a.due, id)
	} else {
		a.due[id] = at
	}
	return nil
}

func (a *oAgenda) Overdue(_ context.Context, before time.Time, max int) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []string
	for id, at := range a.due {
		if at.Before(before) && len(ids) < max {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// deadLocker is a broker.Locker whose every lock is held by a process that
// died (Lock waits until the caller gives up) until its lease runs out;
// beneficiaries' guard locks (taken when filing) are free.
type deadLocker struct{ expired atomic.Bool }

func (l *deadLocker) Lock(ctx context.Context, key string) (func(), error) {
	if l.expired.Load() || strings.HasPrefix(key, "beneficiary:") {
		return func() {}, nil
	}
	<-ctx.Done()
	return nil, fmt.Errorf("lock %s: %w", key, ctx.Err())
}

// An overdue activation whose lock is still held by a process that died
// (the crash suite's kill at assign:intent) is tried again 2 s later, once
// the dead holder's lease may have run out, not after the 30 s retry of
// other failures: recovery after a crash took 40 s otherwise.
func TestOverdueActivationRetriesSoonWhileLocked(t *testing.T) {
	agenda := &oAgenda{due: map[string]time.Time{}}
	locker := &deadLocker{}
	e := newGrantEnv(t, broker.GrantRole, func(c *broker.ServiceConfig) {
		c.Agenda = agenda
		c.Locker = locker
	})
	ctx := broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
	tk, err := e.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Start: e.clock.Now().Add(time.Minute), End: e.clock.Now().Add(time.Hour), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.State != broker.StateApproved {
		t.Fatalf("ticket is %s, want approved", tk.State)
	}
	agenda.SetDue(ctx, tk.ID, tk.Start)
	e.clock.Advance(time.Minute + broker.OverdueGrace + time.Second)
	if n, err := e.svc.RunOverdue(context.Background()); err != nil || n != 0 {
		t.Fatalf("RunOverdue with the lock held: %d, %v; want 0, nil", n, err)
	}
	locker.expired.Store(true)       // the dead holder's lease ran out
	e.clock.Advance(3 * time.Second) // the sweep's first pass after 2 s
	if n, err := e.svc.RunOverdue(context.Background()); err != nil || n != 1 {
		t.Fatalf("RunOverdue 3 s later: %d, %v; want 1, nil", n, err)
	}
	if got, _ := e.svc.Ticket(broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"}), tk.ID); got.State != broker.StateActive {
		t.Errorf("ticket is %s after the retry, want active", got.State)
	}
}
