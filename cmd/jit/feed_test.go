package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// feed opens GET /api/v1/events on h as user and returns its events
// (name and data) as they come; the stream is open when it returns.
func (h *harness) feed(user string) <-chan [2]string {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", h.apiURL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+h.token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		h.t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan [2]string, 100)
	sc := bufio.NewScanner(resp.Body)
	next := func() ([2]string, bool) {
		var ev [2]string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev[0] != "":
				return ev, true
			case strings.HasPrefix(line, "event: "):
				ev[0] = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev[1] = strings.TrimPrefix(line, "data: ")
			}
		}
		return ev, false
	}
	if ev, ok := next(); !ok || ev[0] != "ready" {
		h.t.Fatalf("first event %v, want ready", ev)
	}
	go func() {
		defer resp.Body.Close()
		defer close(out)
		for {
			ev, ok := next()
			if !ok {
				return
			}
			out <- ev
		}
	}()
	return out
}

// waitEvent waits for a ticket event about id in state, skipping others.
func waitEvent(t *testing.T, events <-chan [2]string, id string, state broker.State) {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the feed ended before ticket %s became %s", id, state)
			}
			var te struct {
				ID    string       `json:"id"`
				State broker.State `json:"state"`
			}
			if ev[0] == "ticket" && json.Unmarshal([]byte(ev[1]), &te) == nil && te.ID == id && te.State == state {
				return
			}
		case <-timeout:
			t.Fatalf("no event for ticket %s becoming %s", id, state)
		}
	}
}

// The live feed works across replicas: bob listens on one server; a
// ticket filed and approved through another is announced to him (Redis
// pub/sub), and not to dave, who may not see it.
func TestLiveFeedAcrossReplicas(t *testing.T) {
	a := newHarness(t)
	b := a.replica(t, redisAddr)
	bob, dave := a.feed("bob@example.com"), a.feed("dave@example.com")
	tk := b.requestReadOnly("live feed")
	waitEvent(t, bob, tk.ID, broker.StatePending)
	if _, errOut, err := b.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	waitEvent(t, bob, tk.ID, broker.StateApproved)
	// dave's stream carries nothing about alice's ticket.
	select {
	case ev := <-dave:
		if strings.Contains(ev[1], tk.ID) {
			t.Fatalf("dave heard of alice's ticket: %v", ev)
		}
	default:
	}
}

// jit tickets list reads every page: 1,200 tickets waiting for bob (more
// than one page of 1,000) all come back, and its filters reach the server.
func TestTicketsListPagesAndFilters(t *testing.T) {
	h := newHarness(t)
	ids := h.seedPending(1200)
	list := func(args ...string) []broker.Ticket {
		t.Helper()
		out, errOut, err := h.jit("bob@example.com", append([]string{"tickets", "list", "--output", "json"}, args...)...)
		if err != nil {
			t.Fatalf("jit tickets list %v: %v %s", args, err, errOut)
		}
		var got struct{ Tickets []broker.Ticket }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		return got.Tickets
	}
	all := list("--pending-for-me")
	if len(all) != 1200 || all[0].ID != ids[1199] || all[1199].ID != ids[0] {
		t.Fatalf("pending for bob: %d tickets; want 1200, newest first, the oldest last", len(all))
	}
	prod := list("--pending-for-me", "--account", "333333333333", "--order", "asc")
	if len(prod) != 400 || prod[0].ID != ids[2] {
		t.Fatalf("prod, oldest first: %d tickets, first %v", len(prod), prod[0].ID)
	}
	if one := list("--search", "seeded ticket 0042"); len(one) != 1 || one[0].ID != ids[42] {
		t.Fatalf("search: %d tickets", len(one))
	}
}
