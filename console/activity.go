package console

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
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

// activityEvent is one event as the API shows it.
type activityEvent struct {
	EventID        string   `json:"event_id"`
	EventTime      string   `json:"event_time"`
	EventSource    string   `json:"event_source"`
	EventName      string   `json:"event_name"`
	Region         string   `json:"region,omitempty"`
	Username       string   `json:"username,omitempty"`
	AccessKeyID    string   `json:"access_key_id,omitempty"`
	ReadOnly       bool     `json:"read_only"`
	ErrorCode      string   `json:"error_code,omitempty"`
	Resources      []string `json:"resources,omitempty"`
	SourceIdentity string   `json:"source_identity,omitempty"`
	// Shared: an Identity Center event of a role session another
	// overlapping ticket also granted (broker.ActivityEvent.Shared).
	Shared bool `json:"shared,omitempty"`
}

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
	out := make([]activityEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, activityEvent{
			EventID: e.EventID, EventTime: e.EventTime.UTC().Format(time.RFC3339), EventSource: e.EventSource,
			EventName: e.EventName, Region: e.Region, Username: e.Username, AccessKeyID: e.AccessKeyID,
			ReadOnly: e.ReadOnly, ErrorCode: e.ErrorCode, Resources: e.Resources, SourceIdentity: e.SourceIdentity,
			Shared: e.Shared,
		})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"events": out})
}
