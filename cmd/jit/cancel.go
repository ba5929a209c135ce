package main

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/jitaccess/jit/broker"
)

// runSimple runs a ticket command that takes an id and an optional comment
// and prints the ticket: cancel and done.
func runSimple(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet(verb, stderr)
	c.bind(fs, true)
	comment := fs.String("comment", "", "comment for the record")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return fmt.Errorf("usage: jit %s ID [--comment TEXT]", verb)
	}
	if err := c.check(); err != nil {
		return err
	}
	var body any
	if *comment != "" {
		body = map[string]string{"comment": *comment}
	}
	var t broker.Ticket
	if err := c.call(ctx, "POST", "/api/v1/tickets/"+url.PathEscape(pos[0])+"/"+verb, body, &t); err != nil {
		return err
	}
	return printTicket(stdout, c.output, &t)
}

// runCancel runs `jit cancel ID`: the requester withdraws a pending or
// approved ticket.
func runCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runSimple(ctx, "cancel", args, stdout, stderr)
}
