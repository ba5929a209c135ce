package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

func whoami(ctx context.Context, c clientFlags) (wire.Me, error) {
	me, err := c.api().Me(ctx)
	if err == nil && me.Access == nil {
		me.Access = &broker.Access{}
	}
	return me, err
}

// runWhoami prints who the server takes the caller for and what they may
// request and approve.
func runWhoami(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("whoami", stderr)
	c.bind(fs, true)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	me, err := whoami(ctx, c)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, me)
	}
	groups := "(none)"
	if len(me.Groups) > 0 {
		groups = shown(strings.Join(me.Groups, ", "))
	}
	fmt.Fprintf(stdout, "User:     %s\nServer:   %s\nGroups:   %s\n", shown(me.Email), shown(c.url), groups)
	if me.Admin {
		fmt.Fprintln(stdout, "Admin:    yes")
	}
	fmt.Fprintln(stdout, "May request:")
	if len(me.MayRequest) == 0 {
		fmt.Fprintln(stdout, "  (nothing)")
	}
	names := c.accountNames(ctx)
	for _, r := range me.MayRequest {
		accounts := make([]string, len(r.Accounts))
		for i, a := range r.Accounts {
			accounts[i] = accountLabel(a, names)
		}
		fmt.Fprintf(stdout, "  %s in %s\n", shown(r.PermissionSet), strings.Join(accounts, ", "))
	}
	if me.Truncated {
		fmt.Fprintln(stdout, "  (list cut short)")
	}
	if len(me.MayBreakGlass) > 0 {
		fmt.Fprintln(stdout, "May break glass (jit request --break-glass):")
		for _, r := range me.MayBreakGlass {
			fmt.Fprintf(stdout, "  %s in %s\n", shown(r.PermissionSet), shown(strings.Join(r.Accounts, ", ")))
		}
	}
	fmt.Fprintln(stdout, "Approves:")
	if len(me.Approves) == 0 {
		fmt.Fprintln(stdout, "  (nothing)")
	}
	for _, a := range me.Approves {
		fmt.Fprintf(stdout, "  %s\n", shown(a))
	}
	return nil
}
