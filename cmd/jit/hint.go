package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
)

// newGrants wires the reading of what permission sets grant, for
// least-privilege hints: a role's policies through IAM in each account
// (aws.management_role, which then needs iam:ListRolePolicies,
// iam:GetRolePolicy, iam:ListAttachedRolePolicies, iam:GetPolicy and
// iam:GetPolicyVersion), and with aws.identity_center an Identity Center
// permission set's policies through sso-admin.
func newGrants(cfg aws.Config, c AWSConfig, iamClients *federation.IAMClients) broker.GrantReader {
	g := &federation.Grants{IAM: iamClients.Reader, Partition: c.Partition}
	if ic := c.IdentityCenter; ic.InstanceARN != "" {
		g.SSOAdmin = ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		})
		g.InstanceARN = ic.InstanceARN
	}
	return g
}

// hintInput is what `jit hint` takes.
type hintInput struct {
	clientFlags
	ticket string
	policy bool
}

// runHint runs `jit hint ID [--policy] [--output json]`: the ticket's
// least-privilege hint, or with --policy only the policy document.
func runHint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in hintInput
	fs := newFlagSet("hint", stderr)
	in.bind(fs, true)
	fs.BoolVar(&in.policy, "policy", false, "print only the IAM policy document of the actions used, ready to copy")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return errors.New("usage: jit hint ID [--policy] [--output json]")
	}
	in.ticket = pos[0]
	if err := in.check(); err != nil {
		return err
	}
	return hint(ctx, in, stdout)
}

// hint fetches and prints a ticket's hint.
func hint(ctx context.Context, in hintInput, stdout io.Writer) error {
	h, err := in.api().Hint(ctx, in.ticket)
	if err != nil {
		return err
	}
	if in.policy {
		if h.Policy == "" {
			return fmt.Errorf("ticket %s used no actions: there is no policy to print", in.ticket)
		}
		_, err := fmt.Fprintln(stdout, h.Policy)
		return err
	}
	if in.output == "json" {
		return printJSON(stdout, h)
	}
	fmt.Fprintf(stdout, "Ticket %s (%s in %s): %s.\n", shown(h.TicketID), shown(h.PermissionSet), shown(h.AccountID), shown(h.Summary))
	if len(h.Actions) > 0 {
		fmt.Fprintln(stdout, "\nActions used:")
		for _, a := range h.Actions {
			fmt.Fprintln(stdout, "  "+shown(a))
		}
	}
	if len(h.Denied) > 0 {
		fmt.Fprintln(stdout, "\nRefused (left out of the policy):")
		for _, a := range h.Denied {
			fmt.Fprintln(stdout, "  "+shown(a))
		}
	}
	if g := h.Granted; g != nil && len(g.Policies) > 0 {
		fmt.Fprintf(stdout, "\nPolicies of %s: %s\n", shown(h.PermissionSet), shown(strings.Join(g.Policies, ", ")))
	}
	if h.GrantError != "" {
		fmt.Fprintf(stdout, "\nWhat %s grants could not be read: %s\n", shown(h.PermissionSet), shown(h.GrantError))
	}
	if h.Policy != "" {
		fmt.Fprintln(stdout, "\nA policy with these actions (jit hint "+shown(h.TicketID)+" --policy prints only it):")
		fmt.Fprintln(stdout, h.Policy)
	}
	return nil
}

// runAdminUsage runs `jit admin usage [--output json]`: per permission
// set, how much of what it grants its ended tickets used.
func runAdminUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("admin usage", stderr)
	c.bind(fs, true)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := c.check(); err != nil {
		return err
	}
	u, err := c.api().Usage(ctx)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, u)
	}
	if len(u.PermissionSets) == 0 {
		_, err := fmt.Fprintln(stdout, "No ended tickets.")
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PERMISSION SET\tTICKETS\tPENDING\tACTIONS USED\tSERVICES\tGRANTED\tUSED")
	for _, p := range u.PermissionSets {
		granted, ratio := "-", "-"
		if p.Granted > 0 {
			granted = fmt.Sprint(p.Granted)
			if p.All {
				granted += " (all)"
			}
			ratio = fmt.Sprintf("%.2f%%", 100*p.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", shown(p.PermissionSet), p.Tickets, p.Pending, len(p.Actions), len(p.Services), granted, ratio)
	}
	return tw.Flush()
}
