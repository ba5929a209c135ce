package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

type obsRecorder struct {
	mu     sync.Mutex
	events []broker.Event
}

func (o *obsRecorder) TicketChanged(_ context.Context, _ *broker.Ticket, added []broker.Event) {
	o.mu.Lock()
	o.events = append(o.events, added...)
	o.mu.Unlock()
}

// Every stored change reaches the observer once and the audit log as a
// typed event with the ticket's account and the state change.
func TestEveryChangeIsObservedAndAudited(t *testing.T) {
	audit, obs := &gAudit{}, &obsRecorder{}
	e := newGrantEnv(t, broker.GrantRole, func(c *broker.ServiceConfig) { c.Audit, c.Observer = audit, obs })
	tk := e.file(t, "alice@example.com", time.Hour)
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	if _, err := e.svc.Terminate(ctx, tk.ID, "enough"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range audit.events {
		if a.TicketID != tk.ID || a.AccountID != "111111111111" || a.PermissionSet != "ReadOnlyAccess" {
			t.Errorf("event %+v lacks the ticket's ids", a)
		}
		got = append(got, a.Type+" "+a.Actor+" "+a.From+">"+a.To)
	}
	want := []string{"ticket.request alice@example.com >approved", "ticket.activate jit approved>active", "ticket.terminate carol@example.com active>terminated"}
	if len(got) < len(want) {
		t.Fatalf("audit %v, want at least %v", got, want)
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("audit[%d] = %q, want %q (all: %v)", i, got[i], w, got)
		}
	}
	if len(obs.events) != len(audit.events) {
		t.Errorf("observer saw %d events, audit %d", len(obs.events), len(audit.events))
	}
}
