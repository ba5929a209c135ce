package console

import (
	"context"
	"strconv"

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
func (r createRequest) input() (broker.CreateTicketInput, error) {
	in := broker.CreateTicketInput{
		AccountID:     r.AccountID,
		PermissionSet: r.PermissionSet,
		Beneficiaries: r.Beneficiaries,
		Reason:        r.Reason,
	}
	start, _, err := parseStart(r.Start) // "now" is the zero start: the service's now
	if err != nil {
		return in, err
	}
	in.Start = start
	end, dur, err := endOrDuration(r.End, r.Duration, true)
	if err != nil {
		return in, err
	}
	// The service counts a duration from the start it settles on (a start
	// just in the past becomes now), so the window keeps its length.
	in.End, in.Duration = end, dur
	return in, nil
}

// createTicket files a ticket: 201 with the ticket.
func (s *server) createTicket(c *fiber.Ctx) error {
	var req createRequest
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	t, err := s.cfg.Service.CreateTicket(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(utcTicket(t))
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

// commentRequest is the body of terminate.
type commentRequest struct {
	Comment string `json:"comment"`
}

// DecisionRequest is the body of approve and reject: the comment, and the
// revision of the ticket the approver saw. A decision on a revision the
// ticket is no longer at is refused with 409; 0 (left out) is not checked,
// for scripts written before revisions were sent.
type DecisionRequest struct {
	Comment  string `json:"comment"`
	Revision int    `json:"revision,omitempty"`
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
	var req DecisionRequest
	if err := decodeBody(c, &req, bodyRequired); err != nil {
		return err
	}
	if req.Revision < 0 {
		return broker.Errorf(broker.EINVALID, "revision must be a positive number")
	}
	t, err := call(c.UserContext(), ticketID(c), req.Revision, req.Comment)
	if err != nil {
		return err
	}
	return c.JSON(utcTicket(t))
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
	c.ApprovalDeadline, c.PlannedAt = c.ApprovalDeadline.UTC(), c.PlannedAt.UTC()
	if e := c.Extension; e != nil {
		e.End, e.PreviousEnd, e.RequestedAt = e.End.UTC(), e.PreviousEnd.UTC(), e.RequestedAt.UTC()
		for i := range e.Approvals {
			e.Approvals[i].At = e.Approvals[i].At.UTC()
		}
		if e.Closed != nil {
			e.Closed.At = e.Closed.At.UTC()
		}
	}
	for i := range c.Revisions {
		r := &c.Revisions[i]
		r.Start, r.End = r.Start.UTC(), r.End.UTC()
		for j := range r.Approvals {
			r.Approvals[j].At = r.Approvals[j].At.UTC()
		}
		if r.Closed != nil {
			r.Closed.At = r.Closed.At.UTC()
		}
	}
	return c
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

// extendRequest is the body of POST /api/v1/tickets/:id/extend.
type extendRequest struct {
	// End is an RFC 3339 time; exactly one of End and Duration is required.
	End string `json:"end"`
	// Duration is counted from the ticket's current end.
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
}

// extend answers POST /api/v1/tickets/:id/extend.
func (s *server) extend(c *fiber.Ctx, w WorkflowService) error {
	var req extendRequest
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	end, dur, err := endOrDuration(req.End, req.Duration, true)
	if err != nil {
		return err
	}
	in := broker.ExtendInput{Reason: req.Reason, End: end, By: dur}
	t, err := w.Extend(c.UserContext(), ticketID(c), in)
	if err != nil {
		return err
	}
	return c.JSON(utcTicket(t))
}

// editRequest is the body of PUT /api/v1/tickets/:id: every field is
// optional and keeps the ticket's value when left out.
type editRequest struct {
	PermissionSet string   `json:"permission_set"`
	Beneficiaries []string `json:"beneficiaries"`
	Start         string   `json:"start"`
	End           string   `json:"end"`
	Duration      string   `json:"duration"`
	Reason        string   `json:"reason"`
}

// edit answers PUT /api/v1/tickets/:id: the edited ticket, resent.
func (s *server) edit(c *fiber.Ctx, w WorkflowService) error {
	var req editRequest
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	in := broker.EditInput{PermissionSet: req.PermissionSet, Beneficiaries: req.Beneficiaries, Reason: req.Reason}
	start, now, err := parseStart(req.Start)
	if err != nil {
		return err
	}
	in.Start = start
	if now {
		in.Start = s.cfg.Now().UTC()
	}
	end, dur, err := endOrDuration(req.End, req.Duration, false)
	if err != nil {
		return err
	}
	in.End, in.Duration = end, dur // a duration counts from the start the broker keeps
	t, err := w.Edit(c.UserContext(), ticketID(c), in)
	if err != nil {
		return err
	}
	return c.JSON(utcTicket(t))
}
