package main

import (
	"context"
	"fmt"
	"io"
)

// runConsole opens an AWS console sign-in link for a ticket (or a
// group's member, or my active ticket of a pair: ticketSelector) in the
// browser, or prints it with --url-only or when no browser can be opened
// (GET /tickets/{id}/console).
func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("console", stderr)
	c.bind(fs, false)
	var sel ticketSelector
	sel.bind(fs)
	region := fs.String("region", "", "open the console in this region")
	dest := fs.String("destination", "", "console URL to open (default: console home)")
	urlOnly := fs.Bool("url-only", false, "print the sign-in link instead of opening it")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := sel.check(); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	var link string
	err := sel.use(ctx, c, func(ticket string) (err error) {
		if link, err = c.api().ConsoleURL(ctx, ticket, *region, *dest); err != nil {
			return fmt.Errorf("no console link for ticket %s: %w", ticket, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !*urlOnly && openBrowser(link) == nil {
		fmt.Fprintln(stderr, "Opened the AWS console in your browser (the link works once, for a few minutes).")
		return nil
	}
	_, err = fmt.Fprintln(stdout, shown(link))
	return err
}
