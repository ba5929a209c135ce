package console

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// Reconciler runs the reconciler on demand.
type Reconciler interface {
	// ReconcileNow runs one pass for an administrator. EUNAUTHENTICATED, EFORBIDDEN.
	ReconcileNow(ctx context.Context) (broker.ReconcileReport, error)
}

// reconcile answers POST /api/v1/reconcile with what one pass did.
func (s *server) reconcile(c *fiber.Ctx) error {
	if s.cfg.Reconciler == nil {
		return notEnabled("reconciler")
	}
	rep, err := s.cfg.Reconciler.ReconcileNow(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(rep)
}
