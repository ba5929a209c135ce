package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jitaccess/jit/broker"
)

// The hint's hand-computed answer for the demo's ReadOnlyAccess role
// (inline policy: s3:Get*, s3:List*, ec2:Describe*, iam:Get*, iam:List*,
// sts:GetCallerIdentity), counted over the action catalogue: 81 s3
// operations named Get*/List* (S3 and S3 Control share the prefix), 186
// ec2 Describe*, 65 iam Get*/List* and sts:GetCallerIdentity.
const (
	readOnlyGranted  = 333
	readOnlyServices = 4
	// PowerUserAccess (NotAction iam:*, organizations:*, plus iam:Get*
	// and iam:List*): every catalogue action but the 174 of iam and
	// organizations that are neither Get* nor List*.
	powerUserGranted = 17752
)

const hintE2EPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeRegions",
        "s3:ListAllMyBuckets",
        "sts:GetCallerIdentity"
      ],
      "Resource": "*"
    }
  ]
}`

// alice uses her ReadOnlyAccess ticket with the AWS CLI (three calls that
// work and one her role refuses); once bob terminates it, `jit hint` shows
// exactly what she used against what the role grants, read from the
// sandbox's CloudTrail and IAM, and --policy prints the policy alone. Dave
// may not see it. Across two tickets, `jit admin usage` tells carol how
// far below their grants the permission sets were used; bob may not.
func TestHintE2E(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	use := func(ps string, calls ...[]string) broker.Ticket {
		t.Helper()
		tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", ps, "--duration", "1h", "--reason", "hint")
		if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
			t.Fatalf("approve: %v %s", err, errOut)
		}
		h.waitState(tk.ID, broker.StateActive, 10*time.Second)
		env := awsEnv(h.credentials("alice@example.com", tk.ID))
		for _, c := range calls {
			out, err := h.awsCLI(env, c...)
			if wantErr := c[0] == "iam"; (err != nil) != wantErr {
				t.Fatalf("aws %v: %v (refusal expected: %v)\n%s", c, err, wantErr, out)
			}
		}
		if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done"); err != nil {
			t.Fatalf("terminate: %v %s", err, errOut)
		}
		h.waitState(tk.ID, broker.StateTerminated, 10*time.Second)
		return tk
	}
	ro := use("ReadOnlyAccess", []string{"s3api", "list-buckets"}, []string{"ec2", "describe-regions"}, []string{"sts", "get-caller-identity"},
		[]string{"s3api", "list-buckets"},
		[]string{"iam", "put-role-policy", "--role-name", "ReadOnlyAccess", "--policy-name", "x", "--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`})

	// Its end scheduled the hint's settling, 15 minutes on.
	hintTask := false
	for _, ti := range h.tasks()["scheduled"] {
		if ti.Type == string(broker.TaskHint) && strings.Contains(string(ti.Payload), ro.ID) {
			hintTask = true
			if d := time.Until(ti.NextProcessAt); d < broker.HintSettle-time.Minute || d > broker.HintSettle {
				t.Errorf("ticket:hint due in %v, want about %v", d, broker.HintSettle)
			}
		}
	}
	if !hintTask {
		t.Errorf("no ticket:hint task scheduled for %s: %+v", ro.ID, h.tasks()["scheduled"])
	}

	out, errOut, err := h.jit("bob@example.com", "hint", ro.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit hint as bob: %v\n%s", err, errOut)
	}
	var got broker.Hint
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("jit hint output: %v\n%s", err, out)
	}
	wantActions := []string{"ec2:DescribeRegions", "s3:ListAllMyBuckets", "sts:GetCallerIdentity"}
	if !slices.Equal(got.Actions, wantActions) || !slices.Equal(got.Services, []string{"ec2", "s3", "sts"}) || !slices.Equal(got.Denied, []string{"iam:PutRolePolicy"}) {
		t.Errorf("actions %q services %q denied %q, want %q, [ec2 s3 sts], [iam:PutRolePolicy]", got.Actions, got.Services, got.Denied, wantActions)
	}
	if g := got.Granted; g == nil || g.Actions != readOnlyGranted || g.Services != readOnlyServices || g.All || !slices.Equal(g.Policies, []string{"inline:ReadOnlyAccess"}) {
		t.Errorf("granted %+v (error %q), want %d actions of %d services from inline:ReadOnlyAccess", g, got.GrantError, readOnlyGranted, readOnlyServices)
	}
	if got.Policy != hintE2EPolicy {
		t.Errorf("policy:\n%s\nwant:\n%s", got.Policy, hintE2EPolicy)
	}
	wantSummary := "used 3 actions of 3 services; ReadOnlyAccess grants 333 actions of 4 services; a permission set with these actions would have been enough (1 action refused) (so far: CloudTrail may still deliver events)"
	if got.Summary != wantSummary || got.Settled || got.ComputedAt.Location() != time.UTC {
		t.Errorf("summary %q settled %v computed at %v, want %q, unsettled, UTC", got.Summary, got.Settled, got.ComputedAt, wantSummary)
	}

	// --policy prints the document alone, for alice (the requester).
	out, errOut, err = h.jit("alice@example.com", "hint", ro.ID, "--policy")
	if err != nil || out != hintE2EPolicy+"\n" {
		t.Errorf("jit hint --policy: %v %s\n%q", err, errOut, out)
	}
	out, _, err = h.jit("carol@example.com", "hint", ro.ID)
	if err != nil || !strings.Contains(out, wantSummary) || !strings.Contains(out, "iam:PutRolePolicy") {
		t.Errorf("jit hint as carol: %v\n%s", err, out)
	}
	out, errOut, err = h.jit("dave@example.com", "hint", ro.ID)
	if err == nil || out != "" || !strings.Contains(errOut, "not_found") {
		t.Errorf("jit hint as dave: err=%v stdout=%q stderr=%q, want not_found", err, out, errOut)
	}

	// A second ticket, PowerUserAccess, that only listed buckets.
	use("PowerUserAccess", []string{"s3api", "list-buckets"})
	out, errOut, err = h.jit("carol@example.com", "admin", "usage", "--output", "json")
	if err != nil {
		t.Fatalf("jit admin usage: %v\n%s", err, errOut)
	}
	var usage broker.Usage
	if err := json.Unmarshal([]byte(out), &usage); err != nil {
		t.Fatalf("usage output: %v\n%s", err, out)
	}
	type row struct {
		Set              string
		Tickets, Granted int
		All              bool
		Actions          []string
	}
	var rows []row
	for _, p := range usage.PermissionSets {
		rows = append(rows, row{p.PermissionSet, p.Tickets, p.Granted, p.All, p.Actions})
	}
	want := []row{
		{"PowerUserAccess", 1, powerUserGranted, false, []string{"s3:ListAllMyBuckets"}},
		{"ReadOnlyAccess", 1, readOnlyGranted, false, wantActions},
	}
	if !slices.EqualFunc(rows, want, func(a, b row) bool {
		return a.Set == b.Set && a.Tickets == b.Tickets && a.Granted == b.Granted && a.All == b.All && slices.Equal(a.Actions, b.Actions)
	}) {
		t.Errorf("usage rows %+v, want %+v", rows, want)
	}
	out, _, err = h.jit("carol@example.com", "admin", "usage")
	if err != nil || !strings.HasPrefix(out, "PERMISSION SET") || !strings.Contains(out, "ReadOnlyAccess") {
		t.Errorf("usage table: %v\n%s", err, out)
	}
	if out, errOut, err := h.jit("bob@example.com", "admin", "usage"); err == nil || !strings.Contains(errOut, "forbidden") {
		t.Errorf("jit admin usage as bob: err=%v stdout=%q stderr=%q, want forbidden", err, out, errOut)
	}
}

// On the Identity Center path the hint reads the permission set's
// policies through sso-admin (the demo's ReadOnlySSO: the inline policy
// of the ReadOnlyAccess role, so the same 333 actions) and the portal
// session's events by the user's Identity Center name.
func TestHintIdentityCenterPath(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", "sso hint")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 20*time.Second)
	s3c := s3.NewFromConfig(h.portalConfig("alice", "ReadOnlyAccess"), func(o *s3.Options) { o.BaseEndpoint = aws.String(h.awsURL); o.UsePathStyle = true })
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("portal session: %v", err)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done"); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateTerminated, 20*time.Second)
	out, errOut, err := h.jit("bob@example.com", "hint", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit hint: %v\n%s", err, errOut)
	}
	var got broker.Hint
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("jit hint output: %v\n%s", err, out)
	}
	if !slices.Equal(got.Actions, []string{"s3:ListAllMyBuckets"}) || len(got.Denied) != 0 {
		t.Errorf("actions %q denied %q, want [s3:ListAllMyBuckets] and none refused", got.Actions, got.Denied)
	}
	if g := got.Granted; g == nil || g.Actions != readOnlyGranted || g.Services != readOnlyServices || !slices.Equal(g.Policies, []string{"inline"}) {
		t.Errorf("granted %+v (error %q), want %d actions from the permission set's inline policy", g, got.GrantError, readOnlyGranted)
	}
}
