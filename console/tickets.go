package console

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
)

// createRequest is the body of POST /api/v1/tickets.
type createRequest struct {
	AccountID     string   `json:"account_id"`
	PermissionSet string   `json:"permission_set"`
	Beneficiaries []string `json:"beneficiaries"`
	// Start is an RFC 3339 time or "now"; empty means now.
	Start string `json:"start"`
	// End is an RFC 3339 time; exactly one of End and Duration is required.
	End string `json:"end"`
	// Duration is a Go duration ("1h30m") counted from Start.
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
}

// input validates the request's times and returns the service's input.
func (r createRequest) input(now time.Time) (broker.CreateTicketInput, error) {
	in := broker.CreateTicketInput{
		AccountID:     r.AccountID,
		PermissionSet: r.PermissionSet,
		Beneficiaries: r.Beneficiaries,
		Reason:        r.Reason,
	}
	if s := strings.TrimSpace(r.Start); s != "" && s != "now" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return in, broker.Errorf(broker.EINVALID, `start must be an RFC 3339 time (2006-01-02T15:04:05Z) or "now"`)
		}
		in.Start = t.UTC()
	}
	end, dur := strings.TrimSpace(r.End), strings.TrimSpace(r.Duration)
	switch {
	case end != "" && dur != "":
		return in, broker.Errorf(broker.EINVALID, "give either end or duration, not both")
	case end == "" && dur == "":
		return in, broker.Errorf(broker.EINVALID, "end or duration is required")
	case end != "":
		t, err := time.Parse(time.RFC3339, end)
		if err != nil {
			return in, broker.Errorf(broker.EINVALID, "end must be an RFC 3339 time (2006-01-02T15:04:05Z)")
		}
		in.End = t.UTC()
	default:
		d, err := time.ParseDuration(dur)
		if err != nil || d <= 0 {
			return in, broker.Errorf(broker.EINVALID, `duration must be a positive duration such as "1h30m"`)
		}
		from := in.Start
		if from.IsZero() {
			from = now.UTC()
		}
		in.End = from.Add(d)
	}
	return in, nil
}

// createTicket files a ticket: 201 with the ticket.
func (s *server) createTicket(c *fiber.Ctx) error {
	var req createRequest
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.input(s.cfg.Now())
	if err != nil {
		return err
	}
	t, err := s.cfg.Service.CreateTicket(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(utcTicket(t))
}

// listResponse is the body of GET /api/v1/tickets.
type listResponse struct {
	Tickets []*broker.Ticket `json:"tickets"`
}

// listTickets answers GET /api/v1/tickets?state=&mine=&pending_for_me=&limit=.
func (s *server) listTickets(c *fiber.Ctx) error {
	var in broker.ListInput
	var err error
	in.State = broker.State(utils.CopyString(c.Query("state")))
	if in.Mine, err = queryBool(c, "mine"); err != nil {
		return err
	}
	if in.PendingForMe, err = queryBool(c, "pending_for_me"); err != nil {
		return err
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return broker.Errorf(broker.EINVALID, "limit must be a positive integer")
		}
		in.Limit = n
	}
	ts, err := s.cfg.Service.Tickets(c.UserContext(), in)
	if err != nil {
		return err
	}
	out := listResponse{Tickets: make([]*broker.Ticket, 0, len(ts))}
	for _, t := range ts {
		out.Tickets = append(out.Tickets, utcTicket(t))
	}
	return c.JSON(out)
}

// queryBool parses an optional boolean query parameter.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, broker.Errorf(broker.EINVALID, "%s must be true or false", name)
	}
	return b, nil
}

// getTicket answers GET /api/v1/tickets/:id.
func (s *server) getTicket(c *fiber.Ctx) error {
	t, err := s.cfg.Service.Ticket(c.UserContext(), ticketID(c))
	if err != nil {
		return err
	}
	return c.JSON(utcTicket(t))
}

// commentRequest is the body of approve, reject and terminate.
type commentRequest struct {
	Comment string `json:"comment"`
}

// approve answers POST /api/v1/tickets/:id/approve; the body is optional.
func (s *server) approve(c *fiber.Ctx) error {
	return s.decide(c, false, s.cfg.Service.Approve)
}

// reject answers POST /api/v1/tickets/:id/reject; a comment is required.
func (s *server) reject(c *fiber.Ctx) error {
	return s.decide(c, true, s.cfg.Service.Reject)
}

// terminate answers POST /api/v1/tickets/:id/terminate; the body is optional.
func (s *server) terminate(c *fiber.Ctx) error {
	return s.decide(c, false, s.cfg.Service.Terminate)
}

// decide runs one of the service's (id, comment) transitions.
func (s *server) decide(c *fiber.Ctx, bodyRequired bool, call func(ctx context.Context, id, comment string) (*broker.Ticket, error)) error {
	var req commentRequest
	if err := decodeBody(c, &req, bodyRequired); err != nil {
		return err
	}
	t, err := call(c.UserContext(), ticketID(c), req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(utcTicket(t))
}

// ticketID returns a copy of the :id path parameter.
func ticketID(c *fiber.Ctx) string {
	return utils.CopyString(c.Params("id"))
}

// utcTicket returns a copy of t with every time in UTC, so the API always
// answers in RFC 3339 UTC whatever location the service used.
func utcTicket(t *broker.Ticket) *broker.Ticket {
	if t == nil {
		return nil
	}
	c := t.Clone()
	c.Start, c.End = c.Start.UTC(), c.End.UTC()
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	for i := range c.Approvals {
		c.Approvals[i].At = c.Approvals[i].At.UTC()
	}
	if c.Closed != nil {
		c.Closed.At = c.Closed.At.UTC()
	}
	for i := range c.Sessions {
		c.Sessions[i].IssuedAt = c.Sessions[i].IssuedAt.UTC()
		c.Sessions[i].Expiration = c.Sessions[i].Expiration.UTC()
	}
	for i := range c.History {
		c.History[i].At = c.History[i].At.UTC()
	}
	return c
}
