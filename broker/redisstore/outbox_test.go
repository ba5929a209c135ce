package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Every write marks its ticket in the same script; Clear keeps a mark made
// by a later write; DeleteTicket takes the mark away.
func TestOutboxMarksEveryWrite(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	due := func() []broker.OutboxEntry {
		t.Helper()
		es, err := s.Due(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	mustCreate(t, s, newTicket("a", 0), newTicket("b", 1))
	if es := due(); len(es) != 2 || es[0].TicketID != "a" || es[1].TicketID != "b" {
		t.Fatalf("after two creates the outbox holds %+v, want a then b", es)
	}
	if es, err := s.Due(ctx, time.Hour, 100); err != nil || len(es) != 0 {
		t.Fatalf("entries older than an hour: %+v, %v; want none", es, err)
	}

	first := due()[0]
	time.Sleep(2 * time.Millisecond) // the next mark must differ (the server's clock in ms)
	a := mustGet(t, s, "a")
	a.State = broker.StateApproved
	if err := s.UpdateTicket(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx, first); err != nil {
		t.Fatal(err)
	}
	es := due()
	if len(es) != 2 {
		t.Fatalf("clearing a mark that a later write replaced removed it: %+v", es)
	}
	for _, e := range es {
		if err := s.Clear(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if es := due(); len(es) != 0 {
		t.Fatalf("after clearing the current marks the outbox holds %+v", es)
	}

	mustCreate(t, s, newTicket("c", 2))
	if err := s.DeleteTicket(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.OutboxLen(ctx); err != nil || n != 0 {
		t.Fatalf("outbox after deleting the only marked ticket: %d, %v; want 0", n, err)
	}
}

// The agenda returns tickets due before a time, earliest first, and
// forgets a ticket set to the zero time.
func TestAgenda(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := context.Background()
	for id, at := range map[string]time.Time{"late": t0.Add(2 * time.Minute), "early": t0, "future": t0.Add(time.Hour)} {
		if err := s.SetDue(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Overdue(ctx, t0.Add(2*time.Minute), 10)
	if err != nil || len(got) != 1 || got[0] != "early" {
		t.Fatalf("due before t0+2m: %v, %v; want [early] (a ticket due exactly then is not yet overdue)", got, err)
	}
	if err := s.SetDue(ctx, "early", time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, err = s.Overdue(ctx, t0.Add(30*time.Minute), 10)
	if err != nil || len(got) != 1 || got[0] != "late" {
		t.Fatalf("after removing early: %v, %v; want [late]", got, err)
	}
}
