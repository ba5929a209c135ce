package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"

	"github.com/jitaccess/jit/broker"
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
	out, err := h.awsCLI(awsEnv(processCredentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}), "s3api", "list-buckets")
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
