package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// runDelegate runs `jit delegate --to EMAIL [--start T] (--end T | --duration D)`:
// let someone decide my tickets for a while.
func runDelegate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in wire.Delegate
	fs := newFlagSet("delegate", stderr)
	c.bind(fs, true)
	fs.StringVar(&in.To, "to", "", "delegate's email")
	var w windowFlags
	w.bind(fs, "end", "how long (instead of --end): 7d, 168h, ...")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	if in.To == "" {
		return errors.New("--to is required")
	}
	var dur time.Duration
	var err error
	if in.Start, in.End, dur, err = w.parse(); err != nil {
		return err
	}
	if dur > 0 {
		from, err := w.startTime(time.Now().UTC())
		if err != nil {
			return err
		}
		in.End = from.Add(dur).Format(time.RFC3339)
	}
	d, err := c.api().Delegate(ctx, in)
	if err != nil {
		return err
	}
	return printDelegations(stdout, c.output, &d, []broker.Delegation{d})
}

// runDelegations runs `jit delegations list`, `jit delegations delete ID`
// (the delegator ends a delegation early) and `jit delegations decline ID`
// (the delegate refuses one made to them). delete and decline are the same
// request: whichever side of the delegation the caller is on may end it.
func runDelegations(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: jit delegations list | delete ID | decline ID")
	}
	var c clientFlags
	fs := newFlagSet("delegations "+args[0], stderr)
	c.bind(fs, true)
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		if len(pos) > 0 {
			return fmt.Errorf("unexpected argument %q", pos[0])
		}
		if err := c.check(); err != nil {
			return err
		}
		out, err := c.api().Delegations(ctx)
		if err != nil {
			return err
		}
		return printDelegations(stdout, c.output, out, out.Delegations)
	case "delete", "decline":
		if len(pos) != 1 {
			return fmt.Errorf("usage: jit delegations %s ID", args[0])
		}
		if err := c.check(); err != nil {
			return err
		}
		if err := c.api().DeleteDelegation(ctx, pos[0]); err != nil {
			return err
		}
		done := map[string]string{"delete": "Deleted", "decline": "Declined"}[args[0]]
		if c.output == "json" {
			return printJSON(stdout, map[string]string{strings.ToLower(done): pos[0]})
		}
		fmt.Fprintf(stdout, "%s delegation %s\n", done, pos[0])
		return nil
	}
	return fmt.Errorf("unknown delegations command %q: use list, delete or decline", args[0])
}

// printDelegations writes delegations as a table, or v as JSON.
func printDelegations(w io.Writer, output string, v any, ds []broker.Delegation) error {
	if output == "json" {
		return printJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFROM\tTO\tSTART\tEND")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", shown(d.ID), shown(d.From), shown(d.To), d.Start.Format(time.RFC3339), d.End.Format(time.RFC3339))
	}
	return tw.Flush()
}
