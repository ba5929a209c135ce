package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation/sandbox"
)

// alice uses her ticket's session with the AWS CLI; bob, who approved it,
// sees her ListBuckets call with her access key in `jit activity`; dave,
// who has nothing to do with the ticket, is refused.
func TestActivityE2E(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "activity")

	// Before activation there is nothing to show, and CloudTrail is not asked.
	out, errOut, err := h.jit("bob@example.com", "activity", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit activity before approval: %v\n%s", err, errOut)
	}
	if got := strings.Join(strings.Fields(out), ""); got != `{"events":[]}` {
		t.Errorf("activity before approval: %s", out)
	}

	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	creds := h.credentials("alice@example.com", tk.ID)
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err != nil {
		t.Fatalf("aws s3api list-buckets: %v\n%s", err, out)
	}

	out, errOut, err = h.jit("bob@example.com", "activity", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit activity as bob: %v\n%s", err, errOut)
	}
	var got struct {
		Events []broker.ActivityEvent `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("jit activity output: %v\n%s", err, out)
	}
	session := "jit-" + tk.ID + "-alice@example.com"
	var found *broker.ActivityEvent
	for i, e := range got.Events {
		if e.EventName == "ListBuckets" {
			found = &got.Events[i]
		}
		if e.EventTime.IsZero() || e.EventTime.Location() != time.UTC {
			t.Errorf("event time %v is not RFC 3339 UTC", e.EventTime)
		}
	}
	if found == nil {
		t.Fatalf("no ListBuckets event in the activity:\n%s", out)
	}
	if found.AccessKeyID != creds.AccessKeyID || found.EventSource != "s3.amazonaws.com" || found.Username != session || found.ErrorCode != "" || found.SourceIdentity != "alice@example.com" {
		t.Errorf("ListBuckets event %+v, want alice's key %s and session %s", *found, creds.AccessKeyID, session)
	}
	if strings.Contains(out, creds.SecretAccessKey) || strings.Contains(out, creds.SessionToken) {
		t.Errorf("the activity shows a secret:\n%s", out)
	}

	// The table, for carol (an administrator).
	out, errOut, err = h.jit("carol@example.com", "activity", tk.ID)
	if err != nil {
		t.Fatalf("jit activity as carol: %v\n%s", err, errOut)
	}
	if !strings.HasPrefix(out, "TIME") || !strings.Contains(out, "ListBuckets") || !strings.Contains(out, creds.AccessKeyID) {
		t.Errorf("activity table:\n%s", out)
	}

	out, errOut, err = h.jit("dave@example.com", "activity", tk.ID, "--output", "json")
	if err == nil || out != "" || !strings.Contains(errOut, "not_found") {
		t.Errorf("jit activity as dave: err=%v stdout=%q stderr=%q, want refused (not_found)", err, out, errOut)
	}
}

// On the Identity Center path the activity is found by the beneficiary's
// Identity Center user name, which CloudTrail records for portal sessions.
func TestActivityIdentityCenterPath(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", "sso activity")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 20*time.Second)
	tok, err := h.sb.PortalToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	portal := sso.NewFromConfig(cfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(h.awsURL) })
	rc, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok), AccountId: aws.String("111111111111"), RoleName: aws.String("ReadOnlyAccess")})
	if err != nil {
		t.Fatal(err)
	}
	c := rc.RoleCredentials
	out, err := h.awsCLI(awsEnv(wire.CredentialProcess{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}), "s3api", "list-buckets")
	if err != nil {
		t.Fatalf("portal session: %v\n%s", err, out)
	}
	stdout, errOut, err := h.jit("bob@example.com", "activity", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit activity: %v\n%s", err, errOut)
	}
	if !strings.Contains(stdout, `"event_name": "ListBuckets"`) || !strings.Contains(stdout, `"username": "alice"`) {
		t.Fatalf("activity lacks alice's portal ListBuckets:\n%s", stdout)
	}
}

// Issue 19, finding 4, through the real server: alice holds two Identity
// Center tickets in one account at once, ReadOnlySSO (approved by bob)
// and AdminSSO (approved by carol only). Bob sees her ReadOnlySSO portal
// session's ListBuckets on his ticket, not her AdministratorAccess
// PutRolePolicy made under the ticket he cannot see; and once carol
// terminates hers, what alice does afterwards is not its activity.
func TestActivityIdentityCenterScopeE2E(t *testing.T) {
	adminARN := demoPermissionSetARN(t, "AdministratorAccess")
	reg := strings.Replace(string(devConfig), "  approval_rules:\n", fmt.Sprintf(`    - name: AdminSSO
      arn: %s
      max_duration: 4h
      approval_required: true
      grant_path: identity_center
      scope: {accounts: ["*"], requester_groups: ["*"]}
  approval_rules:
    - account: "*"
      permission_set: AdminSSO
      stages:
        - approvers: [carol@example.com]
          required: 1
`, adminARN), 1)
	if reg == string(devConfig) {
		t.Fatal("dev.yaml no longer has the line this test edits")
	}
	h := newHarnessWith(t, reg)
	ro := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", "read")
	adm := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "AdminSSO", "--duration", "1h", "--reason", "admin")
	if _, errOut, err := h.jit("bob@example.com", "approve", ro.ID); err != nil {
		t.Fatalf("bob approves %s: %v %s", ro.ID, err, errOut)
	}
	if _, errOut, err := h.jit("carol@example.com", "approve", adm.ID); err != nil {
		t.Fatalf("carol approves %s: %v %s", adm.ID, err, errOut)
	}
	h.waitState(ro.ID, broker.StateActive, 20*time.Second)
	h.waitState(adm.ID, broker.StateActive, 20*time.Second)

	readOnly := h.portalConfig("alice", "ReadOnlyAccess")
	s3c := s3.NewFromConfig(readOnly, func(o *s3.Options) { o.BaseEndpoint = aws.String(h.awsURL); o.UsePathStyle = true })
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ReadOnlyAccess portal session: %v", err)
	}
	admin := iam.NewFromConfig(h.portalConfig("alice", "AdministratorAccess"), func(o *iam.Options) { o.BaseEndpoint = aws.String(h.awsURL) })
	if _, err := admin.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("backdoor"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatalf("AdministratorAccess portal session: %v", err)
	}

	names := func(user, id string) []string {
		t.Helper()
		out, errOut, err := h.jit(user, "activity", id, "--output", "json")
		if err != nil {
			t.Fatalf("jit activity %s as %s: %v\n%s", id, user, err, errOut)
		}
		var got struct {
			Events []broker.ActivityEvent `json:"events"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("jit activity output: %v\n%s", err, out)
		}
		var n []string
		for _, e := range got.Events {
			n = append(n, e.EventName+" by "+e.Username)
		}
		return n
	}
	if got, want := names("bob@example.com", ro.ID), []string{"ListBuckets by alice"}; !slices.Equal(got, want) {
		t.Errorf("bob's view of %s (ReadOnlySSO): %q, want %q", ro.ID, got, want)
	}
	if out, errOut, err := h.jit("bob@example.com", "activity", adm.ID, "--output", "json"); err == nil || !strings.Contains(errOut, "not_found") {
		t.Errorf("bob reads the AdminSSO ticket's activity: err=%v stdout=%q stderr=%q, want not_found", err, out, errOut)
	}

	// Carol terminates the AdminSSO ticket (whose activity nobody has
	// looked at yet, so no cached answer stands in): alice's later call
	// with the same portal session (recorded by CloudTrail, allowed or
	// not) is not the ticket's.
	ended := h.terminateAt("carol@example.com", adm.ID)
	// CloudTrail records whole seconds: call in the second after it.
	time.Sleep(time.Until(ended.Truncate(time.Second).Add(time.Second)))
	_, err := admin.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("backdoor2"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	t.Logf("PutRolePolicy after the termination: %v", err)
	if got, want := names("carol@example.com", adm.ID), []string{"PutRolePolicy by alice"}; !slices.Equal(got, want) {
		t.Errorf("carol's view of %s (AdminSSO, terminated): %q, want only %q", adm.ID, got, want)
	}
}

// portalConfig returns an AWS config with a portal session of user for
// the Identity Center permission set in 111111111111.
func (h *harness) portalConfig(user, permissionSet string) aws.Config {
	h.t.Helper()
	tok, err := h.sb.PortalToken(user)
	if err != nil {
		h.t.Fatal(err)
	}
	portal := sso.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}, func(o *sso.Options) { o.BaseEndpoint = aws.String(h.awsURL) })
	rc, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok),
		AccountId: aws.String("111111111111"), RoleName: aws.String(permissionSet)})
	if err != nil {
		h.t.Fatalf("portal credentials of %s for %s: %v", user, permissionSet, err)
	}
	c := rc.RoleCredentials
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
}

// demoPermissionSetARN returns the ARN of the demo Identity Center's
// permission set, as a sandbox with the demo fixture names it.
func demoPermissionSetARN(t *testing.T, name string) string {
	t.Helper()
	sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	cl := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	inst, err := cl.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 {
		t.Fatalf("ListInstances: %v", err)
	}
	sets, err := cl.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst.Instances[0].InstanceArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range sets.PermissionSets {
		d, err := cl.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: inst.Instances[0].InstanceArn, PermissionSetArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.PermissionSet.Name) == name {
			return arn
		}
	}
	t.Fatalf("no permission set %s in the demo Identity Center", name)
	return ""
}

// The role path is cut at the termination too, and keeps to the ticket's
// own sessions: alice's session of another ticket for the same role, and
// her calls with the terminated ticket's session after the termination
// (denied, and recorded), are not its activity.
func TestActivityRoleTerminatedE2E(t *testing.T) {
	h := newHarness(t)
	one := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "one")
	two := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "two")
	for _, id := range []string{one.ID, two.ID} {
		if _, errOut, err := h.jit("bob@example.com", "approve", id); err != nil {
			t.Fatalf("approve %s: %v %s", id, err, errOut)
		}
		h.waitState(id, broker.StateActive, 20*time.Second)
	}
	s3For := func(c wire.CredentialProcess) *s3.Client {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
		return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(h.awsURL); o.UsePathStyle = true })
	}
	c1 := s3For(h.credentials("alice@example.com", one.ID))
	c2 := s3For(h.credentials("alice@example.com", two.ID))
	for _, c := range []*s3.Client{c1, c2} {
		if _, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	ended := h.terminateAt("bob@example.com", one.ID)
	time.Sleep(time.Until(ended.Truncate(time.Second).Add(time.Second))) // CloudTrail records whole seconds
	if _, err := c1.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err == nil {
		t.Errorf("the terminated ticket's session still works")
	}
	out, errOut, err := h.jit("bob@example.com", "activity", one.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit activity: %v\n%s", err, errOut)
	}
	var got struct {
		Events []broker.ActivityEvent `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var s3Calls []string
	for _, e := range got.Events {
		if e.EventSource == "s3.amazonaws.com" {
			s3Calls = append(s3Calls, e.EventName+" "+e.Username+" "+e.ErrorCode)
		}
	}
	session := "jit-" + one.ID + "-alice@example.com"
	if want := []string{"ListBuckets " + session + " "}; !slices.Equal(s3Calls, want) {
		t.Errorf("S3 calls in %s's activity: %q, want %q", one.ID, s3Calls, want)
	}
}

// Two overlapping tickets grant alice ReadOnlySSO in one account: her
// portal session of the set is one role session for both, which
// CloudTrail cannot split, so both tickets show her call, marked shared.
func TestActivitySharedRoleSessionE2E(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for _, reason := range []string{"first", "second"} {
		tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlySSO", "--duration", "1h", "--reason", reason)
		if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
			t.Fatalf("approve %s: %v %s", tk.ID, err, errOut)
		}
		h.waitState(tk.ID, broker.StateActive, 20*time.Second)
		ids = append(ids, tk.ID)
	}
	s3c := s3.NewFromConfig(h.portalConfig("alice", "ReadOnlyAccess"), func(o *s3.Options) { o.BaseEndpoint = aws.String(h.awsURL); o.UsePathStyle = true })
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		out, errOut, err := h.jit("bob@example.com", "activity", id, "--output", "json")
		if err != nil {
			t.Fatalf("jit activity %s: %v\n%s", id, err, errOut)
		}
		var got struct {
			Events []broker.ActivityEvent `json:"events"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Events) != 1 || got.Events[0].EventName != "ListBuckets" || !got.Events[0].Shared {
			t.Errorf("activity of %s: %+v, want alice's ListBuckets marked shared", id, got.Events)
		}
	}
	out, errOut, err := h.jit("bob@example.com", "activity", ids[0])
	if err != nil {
		t.Fatalf("jit activity: %v\n%s", err, errOut)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], "SHARED") || !strings.HasSuffix(lines[1], "yes") {
		t.Errorf("activity table:\n%s", out)
	}
}

// terminateAt has who terminate the ticket through the CLI and returns
// when the ticket's history says it was terminated.
func (h *harness) terminateAt(who, id string) time.Time {
	h.t.Helper()
	if _, errOut, err := h.jit(who, "terminate", id, "--comment", "enough"); err != nil {
		h.t.Fatalf("terminate: %v %s", err, errOut)
	}
	for _, e := range h.ticket(id).History {
		if e.To == broker.StateTerminated {
			return e.At
		}
	}
	h.t.Fatalf("no termination in %s's history", id)
	return time.Time{}
}
