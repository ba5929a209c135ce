package console

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// ActivityViewer looks up what was done in AWS during a ticket's window.
// It is asserted on the Service at run time, so TicketService fakes need
// not implement it.
type ActivityViewer interface {
	// Activity returns the ticket's CloudTrail events, newest first.
	// EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, EUNAVAILABLE.
	Activity(ctx context.Context, id string) ([]broker.ActivityEvent, error)
}

var _ ActivityViewer = (*broker.Service)(nil)

// activity answers GET /api/v1/tickets/:id/activity with
// {"events": [...]}, newest first.
func (s *server) activity(c *fiber.Ctx) error {
	if s.cfg.Activity == nil {
		return notEnabled("activity lookup")
	}
	evs, err := s.cfg.Activity.Activity(c.UserContext(), ticketID(c))
	if err != nil {
		return err
	}
	out := wire.Activity{Events: make([]broker.ActivityEvent, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, wire.NewActivityEvent(e))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}
