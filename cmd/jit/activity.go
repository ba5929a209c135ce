package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
)

// newActivity wires the CloudTrail activity lookup: LookupEvents in each
// ticket's account through aws.management_role (which then needs
// cloudtrail:LookupEvents as well), in aws.region. No setting of its own:
// CloudTrail's event history is per account and region, so a central
// account could not answer for the others.
func newActivity(cfg aws.Config, c AWSConfig, stsClient stscreds.AssumeRoleAPIClient) broker.ActivitySource {
	clients := &federation.CloudTrailClients{Config: cfg, STS: stsClient, RoleName: c.ManagementRole,
		Partition: c.Partition, Endpoint: c.Endpoint}
	a := &federation.Activity{Trail: clients.For}
	if ic := c.IdentityCenter; ic.IdentityStoreID != "" {
		store := identitystore.NewFromConfig(cfg, func(o *identitystore.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		})
		a.UserName = (&federation.UserNames{Store: store, IdentityStoreID: ic.IdentityStoreID}).UserName
		sso := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) {
			if c.Endpoint != "" {
				o.BaseEndpoint = aws.String(c.Endpoint)
			}
		})
		a.PermissionSetName = (&federation.PermissionSetNames{SSOAdmin: sso, InstanceARN: ic.InstanceARN}).Name
	}
	return a
}

// activityInput is what `jit activity` takes.
type activityInput struct {
	clientFlags
	ticket string
}

// runActivity runs `jit activity ID [--output json]`: what the ticket's
// beneficiaries did in AWS during its window, from CloudTrail.
func runActivity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var in activityInput
	fs := newFlagSet("activity", stderr)
	in.bind(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return errors.New("usage: jit activity ID [--output json]")
	}
	in.ticket = pos[0]
	if err := in.check(); err != nil {
		return err
	}
	return activity(ctx, in, stdout)
}

// activity fetches and prints a ticket's activity.
func activity(ctx context.Context, in activityInput, stdout io.Writer) error {
	out, err := in.api().Activity(ctx, in.ticket)
	if err != nil {
		return err
	}
	if out.Events == nil {
		out.Events = []broker.ActivityEvent{}
	}
	if in.output == "json" {
		return printJSON(stdout, out)
	}
	return printActivity(stdout, out.Events)
}

// printActivity writes events as a table, newest first as given. SHARED
// says "yes" for an Identity Center event another overlapping ticket of
// the same user and permission set shares (docs/revocation.md).
func printActivity(w io.Writer, evs []broker.ActivityEvent) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintln(w, "No activity.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT SOURCE\tEVENT NAME\tUSER\tACCESS KEY\tERROR\tSHARED")
	for _, e := range evs {
		shared := "-"
		if e.Shared {
			shared = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.EventTime.UTC().Format(time.RFC3339), shown(e.EventSource), shown(e.EventName), activityCell(e.Username), activityCell(e.AccessKeyID), activityCell(e.ErrorCode), shared)
	}
	return tw.Flush()
}

func activityCell(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return shown(s)
}
