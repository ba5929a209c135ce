package console

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
)

// delegationRequest is the body of POST /api/v1/delegations.
type delegationRequest struct {
	To string `json:"to"`
	// Start is an RFC 3339 time or "now"; empty means now.
	Start string `json:"start"`
	End   string `json:"end"`
}

// delegationsResponse is the body of GET /api/v1/delegations.
type delegationsResponse struct {
	Delegations []broker.Delegation `json:"delegations"`
}

// createDelegation answers POST /api/v1/delegations: 201 with the delegation.
func (s *server) createDelegation(c *fiber.Ctx, w WorkflowService) error {
	var req delegationRequest
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	start, _, err := parseStart(req.Start) // "now" is the zero start: the service's now
	if err != nil {
		return err
	}
	end, err := parseEnd(req.End)
	if err != nil {
		return err
	}
	in := broker.DelegateInput{To: req.To, Start: start, End: end}
	d, err := w.Delegate(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(utcDelegation(*d))
}

// listDelegations answers GET /api/v1/delegations: those the caller made or received.
func (s *server) listDelegations(c *fiber.Ctx, w WorkflowService) error {
	ds, err := w.Delegations(c.UserContext())
	if err != nil {
		return err
	}
	out := delegationsResponse{Delegations: make([]broker.Delegation, 0, len(ds))}
	for _, d := range ds {
		out.Delegations = append(out.Delegations, utcDelegation(d))
	}
	return c.JSON(out)
}

// deleteDelegation answers DELETE /api/v1/delegations/:id with 204.
func (s *server) deleteDelegation(c *fiber.Ctx, w WorkflowService) error {
	if err := w.DeleteDelegation(c.UserContext(), utils.CopyString(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func utcDelegation(d broker.Delegation) broker.Delegation {
	d.Start, d.End, d.CreatedAt = d.Start.UTC(), d.End.UTC(), d.CreatedAt.UTC()
	return d
}
