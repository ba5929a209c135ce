package main

import (
	"cmp"
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
		return errors.New("usage: jit tickets list|get ID|watch")
	}
	var c clientFlags
	fs := newFlagSet("tickets "+args[0], stderr)
	c.bind(fs, true)
	switch args[0] {
	case "list":
		state := fs.String("state", "", "only tickets in this state")
		mine := fs.Bool("mine", false, "only tickets I requested or benefit from")
		pending := fs.Bool("pending-for-me", false, "only tickets waiting for my decision")
		unreviewed := fs.Bool("unreviewed", false, "only tickets whose activity nobody has reviewed: ended ones, and break-glass ones (listed first)")
		breakGlass := fs.Bool("break-glass", false, "only break-glass tickets")
		// The list's other filters and orders (GET /api/v1/tickets), flag name -> query parameter.
		more := map[string]*string{}
		for _, f := range []struct{ flag, param, usage string }{
			{"requester", "requester", "only tickets this email requested"},
			{"beneficiary", "beneficiary", "only tickets for this email"},
			{"account", "account", "only tickets for this account id"},
			{"permission-set", "permission_set", "only tickets for this permission set"},
			{"from", "from", "only tickets whose window ends after this RFC 3339 time"},
			{"to", "to", "only tickets whose window starts before this RFC 3339 time"},
			{"group", "group", "only the tickets of this group (one request for several accounts)"},
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
		if *unreviewed {
			q.Set("unreviewed", "true")
		}
		if *breakGlass {
			q.Set("break_glass", "true")
		}
		for param, v := range more {
			if *v != "" {
				q.Set(param, *v)
			}
		}
		// Every page: the server pages the list (next_cursor).
		all, err := c.api().AllTickets(ctx, q)
		if err != nil {
			return err
		}
		out := wire.TicketList{Tickets: all, Total: len(all)}
		if out.Tickets == nil {
			out.Tickets = []wire.Ticket{}
		}
		if c.output == "json" {
			return printJSON(stdout, out)
		}
		return printTicketList(stdout, out.Tickets, *pending, c.accountNames(ctx))
	case "watch":
		mine := fs.Bool("mine", false, "only tickets I requested or benefit from")
		if err := c.parseNoArgs(fs, args[1:]); err != nil {
			return err
		}
		return runTicketsWatch(ctx, c, *mine, stdout)
	case "get":
		pos, err := parseFlags(fs, args[1:])
		if err != nil {
			return err
		} else if len(pos) != 1 {
			return errors.New("usage: jit tickets get ID (a ticket or a group)")
		}
		if err := c.check(); err != nil {
			return err
		}
		api := c.api()
		t, err := api.Ticket(ctx, pos[0])
		if g := notFoundGroup(ctx, api, pos[0], err); g != nil {
			return eachMember(g, c.output, c.accountNames(ctx), stdout, func(id string) (wire.Ticket, error) { return api.Ticket(ctx, id) })
		} else if err != nil {
			return err
		}
		if c.output != "json" {
			return printTicketHuman(stdout, &t, c.accountNames(ctx))
		}
		return printTicket(stdout, c.output, &t)
	}
	return fmt.Errorf("unknown tickets command %q: use list, get or watch", args[0])
}

// runDecide runs approve, reject, terminate, review, cancel and done,
// which share their shape: a ticket id, an optional comment, the ticket
// printed. All but approve and reject also take a group's id: each member
// the caller may act on is acted on, one line each (eachMember).
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
	api, id := c.api(), pos[0]
	var t wire.Ticket
	switch {
	case decision:
		if *revision < 0 {
			return errors.New("--revision must be a positive number")
		}
		if *revision == 0 {
			cur, err := api.Ticket(ctx, id)
			if err != nil {
				return err
			}
			*revision = cur.Revision
			fmt.Fprintf(stderr, "Deciding revision %d of ticket %s: %s in %s for %s, %s to %s\n", cur.Revision, shown(cur.ID),
				shown(cur.PermissionSet), shown(cur.AccountID), strings.Join(shownAll(cur.Beneficiaries), ", "),
				cur.Start.Format(time.RFC3339), cur.End.Format(time.RFC3339))
		}
		d := wire.Decide{Comment: *comment, Revision: *revision}
		if verb == "approve" {
			t, err = api.Approve(ctx, id, d)
		} else {
			t, err = api.Reject(ctx, id, d)
		}
	default:
		call := map[string]func(context.Context, string, wire.Comment) (wire.Ticket, error){
			"terminate": api.Terminate, "cancel": api.Cancel, "done": api.Done, "review": api.Review,
		}[verb]
		act := func(id string) (wire.Ticket, error) { return call(ctx, id, wire.Comment{Comment: *comment}) }
		// ID may name a group (several accounts in one request): each member.
		if t, err = act(id); err != nil {
			if g := notFoundGroup(ctx, api, id, err); g != nil {
				return eachMember(g, c.output, c.accountNames(ctx), stdout, act)
			}
		}
	}
	if err != nil {
		return err
	}
	return printTicket(stdout, c.output, &t)
}

// printTicketList writes tickets as a table. With decisions (the list of
// tickets pending for the caller) a DECISION column says what each one
// waits for (decidingSummary).
func printTicketList(w io.Writer, ts []wire.Ticket, decisions bool, names map[string]string) error {
	// tabwriter counts colour codes as text: the STATE heading carries
	// codes as long as each state's (style).
	st := newStyle(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "ID\t" + st.header("STATE") + "\tACCOUNT\tPERMISSION SET\tREQUESTER\tWHEN\tOUTCOME"
	if decisions {
		head += "\tDECISION"
	}
	fmt.Fprintln(tw, head)
	now := time.Now()
	for _, t := range ts {
		outcome := shown(cmp.Or(t.Outcome, "-"))
		if t.BreakGlass != nil {
			outcome = "BREAK-GLASS " + breakGlassReview(&t)
			if t.Outcome != "" {
				outcome += "; " + shown(t.Outcome)
			}
		}
		state := st.state(t.State, string(t.State))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", shown(t.ID), state, accountLabel(t.AccountID, names), shown(t.PermissionSet), shown(t.Requester), relativeWindow(&t, now), outcome)
		if decisions {
			fmt.Fprintf(tw, "\t%s", cmp.Or(decidingSummary(t.Deciding), "-"))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// breakGlassReview says where a break-glass ticket's review stands:
// "reviewed", "review by T", or "review overdue since T (escalated)".
func breakGlassReview(t *wire.Ticket) string {
	b := t.BreakGlass
	switch {
	case len(t.Reviews) > 0:
		return "reviewed"
	case !b.EscalatedAt.IsZero():
		return "review overdue since " + b.ReviewBy.Format(time.RFC3339) + " (escalated)"
	}
	return "review by " + b.ReviewBy.Format(time.RFC3339)
}

// decidingSummary says in one line what a ticket's open round waits for:
// "extension to T (reason); stage 2 of 3, 1 of 2 approvals; decide by T;
// for alice@example.com". "" when nothing waits.
func decidingSummary(d *broker.Deciding) string {
	if d == nil {
		return ""
	}
	var parts []string
	if d.Extension {
		parts = append(parts, fmt.Sprintf("extension to %s (%s)", d.End.Format(time.RFC3339), shown(d.Reason)))
	}
	parts = append(parts, stageProgress(d), "decide by "+d.Deadline.Format(time.RFC3339))
	if d.For != "" {
		parts = append(parts, "for "+shown(d.For))
	}
	return strings.Join(parts, "; ")
}

// stageProgress is "stage 2 of 3, 1 of 2 approvals".
func stageProgress(d *broker.Deciding) string {
	return fmt.Sprintf("stage %d of %d, %d of %d approvals", d.Stage, d.Stages, d.Approvals, d.Required)
}
