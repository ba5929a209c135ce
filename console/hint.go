package console

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// HintViewer compares what tickets' sessions did with what their
// permission sets grant (least-privilege hints).
type HintViewer interface {
	// Hint returns a ticket's least-privilege hint. EUNAUTHENTICATED,
	// ENOTFOUND, EFORBIDDEN, EINVALID, EUNAVAILABLE.
	Hint(ctx context.Context, id string) (*broker.Hint, error)
	// Usage returns, per permission set, how much of what it grants its
	// ended tickets used (administrators). EUNAUTHENTICATED, EFORBIDDEN,
	// EUNAVAILABLE.
	Usage(ctx context.Context) (*broker.Usage, error)
}

var _ HintViewer = (*broker.Service)(nil)

// hint answers GET /api/v1/tickets/:id/hint with the ticket's
// least-privilege hint; without Config.Hints it is 503 (notEnabled).
func (s *server) hint(c *fiber.Ctx) error {
	if s.cfg.Hints == nil {
		return notEnabled("least-privilege hints")
	}
	h, err := s.cfg.Hints.Hint(c.UserContext(), ticketID(c))
	if err != nil {
		return err
	}
	out := *h
	out.ComputedAt = out.ComputedAt.UTC()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// usage answers GET /api/v1/admin/usage with the usage report.
func (s *server) usage(c *fiber.Ctx) error {
	if s.cfg.Hints == nil {
		return notEnabled("least-privilege hints")
	}
	u, err := s.cfg.Hints.Usage(c.UserContext())
	if err != nil {
		return err
	}
	out := *u
	out.ComputedAt = out.ComputedAt.UTC()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
