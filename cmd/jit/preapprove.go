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

// runPreApprove runs `jit preapprove --for EMAIL --account A
// --permission-set P (--duration 7d | --until T) [--start T] --reason TEXT`:
// approve at once that person's own tickets inside the window.
func runPreApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in wire.PreApprove
	fs := newFlagSet("preapprove", stderr)
	c.bind(fs, true)
	fs.StringVar(&in.For, "for", "", "the person pre-approved (email)")
	fs.StringVar(&in.AccountID, "account", "", "account (12-digit id or name)")
	fs.StringVar(&in.PermissionSet, "permission-set", "", "permission set name")
	var w windowFlags
	w.bind(fs, "until", "how long (instead of --until): 7d, 36h, ... (at most 30d)")
	fs.StringVar(&in.Reason, "reason", "", "why (required)")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case in.For == "":
		return errors.New("--for is required")
	case in.AccountID == "" || in.PermissionSet == "":
		return errors.New("--account and --permission-set are required")
	}
	start, end, dur, err := w.parse()
	if err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return errors.New("--reason is required")
	}
	in.Start, in.End = start, end
	if dur > 0 {
		in.Duration = dur.String()
	}
	api := c.api()
	id, err := accountIDOf(ctx, api, in.AccountID)
	if err != nil {
		return err
	}
	in.AccountID = id
	p, err := api.PreApprove(ctx, in)
	if err != nil {
		return err
	}
	return printPreApprovals(stdout, c.output, &p, []broker.PreApproval{p})
}

// runPreApprovals runs `jit preapprovals list [--all] [--person E]
// [--account A] [--permission-set P] [--ended true|false]` and `jit
// preapprovals revoke ID`.
func runPreApprovals(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: jit preapprovals list | revoke ID")
	}
	var c clientFlags
	fs := newFlagSet("preapprovals "+args[0], stderr)
	c.bind(fs, true)
	var all *bool
	var person, account, permissionSet, ended *string
	if args[0] == "list" {
		all = fs.Bool("all", false, "everyone's pre-approvals (administrators)")
		person = fs.String("person", "", "only those for this email")
		account = fs.String("account", "", "only those for this account (id or name)")
		permissionSet = fs.String("permission-set", "", "only those for this permission set")
		ended = fs.String("ended", "", "true: only those no longer in force (revoked or past their end); false: only those in force")
	}
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		if len(pos) > 0 {
			return fmt.Errorf("unexpected argument %q", pos[0])
		}
		if *ended != "" && *ended != "true" && *ended != "false" {
			return fmt.Errorf("--ended must be true or false, not %q", *ended)
		}
		if err := c.check(); err != nil {
			return err
		}
		api := c.api()
		q := url.Values{}
		if *all {
			q.Set("all", "true")
		}
		if *account != "" {
			id, err := accountIDOf(ctx, api, *account)
			if err != nil {
				return err
			}
			q.Set("account", id)
		}
		for param, v := range map[string]string{"person": *person, "permission_set": *permissionSet, "ended": *ended} {
			if v != "" {
				q.Set(param, v)
			}
		}
		// Every page: the server pages the list (next_cursor).
		out, err := api.AllPreApprovals(ctx, q)
		if err != nil {
			return err
		}
		if out.PreApprovals == nil {
			out.PreApprovals = []broker.PreApproval{}
		}
		return printPreApprovals(stdout, c.output, out, out.PreApprovals)
	case "revoke":
		if len(pos) != 1 {
			return errors.New("usage: jit preapprovals revoke ID")
		}
		if err := c.check(); err != nil {
			return err
		}
		p, err := c.api().RevokePreApproval(ctx, pos[0])
		if err != nil {
			return err
		}
		if c.output == "json" {
			return printJSON(stdout, p)
		}
		fmt.Fprintf(stdout, "Revoked pre-approval %s (tickets it approved keep their approval)\n", shown(p.ID))
		return nil
	}
	return fmt.Errorf("unknown preapprovals command %q: use list or revoke", args[0])
}

// printPreApprovals writes pre-approvals as a table, or v as JSON.
func printPreApprovals(w io.Writer, output string, v any, ps []broker.PreApproval) error {
	if output == "json" {
		return printJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tBY\tFOR\tACCOUNT\tPERMISSION SET\tSTART\tEND\tSTATE")
	for _, p := range ps {
		state := "in force"
		if p.RevokedAt != nil {
			state = "revoked by " + shown(p.RevokedBy)
		} else if !time.Now().Before(p.End) {
			state = "ended"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", shown(p.ID), shown(p.By), shown(p.For), shown(p.AccountID), shown(p.PermissionSet),
			p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), state)
	}
	return tw.Flush()
}
