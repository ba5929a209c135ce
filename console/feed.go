package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"sync"
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

// MaxFeedStreams is how many live feeds one user may hold open at once on
// one server (each holds a connection, goroutines and a buffer, and reads
// the ticket of every announcement it hears); one more is answered 429
// too_many_requests with Retry-After.
const MaxFeedStreams = 8

// feedStreams counts each user's open live feeds.
type feedStreams struct {
	mu   sync.Mutex
	open map[string]int
}

// take reserves a stream for user, or reports false at MaxFeedStreams.
func (f *feedStreams) take(user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open[user] >= MaxFeedStreams {
		return false
	}
	if f.open == nil {
		f.open = map[string]int{}
	}
	f.open[user]++
	return true
}

// release gives back a stream taken for user.
func (f *feedStreams) release(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.open[user]--; f.open[user] <= 0 {
		delete(f.open, user)
	}
}

// events answers GET /api/v1/events with server-sent events: "ready" once
// subscribed, then "ticket" (data: TicketEvent) for each ticket written
// that the caller may see. Without Config.Feed it is 503 (notEnabled).
func (s *server) events(c *fiber.Ctx) error {
	if s.feed == nil {
		return notEnabled("live feed")
	}
	u, ok := broker.UserFrom(c.UserContext())
	if !ok {
		return broker.Errorf(broker.EUNAUTHENTICATED, "authentication required")
	}
	if !s.streams.take(u.Email) {
		c.Set(fiber.HeaderRetryAfter, "1")
		return broker.Errorf(codeTooManyRequests, "at most %d live feeds may be open at once; close one (another tab) and try again", MaxFeedStreams)
	}
	// The handler returns before the stream is written: nothing of c may
	// be used inside the writer.
	ctx, cancel := context.WithTimeout(broker.WithUser(context.Background(), u), feedLifetime)
	stop := func() { cancel(); s.streams.release(u.Email) }
	ids, err := s.feed.Subscribe(ctx)
	if err != nil {
		stop()
		s.cfg.Logger.Error("subscribe to the ticket feed", "err", err)
		return broker.Errorf(broker.EUNAVAILABLE, "the live feed is unavailable")
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	svc, logger := s.cfg.Service, s.cfg.Logger
	stopping := c.Context().Done() // closed when the server shuts down
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer stop()
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
