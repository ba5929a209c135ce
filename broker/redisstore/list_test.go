package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

type listNobodyAdmin struct{}

func (listNobodyAdmin) Allowed(_ context.Context, _ broker.User, act broker.Action, _, _ string) (bool, error) {
	return act != broker.ActAdminister, nil
}

type listNoop struct{}

func (listNoop) Schedule(context.Context, broker.TaskKind, string, time.Time) error { return nil }
func (listNoop) Unschedule(context.Context, broker.TaskKind, string) error          { return nil }
func (listNoop) Mint(context.Context, broker.MintRequest) (broker.Credentials, error) {
	return broker.Credentials{}, nil
}
func (listNoop) Revoke(context.Context, broker.RevokeRequest) error { return nil }

// newListService is a Service over s in which boss@example.com approves
// every ticket and nobody administers.
func newListService(t testing.TB, s *Store, now time.Time) *broker.Service {
	t.Helper()
	eng := approvals.New(fake.NewRules(broker.RuleStage{Approvers: []string{"boss@example.com"}, Required: 1}))
	reg := &broker.StaticRegistry{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}, {ID: "333333333333", Name: "prod"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 48 * time.Hour, ApprovalRequired: true}},
	}
	svc, err := broker.NewService(broker.ServiceConfig{Store: s, Scheduler: listNoop{}, Registry: reg, Authorizer: listNobodyAdmin{},
		Approvals: eng, Minter: listNoop{}, Revoker: listNoop{}, Clock: fake.NewClock(now)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// 612 tickets wait for the approver: his pending list used to stop at 500
// (the oldest, still waiting, missing); paged, it holds every one of them
// exactly once, with the total, the oldest on the last page.
func TestPendingListPagesPastTheOldCap(t *testing.T) {
	s, _, _ := newStore(t)
	const n = 612
	for i := range n {
		mustCreate(t, s, newTicket(listID(i), 0, func(tk *broker.Ticket) {
			tk.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			tk.Start, tk.End = tk.CreatedAt, t0.Add(24*time.Hour)
			if i%3 == 0 {
				tk.AccountID = "333333333333"
			}
		}))
	}
	svc := newListService(t, s, t0.Add(time.Hour))
	boss := broker.WithUser(context.Background(), broker.User{Email: "boss@example.com"})

	old, err := svc.Tickets(boss, broker.ListInput{PendingForMe: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 500 {
		t.Fatalf("the capped list has %d tickets; this test expects the old cap of 500 to show", len(old))
	}

	seen := map[string]bool{}
	var last string
	q := broker.TicketQuery{PendingForMe: true, Limit: 100}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("more than 10 pages of 100 for 612 tickets")
		}
		page, err := svc.ListTickets(boss, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != n {
			t.Fatalf("total %d, want %d", page.Total, n)
		}
		for _, tk := range page.Tickets {
			if seen[tk.ID] {
				t.Fatalf("ticket %s on two pages", tk.ID)
			}
			seen[tk.ID] = true
			last = tk.ID
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if len(seen) != n || last != listID(0) {
		t.Fatalf("paged through %d tickets, the last %s; want %d ending with the oldest %s", len(seen), last, n, listID(0))
	}

	// Filters and sorting: the prod account's, oldest first, 10 a page.
	page, err := svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, AccountID: "333333333333", Asc: true, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 204 || len(page.Tickets) != 10 || page.Tickets[0].ID != listID(0) || page.Tickets[1].ID != listID(3) {
		t.Fatalf("prod, oldest first: total %d, first %v", page.Total, ids(page.Tickets))
	}
	// A cursor of another order is refused.
	if _, err := svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, Cursor: page.NextCursor}); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("cursor of another order: %v, want invalid", err)
	}
	// A time range: tickets whose window overlaps it (all of them here
	// end a day after t0; none starts after the 100th second).
	page, err = svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, To: t0.Add(100 * time.Second), Sort: broker.SortStart})
	if err != nil || page.Total != 100 || page.Tickets[0].ID != listID(99) {
		t.Fatalf("window before t0+100s: %v total %d", err, page.Total)
	}
	// Someone who approves nothing sees nothing.
	other := broker.WithUser(context.Background(), broker.User{Email: "eve@example.com"})
	if page, err := svc.ListTickets(other, broker.TicketQuery{}); err != nil || page.Total != 0 {
		t.Fatalf("eve's list: %v total %d", err, page.Total)
	}
}

func listID(i int) string {
	return "tk" + string(rune('a'+i/100)) + string(rune('a'+i/10%10)) + string(rune('a'+i%10))
}

// BenchmarkListTickets: one page of 25 of the 1,000 tickets waiting for
// an approver (the page's Approvals), and of every ticket they may see
// (All tickets): each page reads and checks every candidate.
func BenchmarkListTickets(b *testing.B) {
	s, _, _ := newStore(b)
	for i := range 1000 {
		mustCreate(b, s, newTicket(listID(i), 0, func(tk *broker.Ticket) {
			tk.CreatedAt = t0.Add(time.Duration(i) * time.Second)
			tk.Start, tk.End = tk.CreatedAt, t0.Add(24*time.Hour)
		}))
	}
	svc := newListService(b, s, t0.Add(time.Hour))
	boss := broker.WithUser(context.Background(), broker.User{Email: "boss@example.com"})
	for _, bc := range []struct {
		name string
		q    broker.TicketQuery
	}{
		{"pending-for-me", broker.TicketQuery{PendingForMe: true, Limit: 25}},
		{"all-visible", broker.TicketQuery{Limit: 25}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := svc.ListTickets(boss, bc.q)
				if err != nil || page.Total != 1000 {
					b.Fatalf("total %d, %v", page.Total, err)
				}
			}
		})
	}
}
