package console

import (
	"context"
	"sync"
)

// feedBuffer is how many announcements a stream may fall behind before
// the hub ends it (the page then reconnects and reads its list again).
const feedBuffer = 64

// feedHub shares one subscription to the ticket feed among every open
// stream of this process: a thousand approvers' pages cost one Redis
// pub/sub connection per replica, not a thousand. It subscribes when the
// first stream opens and stays subscribed; when the upstream subscription
// ends (Redis went away), every stream is ended, and the next stream to
// open subscribes again. A stream too slow to take what is announced is
// ended too, rather than holding up the others.
type feedHub struct {
	feed TicketFeed

	mu   sync.Mutex
	up   bool // the upstream subscription runs
	subs map[chan string]struct{}
}

func newFeedHub(feed TicketFeed) *feedHub {
	return &feedHub{feed: feed, subs: map[chan string]struct{}{}}
}

// Subscribe implements TicketFeed: the ids of tickets written from now on
// until ctx ends or the hub ends the stream, when the channel closes.
func (h *feedHub) Subscribe(ctx context.Context) (<-chan string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.up {
		// Subscribed for the life of the process: streams come and go
		// every few seconds, the subscription need not.
		ids, err := h.feed.Subscribe(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		h.up = true
		go h.relay(ids)
	}
	out := make(chan string, feedBuffer)
	h.subs[out] = struct{}{}
	go func() {
		<-ctx.Done()
		h.mu.Lock()
		h.drop(out)
		h.mu.Unlock()
	}()
	return out, nil
}

// relay hands each announcement to every stream, then ends them all when
// the upstream subscription ends.
func (h *feedHub) relay(ids <-chan string) {
	for id := range ids {
		h.mu.Lock()
		for out := range h.subs {
			select {
			case out <- id:
			default:
				h.drop(out) // too slow: it reconnects and reads again
			}
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.up = false
	for out := range h.subs {
		h.drop(out)
	}
	h.mu.Unlock()
}

// drop ends one stream, once. h.mu is held.
func (h *feedHub) drop(out chan string) {
	if _, ok := h.subs[out]; ok {
		delete(h.subs, out)
		close(out)
	}
}

// streams counts the open streams (for tests).
func (h *feedHub) streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}
