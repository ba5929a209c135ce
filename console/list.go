package console

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// TicketLister is the part of broker.Service behind filtered, sorted and
// paged ticket lists. A Config.Service without it answers GET
// /api/v1/tickets from Tickets (capped, one page).
type TicketLister interface {
	// ListTickets returns one page of the tickets the caller may see. EUNAUTHENTICATED, EINVALID.
	ListTickets(ctx context.Context, q broker.TicketQuery) (broker.TicketPage, error)
}

var _ TicketLister = (*broker.Service)(nil)

// listTickets answers GET /api/v1/tickets with the query parameters
// state (one or more, comma-separated), mine, pending_for_me, unreviewed, break_glass, group, grouped, requester,
// beneficiary, account, permission_set, from, to (RFC 3339: the ticket's
// window overlaps them), q (text), sort (created, start, end, account),
// order (asc, desc), cursor, offset and limit (1-1000, default 1000).
func (s *server) listTickets(c *fiber.Ctx) error {
	q, err := ticketQuery(c)
	if err != nil {
		return err
	}
	var page broker.TicketPage
	if s.cfg.Lister != nil {
		if page, err = s.cfg.Lister.ListTickets(c.UserContext(), q); err != nil {
			return err
		}
	} else {
		in := broker.ListInput{Mine: q.Mine, PendingForMe: q.PendingForMe, Limit: q.Limit}
		if len(q.States) == 1 {
			in.State = q.States[0]
		}
		if page.Tickets, err = s.cfg.Service.Tickets(c.UserContext(), in); err != nil {
			return err
		}
		page.Total = len(page.Tickets)
	}
	ts, err := s.wireTickets(c.UserContext(), page.Tickets)
	if err != nil {
		return err
	}
	return c.JSON(wire.TicketList{Tickets: ts, Total: page.Total, TotalIsMinimum: page.TotalIsMinimum, NextCursor: page.NextCursor, Groups: page.Groups})
}

// ticketQuery reads the list's query parameters.
func ticketQuery(c *fiber.Ctx) (broker.TicketQuery, error) {
	str := func(name string) string { return queryStr(c, name) }
	q := broker.TicketQuery{
		Requester: str("requester"), Beneficiary: str("beneficiary"), AccountID: str("account"),
		PermissionSet: str("permission_set"), Text: str("q"), Group: str("group"), Sort: str("sort"), Cursor: str("cursor"),
	}
	for _, st := range strings.Split(str("state"), ",") {
		if st = strings.TrimSpace(st); st != "" {
			q.States = append(q.States, broker.State(st))
		}
	}
	var err error
	if q.Mine, err = queryBool(c, "mine"); err != nil {
		return q, err
	}
	if q.PendingForMe, err = queryBool(c, "pending_for_me"); err != nil {
		return q, err
	}
	if q.Unreviewed, err = queryBool(c, "unreviewed"); err != nil {
		return q, err
	}
	if q.BreakGlass, err = queryBool(c, "break_glass"); err != nil {
		return q, err
	}
	if q.Grouped, err = queryBool(c, "grouped"); err != nil {
		return q, err
	}
	switch str("order") {
	case "", "desc":
	case "asc":
		q.Asc = true
	default:
		return q, broker.Errorf(broker.EINVALID, "order must be asc or desc")
	}
	for name, dst := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if *dst, err = wire.ParseTime(name, str(name)); err != nil {
			return q, err
		}
	}
	if q.Limit, err = queryCount(c, "limit", 1); err != nil {
		return q, err
	}
	q.Offset, err = queryCount(c, "offset", 0)
	return q, err
}
