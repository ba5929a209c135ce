package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// feedRetry is how long followFeed waits before opening the live feed
// again after it failed (the server ends each stream after 25 s by design;
// that reconnects at once).
var feedRetry = 2 * time.Second

// followFeed follows the server's live feed (GET /api/v1/events) until ctx
// ends: an event for each ticket written that the user may see, and an
// event with an empty ID each time the feed is (re)opened, when the caller
// should read again what it follows (changes may have been missed while
// the feed was closed). The channel closes when ctx ends.
func followFeed(ctx context.Context, api *client.Client) <-chan wire.TicketEvent {
	out := make(chan wire.TicketEvent, 16)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			body, err := api.Events(ctx)
			if err == nil {
				readFeed(ctx, body, out)
				body.Close()
				continue
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(feedRetry):
			}
		}
	}()
	return out
}

// readFeed reads one stream of server-sent events into out.
func readFeed(ctx context.Context, body io.Reader, out chan<- wire.TicketEvent) {
	sc := bufio.NewScanner(body)
	var name, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			var ev wire.TicketEvent
			switch {
			case name == "ready":
			case name == "ticket" && json.Unmarshal([]byte(data), &ev) == nil && ev.ID != "":
			default:
				name, data = "", ""
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
			name, data = "", ""
		case strings.HasPrefix(line, "event:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		}
	}
}

// waitPoll is how often --wait reads the ticket even without news from
// the feed (a server without a live feed, a missed event).
var waitPoll = 10 * time.Second

// waitDecision follows ticket id until it is decided: nil once approved or
// active, an error that says why when it ends otherwise. On a terminal the
// status is one line rewritten in place (with the time waited), else a
// line each time it changes.
func waitDecision(ctx context.Context, api *client.Client, id string, status io.Writer, live bool) (wire.Ticket, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feed := followFeed(ctx, api)
	poll := time.NewTicker(waitPoll)
	defer poll.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	began := time.Now()
	var t wire.Ticket
	last := ""
	show := func() {
		line := waitStatus(&t)
		if live {
			fmt.Fprintf(status, "\r\x1b[K%s (%s)", line, time.Since(began).Truncate(time.Second))
		} else if line != last {
			fmt.Fprintln(status, line)
		}
		last = line
	}
	read := true
	for {
		if read {
			var err error
			if t, err = api.Ticket(ctx, id); err != nil {
				if live {
					fmt.Fprintln(status)
				}
				return t, err
			}
			show()
			if done, err := decided(&t); done {
				if live {
					fmt.Fprintln(status)
				}
				return t, err
			}
		}
		read = false
		select {
		case <-ctx.Done():
			if live {
				fmt.Fprintln(status)
			}
			return t, fmt.Errorf("stopped waiting: ticket %s is %s", shown(id), t.State)
		case ev, ok := <-feed:
			read = ok && (ev.ID == "" || ev.ID == id)
		case <-poll.C:
			read = true
		case <-tick.C:
			if live {
				show()
			}
		}
	}
}

// waitStatus says in one line where the ticket stands.
func waitStatus(t *wire.Ticket) string {
	s := fmt.Sprintf("Ticket %s: %s", shown(t.ID), t.State)
	if t.State == broker.StatePending {
		if d := t.Deciding; d != nil {
			s += ", " + stageProgress(d)
			if len(d.WaitingFor) > 0 {
				s += ", waiting for " + strings.Join(shownAll(d.WaitingFor), ", ")
			}
		} else if len(t.PendingApprovers) > 0 {
			s += ", waiting for " + strings.Join(shownAll(t.PendingApprovers), ", ")
		}
	}
	return s
}

// decided reports whether the wait is over, and the error when it did not
// end with access.
func decided(t *wire.Ticket) (bool, error) {
	switch t.State {
	case broker.StateApproved, broker.StateActive:
		return true, nil
	case broker.StatePending:
		return false, nil
	}
	why := t.Outcome
	if why == "" {
		why = string(t.State)
	}
	if c := t.Closed; c != nil {
		why = fmt.Sprintf("%s by %s", t.State, shown(c.Actor()))
		if c.Comment != "" {
			why += ": " + shown(c.Comment)
		}
	}
	return true, fmt.Errorf("ticket %s was %s", shown(t.ID), shown(why))
}

// runTicketsWatch prints a line for each change of a ticket the user sees
// (with --mine, those they requested or benefit from), until interrupted.
func runTicketsWatch(ctx context.Context, c clientFlags, mine bool, stdout io.Writer) error {
	api := c.api()
	me := ""
	if mine {
		m, err := api.Me(ctx)
		if err != nil {
			return err
		}
		me = m.Email
	}
	names := map[string]string{}
	if a, err := api.Accounts(ctx); err == nil {
		names = accountNames(a)
	}
	st := newStyle(stdout)
	states := map[string]broker.State{}
	first := true
	for ev := range followFeed(ctx, api) {
		if ev.ID == "" {
			if first {
				first = false
				if c.output != "json" {
					fmt.Fprintln(stdout, "Watching tickets (Ctrl-C to stop)")
				}
			}
			continue
		}
		t, err := api.Ticket(ctx, ev.ID)
		if err != nil {
			if client.IsCode(err, broker.ENOTFOUND) || client.IsCode(err, broker.EFORBIDDEN) {
				continue
			}
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if mine && t.Requester != me && !containsFold(t.Beneficiaries, me) {
			continue
		}
		if c.output == "json" {
			if err := printJSONLine(stdout, ev); err != nil {
				return err
			}
			continue
		}
		change := string(t.State)
		if prev, ok := states[t.ID]; ok && prev != t.State {
			change = string(prev) + " -> " + string(t.State)
		}
		states[t.ID] = t.State
		fmt.Fprintf(stdout, "%s  %s  %s  %s in %s  %s  %s\n", ev.UpdatedAt.Local().Format("15:04:05"), shown(t.ID),
			st.state(t.State, change), shown(t.PermissionSet), accountLabel(t.AccountID, names), shown(t.Requester), relativeWindow(&t, time.Now()))
	}
	if ctx.Err() != nil {
		return nil // interrupted: the way to stop
	}
	return errors.New("the live feed ended")
}

// printJSONLine writes v as one line of JSON.
func printJSONLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(escapeJSON(data), '\n'))
	return err
}
