package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// style colours human output: only on a terminal, never with NO_COLOR set
// to a non-empty value (no-color.org).
type style struct{ colour bool }

func newStyle(w io.Writer) style {
	return style{colour: isTerminal(w) && os.Getenv("NO_COLOR") == ""}
}

// state writes text in the colour of a ticket state.
func (s style) state(st broker.State, text string) string {
	text = shown(text)
	if !s.colour {
		return text
	}
	code := ""
	switch st {
	case broker.StateActive, broker.StateApproved:
		code = "32" // green
	case broker.StatePending:
		code = "33" // yellow
	case broker.StateRejected, broker.StateTerminated:
		code = "31" // red
	default:
		code = "90" // grey (every code two digits: see header)
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

// header writes a table heading: bold, with codes as long as state's, so
// tabwriter's columns stay aligned.
func (s style) header(text string) string {
	if !s.colour {
		return text
	}
	return "\x1b[01m" + text + "\x1b[0m"
}

// accountLabel is "111111111111 (dev)", or the id alone without a name.
func accountLabel(id string, names map[string]string) string {
	if n := names[id]; n != "" {
		return shown(id) + " (" + shown(n) + ")"
	}
	return shown(id)
}

// ago says how far t is from now in words: "in 42 min", "3 h ago".
func ago(t, now time.Time) string {
	d := t.Sub(now)
	future := d > 0
	d = time.Duration(math.Abs(float64(d)))
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; h < 10 && m != 0 {
			s = fmt.Sprintf("%d h %d min", h, m)
		} else {
			s = fmt.Sprintf("%d h", h)
		}
	default:
		s = fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// relativeWindow says where a ticket's window stands from now: "starts in
// 5 min", "ends in 42 min", "ended 3 h ago".
func relativeWindow(t *wire.Ticket, now time.Time) string {
	switch {
	case t.State == broker.StateActive:
		return "started " + ago(t.Start, now) + ", ends " + ago(t.End, now)
	case now.Before(t.Start) && (t.State == broker.StatePending || t.State == broker.StateApproved):
		return "starts " + ago(t.Start, now)
	case now.Before(t.End) && (t.State == broker.StatePending || t.State == broker.StateApproved):
		return "ends " + ago(t.End, now)
	case now.Before(t.End) && t.Closed != nil:
		return "closed " + ago(t.Closed.At, now)
	case now.Before(t.End):
		return "ends " + ago(t.End, now)
	}
	return "ended " + ago(t.End, now)
}

// accountNames reads the registry's account names for showing beside
// ids; nil (ids alone) when it cannot.
func (c *clientFlags) accountNames(ctx context.Context) map[string]string {
	a, err := c.api().Accounts(ctx)
	if err != nil {
		return nil
	}
	return accountNames(a)
}

// printTicketHuman is printTicket for a person: the account's name beside
// its id and where the window stands from now, in colour on a terminal.
func printTicketHuman(w io.Writer, t *wire.Ticket, names map[string]string) error {
	var b strings.Builder
	if err := printTicket(&b, "text", t); err != nil {
		return err
	}
	st := newStyle(w)
	now := time.Now()
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "State:") && st.colour:
			line = "State:           " + st.state(t.State, string(t.State)) + "\n"
		case strings.HasPrefix(line, "Account:") && names[t.AccountID] != "":
			line = "Account:         " + accountLabel(t.AccountID, names) + "\n"
		case strings.HasPrefix(line, "Window:"):
			line = strings.TrimSuffix(line, ")\n") + "; " + relativeWindow(t, now) + ")\n"
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}
