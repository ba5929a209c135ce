package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// meInfo is GET /api/v1/me.
type meInfo struct {
	Email            string   `json:"email"`
	Groups           []string `json:"groups"`
	Admin            bool     `json:"admin"`
	RequestForOthers bool     `json:"request_for_others"`
	MayRequest       []struct {
		PermissionSet string   `json:"permission_set"`
		Accounts      []string `json:"accounts"`
	} `json:"may_request"`
	Approves  []string `json:"approves"`
	Truncated bool     `json:"truncated,omitempty"`
}

func whoami(ctx context.Context, c clientFlags) (meInfo, error) {
	var me meInfo
	err := c.call(ctx, "GET", "/api/v1/me", nil, &me)
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
	for _, r := range me.MayRequest {
		fmt.Fprintf(stdout, "  %s in %s\n", shown(r.PermissionSet), shown(strings.Join(r.Accounts, ", ")))
	}
	if me.Truncated {
		fmt.Fprintln(stdout, "  (list cut short)")
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
