package redisstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

func TestCreateTicket(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	in := newTicket("t1", 0, func(t *broker.Ticket) {
		t.Beneficiaries = []string{"a@example.com", "b@example.com"}
		t.Approvals = []broker.Decision{{Stage: 0, By: "boss@example.com", Comment: "ok", At: t0}}
		t.Closed = &broker.Decision{By: "x@example.com", At: t0}
		t.Sessions = []broker.Session{{AccessKeyID: "ASIA1", User: "a@example.com", IssuedAt: t0, Expiration: t0.Add(time.Hour)}}
	})
	in.Version = 7 // ignored: a new ticket is at version 1
	want := in.Clone()
	want.Version = 1

	if err := s.CreateTicket(ctx, in); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	if in.Version != 1 {
		t.Errorf("Version after create = %d, want 1", in.Version)
	}
	got := mustGet(t, s, "t1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored ticket (-want +got):\n%s", diff)
	}

	again := newTicket("t1", 5, func(t *broker.Ticket) { t.Reason = "second" })
	if err := s.CreateTicket(ctx, again); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Errorf("second CreateTicket: got %v, want code %s", err, broker.ECONFLICT)
	}
	if diff := cmp.Diff(want, mustGet(t, s, "t1")); diff != "" {
		t.Errorf("ticket after failed create (-want +got):\n%s", diff)
	}
}

func TestTicket_notFound(t *testing.T) {
	s, _, _ := newStore(t)
	_, err := s.Ticket(context.Background(), "nope")
	if broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("Ticket(nope): got %v, want code %s", err, broker.ENOTFOUND)
	}
	if got, want := broker.ErrorMessage(err), "ticket nope not found"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestUpdateTicket(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	mustCreate(t, s, newTicket("t1", 0))

	cur := mustGet(t, s, "t1")
	stale := cur.Clone()
	cur.Reason = "updated"
	if err := s.UpdateTicket(ctx, cur); err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	if cur.Version != 2 {
		t.Errorf("Version after update = %d, want 2", cur.Version)
	}
	if diff := cmp.Diff(cur, mustGet(t, s, "t1")); diff != "" {
		t.Errorf("stored ticket (-want +got):\n%s", diff)
	}

	t.Run("stale version", func(t *testing.T) {
		stale.Reason = "lost update"
		stale.State = broker.StateApproved
		stale.PendingApprovers = nil
		err := s.UpdateTicket(ctx, stale)
		if broker.ErrorCode(err) != broker.ECONFLICT {
			t.Fatalf("UpdateTicket with version 1: got %v, want code %s", err, broker.ECONFLICT)
		}
		if stale.Version != 1 {
			t.Errorf("Version after failed update = %d, want 1", stale.Version)
		}
		if diff := cmp.Diff(cur, mustGet(t, s, "t1")); diff != "" {
			t.Errorf("ticket changed by a failed update (-want +got):\n%s", diff)
		}
		for _, f := range []broker.TicketFilter{{State: broker.StatePending}} {
			if got := query(t, s, f); !slices.Equal(got, []string{"t1"}) {
				t.Errorf("Tickets(%+v) = %v, want [t1]", f, got)
			}
		}
		if got := query(t, s, broker.TicketFilter{State: broker.StateApproved}); len(got) != 0 {
			t.Errorf("Tickets(approved) = %v, want none", got)
		}
	})

	t.Run("missing", func(t *testing.T) {
		err := s.UpdateTicket(ctx, newTicket("gone", 0))
		if broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Errorf("UpdateTicket(gone): got %v, want code %s", err, broker.ENOTFOUND)
		}
	})
}

func TestUpdateTicket_movesIndexes(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	mustCreate(t, s, newTicket("t1", 0, func(t *broker.Ticket) {
		t.Beneficiaries = []string{"a@example.com", "b@example.com"}
		t.PendingApprovers = []string{"boss@example.com", "cto@example.com"}
	}))
	update := func(fn func(*broker.Ticket)) {
		t.Helper()
		tk := mustGet(t, s, "t1")
		fn(tk)
		if err := s.UpdateTicket(ctx, tk); err != nil {
			t.Fatalf("UpdateTicket: %v", err)
		}
	}
	check := func(f broker.TicketFilter, want ...string) {
		t.Helper()
		if want == nil {
			want = []string{}
		}
		if got := query(t, s, f); !slices.Equal(got, want) {
			t.Errorf("Tickets(%+v) = %v, want %v", f, got, want)
		}
	}

	// The approver indexes earlier versions wrote: nothing writes them
	// now, and a change clears the ticket's entries.
	legacy := func() {
		t.Helper()
		for _, a := range []string{"boss@example.com", "cto@example.com"} {
			rdb.ZAdd(ctx, s.approverKey(a), redis.Z{Score: 1, Member: "t1"})
		}
	}
	legacy()
	update(func(t *broker.Ticket) { t.PendingApprovers = []string{"boss@example.com"} })
	if n := rdb.Exists(ctx, s.approverKey("cto@example.com")).Val(); n != 0 {
		t.Errorf("the old approver index of cto@example.com was left")
	}
	update(func(t *broker.Ticket) { t.PendingApprovers = nil })
	for _, a := range []string{"boss@example.com", "cto@example.com"} {
		if n := rdb.Exists(ctx, s.approverKey(a)).Val(); n != 0 {
			t.Errorf("approver index of %s still exists", a)
		}
	}

	update(func(t *broker.Ticket) { t.State = broker.StateApproved })
	check(broker.TicketFilter{State: broker.StatePending})
	check(broker.TicketFilter{State: broker.StateApproved}, "t1")

	update(func(t *broker.Ticket) { t.State = broker.StateActive })
	check(broker.TicketFilter{State: broker.StateApproved})
	check(broker.TicketFilter{State: broker.StateActive}, "t1")
	if n := rdb.Exists(ctx, s.stateKey(broker.StatePending), s.stateKey(broker.StateApproved)).Val(); n != 0 {
		t.Errorf("%d old state indexes still exist", n)
	}

	update(func(t *broker.Ticket) { t.Beneficiaries = []string{"b@example.com", "c@example.com"} })
	check(broker.TicketFilter{Beneficiary: "a@example.com"})
	check(broker.TicketFilter{Beneficiary: "b@example.com"}, "t1")
	check(broker.TicketFilter{Beneficiary: "c@example.com"}, "t1")

	update(func(t *broker.Ticket) { t.Requester = "other@example.com" })
	check(broker.TicketFilter{Requester: "req@example.com"})
	check(broker.TicketFilter{Requester: "other@example.com"}, "t1")
	check(broker.TicketFilter{}, "t1")
}

// TestUpdateTicket_approversLeftOutsidePending checks that a ticket leaving
// pending, or deleted, drops out of the approver index earlier versions
// wrote, even if PendingApprovers is left set; and that none is written.
func TestUpdateTicket_approversLeftOutsidePending(t *testing.T) {
	ctx := context.Background()
	s, rdb, _ := newStore(t)
	mustCreate(t, s, newTicket("t1", 0), newTicket("t2", 0))
	boss := s.approverKey("boss@example.com")
	if n := rdb.Exists(ctx, boss).Val(); n != 0 {
		t.Fatalf("an approver index was written")
	}
	rdb.ZAdd(ctx, boss, redis.Z{Score: 1, Member: "t1"}, redis.Z{Score: 1, Member: "t2"})
	tk := mustGet(t, s, "t1")
	tk.State = broker.StateCancelled
	if err := s.UpdateTicket(ctx, tk); err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	if err := s.DeleteTicket(ctx, "t2"); err != nil {
		t.Fatal(err)
	}
	if got := rdb.ZRange(ctx, boss, 0, -1).Val(); len(got) != 0 {
		t.Errorf("approver index entries %v left", got)
	}
}

// TestUpdateTicket_concurrent has 50 writers update the same version of a
// ticket at once; exactly one may win.
func TestUpdateTicket_concurrent(t *testing.T) {
	ctx := context.Background()
	s, _, _ := newStore(t)
	mustCreate(t, s, newTicket("t1", 0))

	const writers = 50
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		errs        = make([]error, writers)
		reasons     = make([]string, writers)
	)
	ready.Add(writers)
	done.Add(writers)
	for i := range writers {
		go func() {
			defer done.Done()
			tk, err := s.Ticket(ctx, "t1")
			ready.Done()
			if err != nil {
				errs[i] = err
				return
			}
			<-start
			tk.Reason = "writer " + string(rune('A'+i))
			tk.State = broker.StateApproved
			reasons[i] = tk.Reason
			errs[i] = s.UpdateTicket(ctx, tk)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()

	var won []int
	for i, err := range errs {
		switch broker.ErrorCode(err) {
		case "":
			won = append(won, i)
		case broker.ECONFLICT:
		default:
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d writers succeeded, want exactly 1", len(won))
	}
	got := mustGet(t, s, "t1")
	if got.Version != 2 || got.Reason != reasons[won[0]] {
		t.Errorf("stored version %d reason %q, want version 2 reason %q", got.Version, got.Reason, reasons[won[0]])
	}
	if ids := query(t, s, broker.TicketFilter{State: broker.StateApproved}); !slices.Equal(ids, []string{"t1"}) {
		t.Errorf("Tickets(approved) = %v, want [t1]", ids)
	}
}

func TestDeleteTicket(t *testing.T) {
	ctx := context.Background()
	s, rdb, prefix := newStore(t)
	mustCreate(t, s,
		newTicket("t1", 0, func(t *broker.Ticket) { t.Beneficiaries = []string{"a@example.com", "b@example.com"} }),
		newTicket("t2", 1, func(t *broker.Ticket) { t.Requester = "other@example.com" }),
	)
	tk := mustGet(t, s, "t2")
	tk.State = broker.StateActive
	if err := s.UpdateTicket(ctx, tk); err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}

	if err := s.DeleteTicket(ctx, "t1"); err != nil {
		t.Fatalf("DeleteTicket(t1): %v", err)
	}
	if _, err := s.Ticket(ctx, "t1"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("Ticket(t1) after delete: got %v, want code %s", err, broker.ENOTFOUND)
	}
	if got := query(t, s, broker.TicketFilter{}); !slices.Equal(got, []string{"t2"}) {
		t.Errorf("Tickets() = %v, want [t2]", got)
	}

	if err := s.DeleteTicket(ctx, "t2"); err != nil {
		t.Fatalf("DeleteTicket(t2): %v", err)
	}
	if err := s.DeleteTicket(ctx, "t2"); err != nil {
		t.Errorf("DeleteTicket of a missing ticket: %v", err)
	}
	if left := keys(t, rdb, prefix); len(left) != 0 {
		t.Errorf("keys left after deleting every ticket: %v", left)
	}
}
