package console_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/console/wire"
)

// listerService adds ListTickets to the fake service.
type listerService struct {
	*fakeService
	fn func(ctx context.Context, q broker.TicketQuery) (broker.TicketPage, error)
}

func (l listerService) ListTickets(ctx context.Context, q broker.TicketQuery) (broker.TicketPage, error) {
	return l.fn(ctx, q)
}

// The list's query parameters reach the service as a TicketQuery, and the
// page comes back with its total and next cursor.
func TestListTicketsQuery(t *testing.T) {
	bob := token(t, "bob@example.com")
	from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		query string
		want  broker.TicketQuery
	}{
		{"", broker.TicketQuery{}},
		{"?state=pending,active&pending_for_me=true&requester=alice@example.com&beneficiary=dave@example.com&account=111111111111" +
			"&permission_set=ReadOnlyAccess&from=2026-11-01T00:00:00Z&q=incident&sort=end&order=asc&cursor=abc&offset=5&limit=50",
			broker.TicketQuery{States: []broker.State{"pending", "active"}, PendingForMe: true, Requester: "alice@example.com",
				Beneficiary: "dave@example.com", AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", From: from,
				Text: "incident", Sort: "end", Asc: true, Cursor: "abc", Offset: 5, Limit: 50}},
	}
	for _, tt := range cases {
		t.Run(tt.query, func(t *testing.T) {
			var got broker.TicketQuery
			h := newHarness(t, func(c *console.Config) {
				c.Lister = listerService{fakeService: c.Service.(*fakeService), fn: func(ctx context.Context, q broker.TicketQuery) (broker.TicketPage, error) {
					got = q
					return broker.TicketPage{Tickets: []*broker.Ticket{sampleTicket("a")}, Total: 7, NextCursor: "next"}, nil
				}}
			})
			r := h.do(t, request{method: "GET", path: "/api/v1/tickets" + tt.query, token: bob})
			if r.status != 200 {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
			var body wire.TicketList
			if err := json.Unmarshal(r.body, &body); err != nil || body.Total != 7 || body.NextCursor != "next" || len(body.Tickets) != 1 {
				t.Fatalf("body %s (%v)", r.body, err)
			}
		})
	}
	for _, bad := range []string{"?order=up", "?from=yesterday", "?limit=0", "?offset=-1", "?mine=maybe"} {
		h := newHarness(t)
		if r := h.do(t, request{method: "GET", path: "/api/v1/tickets" + bad, token: bob}); r.status != 400 {
			t.Errorf("%s: status %d %s, want 400", bad, r.status, r.body)
		}
	}
}
