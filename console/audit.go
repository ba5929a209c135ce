package console

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// AuditViewer reads the audit log for the caller.
type AuditViewer interface {
	// AuditEvents lists events matching q that the caller may see.
	// EUNAUTHENTICATED, EINVALID, EUNAVAILABLE.
	AuditEvents(ctx context.Context, q broker.AuditQuery) (broker.AuditPage, error)
	// Timeline lists a visible ticket's events, oldest first.
	// EUNAUTHENTICATED, ENOTFOUND, EUNAVAILABLE.
	Timeline(ctx context.Context, id string) ([]broker.AuditEvent, error)
}

var _ AuditViewer = (*broker.Service)(nil)

// auditRoutes mounts GET /audit and GET /tickets/:id/timeline; without
// Config.AuditView they answer notEnabled.
func (s *server) auditRoutes(api fiber.Router) {
	v := s.cfg.AuditView
	api.Get("/audit", func(c *fiber.Ctx) error {
		if v == nil {
			return notEnabled("audit log")
		}
		q := broker.AuditQuery{
			TicketID: c.Query("ticket"), User: c.Query("user"), AccountID: c.Query("account"),
			Type: c.Query("type"), Cursor: c.Query("cursor"),
		}
		var err error
		if q.Since, err = wire.ParseTime("since", c.Query("since")); err != nil {
			return err
		}
		if q.Until, err = wire.ParseTime("until", c.Query("until")); err != nil {
			return err
		}
		if l := c.Query("limit"); l != "" {
			if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 {
				return broker.Errorf(broker.EINVALID, "limit %q must be a positive number", l)
			}
		}
		if q.Cursor != "" && !streamID(q.Cursor) {
			return broker.Errorf(broker.EINVALID, "cursor %q is not one this API returned", q.Cursor)
		}
		page, err := v.AuditEvents(c.UserContext(), q)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(page)
	})
	api.Get("/tickets/:id/timeline", func(c *fiber.Ctx) error {
		if v == nil {
			return notEnabled("audit log")
		}
		evs, err := v.Timeline(c.UserContext(), ticketID(c))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(wire.Timeline{Events: evs})
	})
}

// streamID reports whether s looks like a Redis stream id ("123-4").
func streamID(s string) bool {
	if len(s) > 42 {
		return false
	}
	dash := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '-' && !dash && i > 0 && i < len(s)-1:
			dash = true
		default:
			return false
		}
	}
	return dash
}
