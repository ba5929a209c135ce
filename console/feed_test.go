package console_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
)

// chanFeed announces what the test sends on ids.
type chanFeed struct{ ids chan string }

func (f chanFeed) Subscribe(ctx context.Context) (<-chan string, error) {
	out := make(chan string)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-f.ids:
				select {
				case out <- id:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// The live feed streams the tickets the caller may see and skips the
// others; an open stream does not hold up the server's shutdown (the
// cleanup shuts it down with the stream still open); without a feed the
// route is 503 (TestMissingCapability).
func TestEventsStreamsVisibleTickets(t *testing.T) {
	if r := newHarness(t).do(t, request{method: "GET", path: "/api/v1/events", token: token(t, "bob@example.com")}); r.status != 503 {
		t.Fatalf("without a feed: %d %s", r.status, r.body)
	}
	feed := chanFeed{ids: make(chan string)}
	h := newHarness(t, func(c *console.Config) { c.Feed = feed })
	h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) {
		mustUser(t, ctx, "bob@example.com")
		if id != "mine" {
			return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
		}
		tk := sampleTicket(id)
		tk.State = broker.StateApproved
		return tk, nil
	}
	req, _ := http.NewRequest("GET", "http://"+h.listen(t)+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, "bob@example.com"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		var ev []string
		for sc.Scan() {
			if sc.Text() == "" && len(ev) > 0 {
				return strings.Join(ev, "\n")
			}
			if !strings.HasPrefix(sc.Text(), ":") && !strings.HasPrefix(sc.Text(), "retry:") {
				ev = append(ev, sc.Text())
			}
		}
		t.Fatalf("the stream ended: %v", sc.Err())
		return ""
	}
	if ev := next(); ev != "event: ready\ndata: {}" {
		t.Fatalf("first event %q", ev)
	}
	feed.ids <- "hidden"
	feed.ids <- "mine"
	ev := next()
	if !strings.HasPrefix(ev, "event: ticket\ndata: ") || !strings.Contains(ev, `"id":"mine"`) || !strings.Contains(ev, `"state":"approved"`) {
		t.Fatalf("event %q, want ticket mine, approved (and nothing about hidden)", ev)
	}
}
