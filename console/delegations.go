package console

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// createDelegation answers POST /api/v1/delegations: 201 with the delegation.
func (s *server) createDelegation(c *fiber.Ctx, w WorkflowService) error {
	var req wire.Delegate
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	d, err := w.Delegate(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(wire.NewDelegation(*d))
}

// listDelegations answers GET /api/v1/delegations: those the caller made or received.
func (s *server) listDelegations(c *fiber.Ctx, w WorkflowService) error {
	ds, err := w.Delegations(c.UserContext())
	if err != nil {
		return err
	}
	out := wire.Delegations{Delegations: make([]broker.Delegation, 0, len(ds))}
	for _, d := range ds {
		out.Delegations = append(out.Delegations, wire.NewDelegation(d))
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
