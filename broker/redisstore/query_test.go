package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jitaccess/jit/broker"
)

func TestTickets_filters(t *testing.T) {
	s, _, _ := newStore(t)
	mustCreate(t, s,
		newTicket("alice-1", 1, func(t *broker.Ticket) {
			t.Requester = "alice@example.com"
			t.Beneficiaries = []string{"alice@example.com"}
		}),
		newTicket("alice-for-bob", 2, func(t *broker.Ticket) {
			t.Requester = "alice@example.com"
			t.Beneficiaries = []string{"bob@example.com", "carol@example.com"}
			t.PendingApprovers = []string{"boss@example.com", "cto@example.com"}
		}),
		newTicket("bob-active", 3, func(t *broker.Ticket) {
			t.Requester = "bob@example.com"
			t.Beneficiaries = []string{"bob@example.com"}
			t.State = broker.StateActive
			t.PendingApprovers = nil
		}),
		newTicket("carol-approved", 4, func(t *broker.Ticket) {
			t.Requester = "carol@example.com"
			t.Beneficiaries = []string{"alice@example.com"}
			t.State = broker.StateApproved
			t.PendingApprovers = []string{"cto@example.com"} // left over; not pending
		}),
	)
	tests := []struct {
		name string
		f    broker.TicketFilter
		want []string
	}{
		{"all", broker.TicketFilter{}, []string{"carol-approved", "bob-active", "alice-for-bob", "alice-1"}},
		{"state", broker.TicketFilter{State: broker.StatePending}, []string{"alice-for-bob", "alice-1"}},
		{"requester", broker.TicketFilter{Requester: "alice@example.com"}, []string{"alice-for-bob", "alice-1"}},
		{"beneficiary", broker.TicketFilter{Beneficiary: "bob@example.com"}, []string{"bob-active", "alice-for-bob"}},
		{"beneficiary not requester", broker.TicketFilter{Beneficiary: "alice@example.com"}, []string{"carol-approved", "alice-1"}},
		{"state and requester", broker.TicketFilter{State: broker.StateActive, Requester: "bob@example.com"}, []string{"bob-active"}},
		{"state and beneficiary", broker.TicketFilter{State: broker.StatePending, Beneficiary: "bob@example.com"}, []string{"alice-for-bob"}},
		{"requester and beneficiary", broker.TicketFilter{Requester: "alice@example.com", Beneficiary: "carol@example.com"}, []string{"alice-for-bob"}},
		{"no match", broker.TicketFilter{Requester: "nobody@example.com"}, []string{}},
		{"limit", broker.TicketFilter{Beneficiary: "alice@example.com", Limit: 1}, []string{"carol-approved"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, query(t, s, tt.f)); diff != "" {
				t.Errorf("Tickets(%+v) (-want +got):\n%s", tt.f, diff)
			}
		})
	}
}

func TestTickets_newestFirst(t *testing.T) {
	s, _, _ := newStore(t)
	var want []string
	for _, n := range rand.Perm(12) {
		mustCreate(t, s, newTicket(fmt.Sprintf("t%02d", n), n))
	}
	for n := 11; n >= 0; n-- {
		want = append(want, fmt.Sprintf("t%02d", n))
	}
	for _, limit := range []int{0, 1, 3, 12, 50} {
		w := want
		if limit > 0 && limit < len(w) {
			w = w[:limit]
		}
		if diff := cmp.Diff(w, query(t, s, broker.TicketFilter{Limit: limit})); diff != "" {
			t.Errorf("Tickets(Limit: %d) (-want +got):\n%s", limit, diff)
		}
		if diff := cmp.Diff(w, query(t, s, broker.TicketFilter{State: broker.StatePending, Limit: limit})); diff != "" {
			t.Errorf("Tickets(pending, Limit: %d) (-want +got):\n%s", limit, diff)
		}
	}
}

// TestTickets_paging reads an index in small pages, with many tickets
// sharing a CreatedAt, and filters in Go; the result must equal a filter
// over every ticket.
func TestTickets_paging(t *testing.T) {
	s, _, _ := newStore(t)
	s.pageSize = 3
	var all []*broker.Ticket
	for i := range 40 {
		tk := newTicket(fmt.Sprintf("t%02d", i), i/7, func(t *broker.Ticket) { // 7 tickets per minute
			if i%3 == 0 {
				t.State = broker.StateApproved
			}
		})
		all = append(all, tk)
		mustCreate(t, s, tk)
	}
	f := broker.TicketFilter{Requester: "req@example.com", State: broker.StateApproved}
	var want []string
	for _, tk := range slices.Backward(all) {
		if matches(tk, f) {
			want = append(want, tk.ID)
		}
	}
	// Within a CreatedAt the order is the reverse of the ids, as ZRANGE REV gives.
	if diff := cmp.Diff(want, query(t, s, f)); diff != "" {
		t.Errorf("Tickets(%+v) (-want +got):\n%s", f, diff)
	}
	f.Limit = 5
	if diff := cmp.Diff(want[:5], query(t, s, f)); diff != "" {
		t.Errorf("Tickets(%+v) (-want +got):\n%s", f, diff)
	}
}

func TestTickets_skipsVanished(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	mustCreate(t, s, newTicket("t1", 1), newTicket("t2", 2), newTicket("t3", 3))
	// A ticket key gone without its index entries (say, deleted by hand).
	if err := rdb.Del(ctx, s.ticketKey("t2")).Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"t3", "t1"}, query(t, s, broker.TicketFilter{})); diff != "" {
		t.Errorf("Tickets() (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"t3", "t1"}, query(t, s, broker.TicketFilter{State: broker.StatePending, Limit: 2})); diff != "" {
		t.Errorf("Tickets(pending, Limit: 2) (-want +got):\n%s", diff)
	}
}

func BenchmarkUpdateTicket(b *testing.B) {
	ctx := context.Background()
	s, _, _ := newStore(b)
	mustCreate(b, s, newTicket("t1", 0))
	tk := mustGet(b, s, "t1")
	states := []broker.State{broker.StateApproved, broker.StatePending}
	for i := 0; b.Loop(); i++ {
		tk.State = states[i%2]
		if err := s.UpdateTicket(ctx, tk); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTickets(b *testing.B) {
	ctx := context.Background()
	s, _, _ := newStore(b)
	for i := range 2000 {
		mustCreate(b, s, newTicket(fmt.Sprintf("t%04d", i), i, func(t *broker.Ticket) {
			t.Requester = fmt.Sprintf("user%d@example.com", i%20)
		}))
	}
	f := broker.TicketFilter{Requester: "user3@example.com", State: broker.StatePending, Limit: 50}
	for b.Loop() {
		if _, err := s.Tickets(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}
