package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
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
		// Read only as far as the page (and, after a cursor, from
		// there): the total is a lower bound.
		if !page.TotalIsMinimum || page.NextCursor != "" && page.Total <= len(page.Tickets) {
			t.Fatalf("page %d: total %d (minimum %v) after %d tickets; want a lower bound past this page", pages, page.Total, page.TotalIsMinimum, len(seen))
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

	// An offset to the last page reads to the end: the exact total.
	page, err := svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, Offset: 600, Limit: 100})
	if err != nil || page.Total != n || page.TotalIsMinimum || len(page.Tickets) != 12 || page.NextCursor != "" {
		t.Fatalf("offset 600: %v, total %d (minimum %v), %d tickets, next %q; want the last 12 of exactly %d", err, page.Total, page.TotalIsMinimum, len(page.Tickets), page.NextCursor, n)
	}
	// Filters and sorting: the prod account's, oldest first, 10 a page.
	page, err = svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, AccountID: "333333333333", Asc: true, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total <= 10 || !page.TotalIsMinimum || len(page.Tickets) != 10 || page.Tickets[0].ID != listID(0) || page.Tickets[1].ID != listID(3) {
		t.Fatalf("prod, oldest first: total %d (minimum %v), first %v", page.Total, page.TotalIsMinimum, ids(page.Tickets))
	}
	// Sorted by another field, every match is read: the exact total.
	page, err = svc.ListTickets(boss, broker.TicketQuery{PendingForMe: true, AccountID: "333333333333", Sort: broker.SortAccount, Limit: 10})
	if err != nil || page.Total != 204 || page.TotalIsMinimum {
		t.Fatalf("prod by account: %v total %d (minimum %v), want exactly 204", err, page.Total, page.TotalIsMinimum)
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
// (All tickets), newest first: read only as far as the page; and the
// pending list sorted by account, which reads and checks every candidate.
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
		name  string
		q     broker.TicketQuery
		exact bool
	}{
		{"pending-for-me", broker.TicketQuery{PendingForMe: true, Limit: 25}, false},
		{"all-visible", broker.TicketQuery{Limit: 25}, false},
		{"pending-for-me-by-account", broker.TicketQuery{PendingForMe: true, Limit: 25, Sort: broker.SortAccount}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := svc.ListTickets(boss, bc.q)
				if err != nil || len(page.Tickets) != 25 || bc.exact && page.Total != 1000 {
					b.Fatalf("%d tickets, total %d, %v", len(page.Tickets), page.Total, err)
				}
			}
		})
	}
}

// A list in creation order is read a piece at a time; paged by cursor or
// by offset, in either direction, grouped or not, it must hold exactly
// the rows of the whole list sorted: every waiting ticket once, a group
// once as its first member the query matches (even when a later member
// is met first), ties in creation time broken by id across the pieces,
// active tickets (in the other index read) left out.
func TestListInOrderMatchesWholeList(t *testing.T) {
	s, _, _ := newStore(t)
	var all []*broker.Ticket
	for i := 0; i < 400; {
		created := t0.Add(time.Duration(i) * time.Second)
		if i >= 200 && i < 240 {
			created = t0.Add(200 * time.Second) // 40 tickets in one microsecond
		}
		switch {
		case i%11 == 0 && i < 380: // a group of three, created a second apart
			group := "g" + listID(i)
			members := []string{listID(i), listID(i + 1), listID(i + 2)}
			for j, id := range members {
				tk := newTicket(id, 0, func(tk *broker.Ticket) {
					tk.CreatedAt = created.Add(time.Duration(j) * time.Second)
					tk.Start, tk.End = tk.CreatedAt, t0.Add(24*time.Hour)
					tk.Group, tk.GroupTickets = group, members
					if j == 0 && i%22 == 0 {
						tk.AccountID = "333333333333" // filtered out below: the second member leads
					}
				})
				all = append(all, tk)
			}
			i += 3
		case i%5 == 0: // active, nothing to decide
			all = append(all, newTicket(listID(i), 0, func(tk *broker.Ticket) {
				tk.CreatedAt, tk.State = created, broker.StateActive
				tk.Start, tk.End = created, t0.Add(24*time.Hour)
			}))
			i++
		default:
			all = append(all, newTicket(listID(i), 0, func(tk *broker.Ticket) {
				tk.CreatedAt = created
				tk.Start, tk.End = created, t0.Add(24*time.Hour)
			}))
			i++
		}
	}
	mustCreate(t, s, all...)
	svc := newListService(t, s, t0.Add(time.Hour))
	boss := broker.WithUser(context.Background(), broker.User{Email: "boss@example.com"})

	for _, asc := range []bool{false, true} {
		for _, grouped := range []bool{false, true} {
			for _, account := range []string{"", "111111111111"} {
				// The whole list, built here from the tickets themselves.
				var want []string
				led := map[string]bool{}
				order := slices.Clone(all)
				slices.SortFunc(order, func(a, b *broker.Ticket) int {
					c := cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
					if !asc {
						c = -c
					}
					return c
				})
				firstOf := map[string]string{}
				for _, tk := range all { // all is in each group's order
					if tk.State == broker.StatePending && (account == "" || tk.AccountID == account) && firstOf[tk.Group] == "" {
						firstOf[tk.Group] = tk.ID
					}
				}
				for _, tk := range order {
					if tk.State != broker.StatePending || account != "" && tk.AccountID != account {
						continue
					}
					if grouped && tk.Group != "" {
						if led[tk.Group] {
							continue
						}
						led[tk.Group] = true
						tk = mustGet(t, s, firstOf[tk.Group])
					}
					want = append(want, tk.ID)
				}
				if grouped { // a group stands where its first member does
					pos := map[string]*broker.Ticket{}
					for _, tk := range all {
						pos[tk.ID] = tk
					}
					slices.SortFunc(want, func(a, b string) int {
						c := cmp.Or(pos[a].CreatedAt.Compare(pos[b].CreatedAt), strings.Compare(a, b))
						if !asc {
							c = -c
						}
						return c
					})
				}
				name := fmt.Sprintf("asc=%v grouped=%v account=%q", asc, grouped, account)
				q := broker.TicketQuery{PendingForMe: true, Asc: asc, Grouped: grouped, AccountID: account, Limit: 7}
				var byCursor, byOffset []string
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatalf("%s: more than 100 pages", name)
					}
					page, err := svc.ListTickets(boss, q)
					if err != nil {
						t.Fatal(err)
					}
					byCursor = append(byCursor, ids(page.Tickets)...)
					for _, tk := range page.Tickets {
						if grouped && tk.Group != "" && len(page.Groups[tk.Group]) == 0 {
							t.Fatalf("%s: group %s listed without its members", name, tk.Group)
						}
					}
					if page.NextCursor == "" {
						break
					}
					q.Cursor = page.NextCursor
				}
				q.Cursor = ""
				for q.Offset = 0; q.Offset < len(want)+7; q.Offset += 7 {
					page, err := svc.ListTickets(boss, q)
					if err != nil {
						t.Fatal(err)
					}
					byOffset = append(byOffset, ids(page.Tickets)...)
				}
				if !slices.Equal(byCursor, want) {
					t.Errorf("%s: by cursor %d rows, want %d\n got %v\nwant %v", name, len(byCursor), len(want), byCursor, want)
				}
				if !slices.Equal(byOffset, want) {
					t.Errorf("%s: by offset %d rows, want %d", name, len(byOffset), len(want))
				}
			}
		}
	}
}
