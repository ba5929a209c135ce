package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jitaccess/jit/console/wire"
)

// accountID is a 12-digit AWS account id; anything else given to
// --account is an account's name.
var accountID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{12}$`) })

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runRequest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in wire.CreateTicket
	var forList, accountList stringList
	fs := newFlagSet("request", stderr)
	c.bind(fs, true)
	fs.Var(&accountList, "account", "AWS account: its 12-digit id or its name (repeatable, or comma-separated: one ticket per account, linked as a group)")
	fs.StringVar(&in.PermissionSet, "permission-set", "", "permission set name")
	fs.Var(&forList, "for", "beneficiary email (repeatable; default: me)")
	fs.StringVar(&in.Start, "start", "now", "start: now or RFC 3339")
	fs.StringVar(&in.Duration, "duration", "", "how long, e.g. 1h or 30m")
	fs.StringVar(&in.End, "end", "", "end, RFC 3339 (instead of --duration)")
	fs.StringVar(&in.Reason, "reason", "", "why you need access")
	fs.BoolVar(&in.BreakGlass, "break-glass", false, "emergency: grant yourself access now, without approval, under a break-glass rule (everyone it names is told; a second person reviews it)")
	wait := fs.Bool("wait", false, "wait for the decision: exit 0 once approved, non-zero when rejected, cancelled or expired")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	in.Beneficiaries = forList
	api := c.api()
	var ids []string
	for _, list := range accountList {
		for a := range strings.SplitSeq(list, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			id, err := accountIDOf(ctx, api, a)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
	}
	switch len(ids) {
	case 0:
	case 1:
		in.AccountID = ids[0]
	default:
		in.Accounts = ids
	}
	if len(in.Accounts) > 0 && *wait {
		return errors.New("--wait takes one account")
	}
	if ((in.AccountID == "" && len(in.Accounts) == 0) || in.PermissionSet == "" || in.Reason == "" || (in.Duration == "" && in.End == "")) && stdinIsTerminal() {
		if err := promptRequest(ctx, api, &in, os.Stdin, stderr); err != nil {
			return err
		}
	}
	switch {
	case in.AccountID == "" && len(in.Accounts) == 0:
		return errors.New("--account is required")
	case in.PermissionSet == "":
		return errors.New("--permission-set is required")
	case in.Reason == "":
		return errors.New("--reason is required")
	case in.Duration == "" && in.End == "":
		return errors.New("give --duration or --end")
	case in.Duration != "" && in.End != "":
		return errors.New("give --duration or --end, not both")
	}
	if in.Start == "now" {
		in.Start = ""
	}
	t, err := api.CreateTicket(ctx, in)
	if err != nil {
		return err
	}
	if !*wait {
		return printTicket(stdout, c.output, &t)
	}
	// The status goes to stderr, stdout keeps the ticket (--output json).
	fmt.Fprintf(stderr, "Requested ticket %s; waiting for the decision (Ctrl-C stops waiting, the request stays)\n", shown(t.ID))
	t, werr := waitDecision(ctx, api, t.ID, stderr, isTerminal(stderr))
	if t.ID == "" {
		return werr
	}
	if err := printTicket(stdout, c.output, &t); err != nil {
		return err
	}
	return werr
}

// printTicket writes one ticket for a person or, with --output json, a
// script. While it waits for decisions, it shows what the server says the
// open round needs (wire.Ticket.Deciding): a pending extension's new end
// and reason, the stage and quorum progress, the deadline, who has not
// approved yet, and whether (and for whom) the caller may decide.
func printTicket(w io.Writer, output string, t *wire.Ticket) error {
	if output == "json" {
		return printJSON(w, t)
	}
	fmt.Fprintf(w, "Ticket:          %s (revision %d)\n", shown(t.ID), t.Revision)
	fmt.Fprintf(w, "State:           %s\n", shown(string(t.State)))
	if t.Outcome != "" {
		fmt.Fprintf(w, "Outcome:         %s\n", shown(t.Outcome))
	}
	fmt.Fprintf(w, "Account:         %s\n", shown(t.AccountID))
	if t.Group != "" {
		fmt.Fprintf(w, "Group:           %s, one ticket per account: %s\n", shown(t.Group), strings.Join(shownAll(t.GroupTickets), ", "))
	}
	fmt.Fprintf(w, "Permission set:  %s\n", shown(t.PermissionSet))
	fmt.Fprintf(w, "Requester:       %s\n", shown(t.Requester))
	fmt.Fprintf(w, "Beneficiaries:   %s\n", strings.Join(shownAll(t.Beneficiaries), ", "))
	fmt.Fprintf(w, "Window:          %s to %s (%s)\n", t.Start.Format(time.RFC3339), t.End.Format(time.RFC3339), t.End.Sub(t.Start))
	fmt.Fprintf(w, "Reason:          %s\n", shown(t.Reason))
	if t.BreakGlass != nil {
		fmt.Fprintf(w, "Break-glass:     granted without approval; %s\n", breakGlassReview(t))
	}
	if d := t.Deciding; d != nil {
		if d.Extension {
			fmt.Fprintf(w, "Extension:       to %s (from %s): %s\n", d.End.Format(time.RFC3339), d.PreviousEnd.Format(time.RFC3339), shown(d.Reason))
		}
		fmt.Fprintf(w, "Stage:           %s\n", stageProgress(d))
		fmt.Fprintf(w, "Decide by:       %s\n", d.Deadline.Format(time.RFC3339))
		fmt.Fprintf(w, "Waiting for:     %s\n", strings.Join(shownAll(d.WaitingFor), ", "))
		switch {
		case d.MayDecide && d.For != "":
			fmt.Fprintf(w, "You decide:      for %s\n", shown(d.For))
		case d.MayDecide:
			fmt.Fprintln(w, "You decide:      yes")
		}
	} else if len(t.PendingApprovers) > 0 {
		fmt.Fprintf(w, "Waiting for:     %s\n", strings.Join(shownAll(t.PendingApprovers), ", "))
	}
	for _, a := range t.Approvals {
		fmt.Fprintf(w, "Approved by:     %s at %s %s\n", shown(a.Actor()), a.At.Format(time.RFC3339), shown(a.Comment))
	}
	for _, d := range t.Done {
		fmt.Fprintf(w, "Done:            %s at %s (their access ended)\n", shown(d.By), d.At.Format(time.RFC3339))
	}
	for _, r := range t.Reviews {
		fmt.Fprintf(w, "Reviewed by:     %s at %s %s\n", shown(r.By), r.At.Format(time.RFC3339), shown(r.Comment))
	}
	if t.Closed != nil {
		fmt.Fprintf(w, "Closed by:       %s at %s %s\n", shown(t.Closed.Actor()), t.Closed.At.Format(time.RFC3339), shown(t.Closed.Comment))
	}
	return nil
}
