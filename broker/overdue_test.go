package broker_test

import (
	"context"
	"fmt"
	"sync"
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
// died: Lock waits until the caller gives up.
type deadLocker struct{}

func (deadLocker) Lock(ctx context.Context, key string) (func(), error) {
	<-ctx.Done()
	return nil, fmt.Errorf("lock %s: %w", key, ctx.Err())
}

// An overdue activation whose lock is still held by a process that died
// (the crash suite's kill at assign:intent) is tried again within seconds,
// once the dead holder's lease may have run out, not after the 30 s
// retry of other failures: recovery after a crash took 40 s otherwise.
func TestOverdueActivationRetriesSoonWhileLocked(t *testing.T) {
	agenda := &oAgenda{due: map[string]time.Time{}}
	e := newGrantEnv(t, broker.GrantRole, func(c *broker.ServiceConfig) {
		c.Agenda = agenda
		c.Locker = deadLocker{}
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
	now := e.clock.Now()
	if _, err := e.svc.RunOverdue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := agenda.due[tk.ID]
	if got.IsZero() || got.Sub(now) > 2*time.Second {
		t.Errorf("locked activation retried at now+%s, want within 2s", got.Sub(now))
	}
}
