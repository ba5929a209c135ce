package console

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// Reviewer records reviews of a ticket's activity after the fact.
type Reviewer interface {
	// Review records the caller's review of what the ticket's sessions
	// did. EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, EINVALID, ECONFLICT.
	Review(ctx context.Context, id, comment string) (*broker.Ticket, error)
}

var _ Reviewer = (*broker.Service)(nil)

// review answers POST /api/v1/tickets/:id/review ({"comment"}, optional);
// without Config.Reviewer it is 503.
func (s *server) review(c *fiber.Ctx) error {
	if s.cfg.Reviewer == nil {
		return broker.Errorf(broker.EUNAVAILABLE, "reviews are not enabled on this server")
	}
	return s.decide(c, false, s.cfg.Reviewer.Review)
}
