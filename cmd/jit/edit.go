package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/jitaccess/jit/broker"
)

// editInput is the body of PUT /api/v1/tickets/{id}; empty fields keep the
// ticket's values.
type editInput struct {
	PermissionSet string   `json:"permission_set,omitempty"`
	Beneficiaries []string `json:"beneficiaries,omitempty"`
	Start         string   `json:"start,omitempty"`
	End           string   `json:"end,omitempty"`
	Duration      string   `json:"duration,omitempty"`
	Reason        string   `json:"reason,omitempty"`
}

// runEdit runs `jit edit ID [...]`: change a rejected ticket and resend it
// as its next revision.
func runEdit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in editInput
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
	var t broker.Ticket
	if err := c.call(ctx, "PUT", "/api/v1/tickets/"+url.PathEscape(pos[0]), in, &t); err != nil {
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
