package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

func runTickets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: jit tickets list|get ID")
	}
	var c clientFlags
	fs := newFlagSet("tickets "+args[0], stderr)
	c.bind(fs, true)
	switch args[0] {
	case "list":
		state := fs.String("state", "", "only tickets in this state")
		mine := fs.Bool("mine", false, "only tickets I requested or benefit from")
		pending := fs.Bool("pending-for-me", false, "only tickets waiting for my decision")
		// The list's other filters and orders (GET /api/v1/tickets), flag name -> query parameter.
		more := map[string]*string{}
		for _, f := range []struct{ flag, param, usage string }{
			{"requester", "requester", "only tickets this email requested"},
			{"beneficiary", "beneficiary", "only tickets for this email"},
			{"account", "account", "only tickets for this account id"},
			{"permission-set", "permission_set", "only tickets for this permission set"},
			{"from", "from", "only tickets whose window ends after this RFC 3339 time"},
			{"to", "to", "only tickets whose window starts before this RFC 3339 time"},
			{"search", "q", "only tickets whose id, reason, people, account or permission set contain this text"},
			{"sort", "sort", "order by created (default), start, end or account"},
			{"order", "order", "desc (default) or asc"},
		} {
			more[f.param] = fs.String(f.flag, "", f.usage)
		}
		if pos, err := parseFlags(fs, args[1:]); err != nil {
			return err
		} else if len(pos) > 0 {
			return fmt.Errorf("unexpected argument %q", pos[0])
		}
		if err := c.check(); err != nil {
			return err
		}
		q := url.Values{}
		if *state != "" {
			q.Set("state", *state)
		}
		if *mine {
			q.Set("mine", "true")
		}
		if *pending {
			q.Set("pending_for_me", "true")
		}
		for param, v := range more {
			if *v != "" {
				q.Set(param, *v)
			}
		}
		var out struct {
			Tickets []*broker.Ticket `json:"tickets"`
		}
		// Every page: the server pages the list (next_cursor).
		for {
			var page struct {
				Tickets    []*broker.Ticket `json:"tickets"`
				NextCursor string           `json:"next_cursor"`
			}
			if err := c.call(ctx, "GET", "/api/v1/tickets?"+q.Encode(), nil, &page); err != nil {
				return err
			}
			out.Tickets = append(out.Tickets, page.Tickets...)
			if page.NextCursor == "" {
				break
			}
			q.Set("cursor", page.NextCursor)
		}
		if c.output == "json" {
			return printJSON(stdout, out)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tACCOUNT\tPERMISSION SET\tREQUESTER\tSTART\tEND\tOUTCOME")
		for _, t := range out.Tickets {
			outcome := t.Outcome()
			if outcome == "" {
				outcome = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(t.ID), shown(string(t.State)), shown(t.AccountID), shown(t.PermissionSet), shown(t.Requester), t.Start.Format(time.RFC3339), t.End.Format(time.RFC3339), shown(outcome))
		}
		return tw.Flush()
	case "get":
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		} else if len(pos) != 1 {
			return errors.New("usage: jit tickets get ID")
		}
		if err := c.check(); err != nil {
			return err
		}
		var t broker.Ticket
		if err := c.call(ctx, "GET", "/api/v1/tickets/"+url.PathEscape(pos[0]), nil, &t); err != nil {
			return err
		}
		return printTicket(stdout, c.output, &t)
	}
	return fmt.Errorf("unknown tickets command %q: use list or get", args[0])
}

// runDecide runs approve, reject, terminate, cancel and done, which share
// their shape: a ticket id, an optional comment, the ticket printed.
// approve and reject also send the revision decided: --revision, or the
// ticket's current revision, read first and shown on stderr, so an
// approval never lands on a revision edited in between.
func runDecide(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet(verb, stderr)
	c.bind(fs, true)
	comment := fs.String("comment", "", "comment for the record")
	decision := verb == "approve" || verb == "reject"
	var revision *int
	if decision {
		revision = fs.Int("revision", 0, "the revision of the ticket you decide (default: its current one, shown before deciding)")
	}
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		if decision {
			return fmt.Errorf("usage: jit %s ID [--revision N] [--comment TEXT]", verb)
		}
		return fmt.Errorf("usage: jit %s ID [--comment TEXT]", verb)
	}
	if err := c.check(); err != nil {
		return err
	}
	if verb == "reject" && *comment == "" {
		return errors.New("--comment is required to reject")
	}
	path := "/api/v1/tickets/" + url.PathEscape(pos[0])
	var body any
	switch {
	case decision:
		if *revision < 0 {
			return errors.New("--revision must be a positive number")
		}
		if *revision == 0 {
			var cur broker.Ticket
			if err := c.call(ctx, "GET", path, nil, &cur); err != nil {
				return err
			}
			*revision = cur.Revision
			fmt.Fprintf(stderr, "Deciding revision %d of ticket %s: %s in %s for %s, %s to %s\n", cur.Revision, shown(cur.ID),
				shown(cur.PermissionSet), shown(cur.AccountID), strings.Join(shownAll(cur.Beneficiaries), ", "),
				cur.Start.Format(time.RFC3339), cur.End.Format(time.RFC3339))
		}
		body = wire.Decide{Comment: *comment, Revision: *revision}
	case *comment != "":
		body = map[string]string{"comment": *comment}
	}
	var t broker.Ticket
	if err := c.call(ctx, "POST", path+"/"+verb, body, &t); err != nil {
		return err
	}
	return printTicket(stdout, c.output, &t)
}
