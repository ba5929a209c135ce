package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// TicketFeed tells which tickets change, in every replica
// (redisstore.Store.Subscribe).
type TicketFeed interface {
	// Subscribe returns the ids of tickets written from now on until ctx
	// ends, when the channel closes.
	Subscribe(ctx context.Context) (<-chan string, error)
}

// Feed timings: a comment line keeps proxies from closing a quiet stream,
// and the stream ends before the server's write timeout (30 s), for the
// page to reconnect (and read its list again, for what it missed).
const (
	feedPing     = 10 * time.Second
	feedLifetime = 25 * time.Second
)

// events answers GET /api/v1/events with server-sent events: "ready" once
// subscribed, then "ticket" (data: TicketEvent) for each ticket written
// that the caller may see. Without Config.Feed it is 404.
func (s *server) events(c *fiber.Ctx) error {
	if s.cfg.Feed == nil {
		return broker.Errorf(broker.ENOTFOUND, "not found")
	}
	u, ok := broker.UserFrom(c.UserContext())
	if !ok {
		return broker.Errorf(broker.EUNAUTHENTICATED, "authentication required")
	}
	// The handler returns before the stream is written: nothing of c may
	// be used inside the writer.
	ctx, cancel := context.WithTimeout(broker.WithUser(context.Background(), u), feedLifetime)
	ids, err := s.cfg.Feed.Subscribe(ctx)
	if err != nil {
		cancel()
		s.cfg.Logger.Error("subscribe to the ticket feed", "err", err)
		return broker.Errorf(broker.EUNAVAILABLE, "the live feed is unavailable")
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	svc, logger := s.cfg.Service, s.cfg.Logger
	stopping := c.Context().Done() // closed when the server shuts down
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer cancel()
		fmt.Fprint(w, "retry: 1000\nevent: ready\ndata: {}\n\n")
		if w.Flush() != nil {
			return
		}
		ping := time.NewTicker(feedPing)
		defer ping.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stopping:
				return
			case <-ping.C:
				fmt.Fprint(w, ": ping\n\n")
			case id, ok := <-ids:
				if !ok {
					return
				}
				t, err := svc.Ticket(ctx, id)
				if err != nil {
					if code := broker.ErrorCode(err); code != broker.ENOTFOUND && ctx.Err() == nil {
						logger.Warn("live feed: read ticket", "ticket", id, "err", err)
					}
					continue // not the caller's to see (or gone)
				}
				data, _ := json.Marshal(wire.TicketEvent{ID: t.ID, State: t.State, Version: t.Version, UpdatedAt: t.UpdatedAt.UTC()})
				fmt.Fprintf(w, "event: ticket\ndata: %s\n\n", data)
			}
			if w.Flush() != nil {
				return // the page went away
			}
		}
	})
	return nil
}
