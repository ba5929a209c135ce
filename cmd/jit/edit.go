package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jitaccess/jit/console/wire"
)

// editInput is the body of PUT /api/v1/tickets/{id}; empty fields keep the
// runEdit runs `jit edit ID [...]`: change a rejected ticket and resend it
// as its next revision.
func runEdit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in wire.EditTicket
	var forList stringList
	fs := newFlagSet("edit", stderr)
	c.bind(fs, true)
	fs.StringVar(&in.PermissionSet, "permission-set", "", "new permission set")
	fs.Var(&forList, "for", "beneficiary email (repeatable; replaces the list)")
	fs.StringVar(&in.Start, "start", "", "new start: now or RFC 3339")
	fs.StringVar(&in.End, "end", "", "new end, RFC 3339")
	fs.StringVar(&in.Duration, "duration", "", "new length, e.g. 1h (from the start)")
	fs.StringVar(&in.Reason, "reason", "", "new reason")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return errors.New("usage: jit edit ID [--start T] [--end T | --duration D] [--reason TEXT] [--for EMAIL]... [--permission-set NAME]")
	}
	if err := c.check(); err != nil {
		return err
	}
	if in.End != "" && in.Duration != "" {
		return errors.New("give --end or --duration, not both")
	}
	in.Beneficiaries = forList
	t, err := c.api().EditTicket(ctx, pos[0], in)
	if err != nil {
		return err
	}
	if err := printTicket(stdout, c.output, &t); err != nil {
		return err
	}
	if c.output != "json" {
		fmt.Fprintf(stdout, "Earlier:         %d revision(s) kept\n", len(t.Revisions))
	}
	return nil
}
