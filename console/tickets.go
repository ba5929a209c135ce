package console

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// createTicket files a ticket: 201 with the ticket.
func (s *server) createTicket(c *fiber.Ctx) error {
	var req wire.CreateTicket
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	t, err := s.cfg.Service.CreateTicket(c.UserContext(), in)
	return s.writeTicket(c.Status(fiber.StatusCreated), t, err)
}

// queryBool parses an optional boolean query parameter.
// queryStr is a query parameter, trimmed (and copied: fiber reuses its
// buffers).
func queryStr(c *fiber.Ctx, name string) string {
	return strings.TrimSpace(utils.CopyString(c.Query(name)))
}

// queryCount is a query parameter that counts: absent is 0, else at
// least min (0 for an offset, 1 for a limit). EINVALID otherwise.
func queryCount(c *fiber.Ctx, name string, min int) (int, error) {
	v := queryStr(c, name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, broker.Errorf(broker.EINVALID, "%s must be a positive integer", name)
	}
	return n, nil
}

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
	return s.writeTicket(c, t, err)
}

// approve answers POST /api/v1/tickets/:id/approve; the body is optional.
func (s *server) approve(c *fiber.Ctx) error {
	return s.decideRevision(c, false, s.cfg.Service.ApproveRevision)
}

// reject answers POST /api/v1/tickets/:id/reject; a comment is required.
func (s *server) reject(c *fiber.Ctx) error {
	return s.decideRevision(c, true, s.cfg.Service.RejectRevision)
}

// terminate answers POST /api/v1/tickets/:id/terminate; the body is optional.
func (s *server) terminate(c *fiber.Ctx) error {
	return s.decide(c, false, s.cfg.Service.Terminate)
}

// decideRevision runs approve or reject with the body's revision.
func (s *server) decideRevision(c *fiber.Ctx, bodyRequired bool, call func(ctx context.Context, id string, revision int, comment string) (*broker.Ticket, error)) error {
	var req wire.Decide
	if err := decodeBody(c, &req, bodyRequired); err != nil {
		return err
	}
	if req.Revision < 0 {
		return broker.Errorf(broker.EINVALID, "revision must be a positive number")
	}
	t, err := call(c.UserContext(), ticketID(c), req.Revision, req.Comment)
	return s.writeTicket(c, t, err)
}

// decide runs one of the service's (id, comment) transitions.
func (s *server) decide(c *fiber.Ctx, bodyRequired bool, call func(ctx context.Context, id, comment string) (*broker.Ticket, error)) error {
	var req wire.Comment
	if err := decodeBody(c, &req, bodyRequired); err != nil {
		return err
	}
	t, err := call(c.UserContext(), ticketID(c), req.Comment)
	return s.writeTicket(c, t, err)
}

// ticketID returns a copy of the :id path parameter.
func ticketID(c *fiber.Ctx) string {
	return utils.CopyString(c.Params("id"))
}

// writeTicket writes t (or returns err) as the API answers a ticket:
// wire.Ticket, with the caller's view of its open round.
func (s *server) writeTicket(c *fiber.Ctx, t *broker.Ticket, err error) error {
	if err != nil {
		return err
	}
	ws, err := s.wireTickets(c.UserContext(), []*broker.Ticket{t})
	if err != nil {
		return err
	}
	return c.JSON(ws[0])
}

// wireTickets returns ts as the API answers them, each with the caller's
// view of its open round when Config.Views is set.
func (s *server) wireTickets(ctx context.Context, ts []*broker.Ticket) ([]wire.Ticket, error) {
	views := make([]*broker.Deciding, len(ts))
	if s.cfg.Views != nil {
		var err error
		if views, err = s.cfg.Views.Deciding(ctx, ts); err != nil {
			return nil, err
		}
	}
	out := make([]wire.Ticket, len(ts))
	for i, t := range ts {
		out[i] = wire.NewTicket(t, views[i])
	}
	return out, nil
}

// WorkflowService is the part of broker.Service behind the approval
// workflow's routes. Config.Service serves them when it implements it;
// otherwise they answer 404.
type WorkflowService interface {
	// Cancel withdraws a pending or approved ticket. EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Cancel(ctx context.Context, id, comment string) (*broker.Ticket, error)
	// Done ends a ticket for its requester or a beneficiary. EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Done(ctx context.Context, id, comment string) (*broker.Ticket, error)
	// Extend asks for a later end. EUNAUTHENTICATED, EINVALID, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Extend(ctx context.Context, id string, in broker.ExtendInput) (*broker.Ticket, error)
	// Edit changes a rejected ticket and resends it. EUNAUTHENTICATED, EINVALID, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Edit(ctx context.Context, id string, in broker.EditInput) (*broker.Ticket, error)
	// Delegate delegates the caller's approvals. EUNAUTHENTICATED, EINVALID, ECONFLICT.
	Delegate(ctx context.Context, in broker.DelegateInput) (*broker.Delegation, error)
	// Delegations lists the caller's delegations. EUNAUTHENTICATED.
	Delegations(ctx context.Context) ([]broker.Delegation, error)
	// DeleteDelegation ends a delegation. EUNAUTHENTICATED, ENOTFOUND.
	DeleteDelegation(ctx context.Context, id string) error
}

var _ WorkflowService = (*broker.Service)(nil)

// workflowRoutes mounts cancel, done, extend, edit and the delegations.
func (s *server) workflowRoutes(api fiber.Router) {
	api.Post("/tickets/:id/cancel", s.workflow(s.cancel))
	api.Post("/tickets/:id/done", s.workflow(s.done))
	api.Post("/tickets/:id/extend", s.workflow(s.extend))
	api.Put("/tickets/:id", s.workflow(s.edit))
	api.Post("/delegations", s.workflow(s.createDelegation))
	api.Get("/delegations", s.workflow(s.listDelegations))
	api.Delete("/delegations/:id", s.workflow(s.deleteDelegation))
}

// workflow adapts a handler that needs the WorkflowService.
func (s *server) workflow(h func(c *fiber.Ctx, w WorkflowService) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.cfg.Workflow == nil {
			return notEnabled("ticket workflow")
		}
		return h(c, s.cfg.Workflow)
	}
}

// cancel answers POST /api/v1/tickets/:id/cancel; the body is optional.
func (s *server) cancel(c *fiber.Ctx, w WorkflowService) error {
	return s.decide(c, false, w.Cancel)
}

// done answers POST /api/v1/tickets/:id/done; the body is optional.
func (s *server) done(c *fiber.Ctx, w WorkflowService) error {
	return s.decide(c, false, w.Done)
}

// extend answers POST /api/v1/tickets/:id/extend.
func (s *server) extend(c *fiber.Ctx, w WorkflowService) error {
	var req wire.ExtendTicket
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	t, err := w.Extend(c.UserContext(), ticketID(c), in)
	return s.writeTicket(c, t, err)
}

// edit answers PUT /api/v1/tickets/:id: the edited ticket, resent.
func (s *server) edit(c *fiber.Ctx, w WorkflowService) error {
	var req wire.EditTicket
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	in, err := req.Input(s.cfg.Now())
	if err != nil {
		return err
	}
	t, err := w.Edit(c.UserContext(), ticketID(c), in)
	return s.writeTicket(c, t, err)
}
