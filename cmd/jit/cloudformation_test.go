package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// memberTemplate is the template operators deploy to every account.
var memberTemplate = filepath.Join("..", "..", "deploy", "aws", "member.yaml")

// cloudFormationFixture is the demo organization whose roles are exactly
// those deploy/aws/member.yaml creates, with the management role named
// as the harness's config names it.
func cloudFormationFixture(t *testing.T) *sandbox.Fixture {
	t.Helper()
	f := sandbox.DemoFixture()
	f, err := f.WithCloudFormation([]string{memberTemplate}, map[string]string{
		"BrokerRoleArn": sandbox.DemoBrokerARN(f), "ManagementRoleName": sandbox.DemoManagementRole})
	if err != nil {
		t.Fatal(err)
	}
	return &f
}

// TestEndToEndOnCloudFormation runs a ticket from request to terminate on
// exactly what operators deploy: the session is minted into member.yaml's
// ReadOnlyAccess role through its trust policy, and the deny entry is
// written through its management role, whose policy allows IAM calls on
// the JIT-managed roles only.
func TestEndToEndOnCloudFormation(t *testing.T) {
	h := newHarnessOpts(t, string(devConfig), harnessOptions{fixture: cloudFormationFixture(t)})
	ctx := context.Background()
	id, creds := h.activeWithSession()
	if _, err := h.s3With(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets with the ticket's session: %v", err)
	}
	if code, body := h.api("bob@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]any{"comment": "done"}); code != http.StatusOK {
		t.Fatalf("terminate: %d %v", code, body)
	}
	tk := h.waitState(id, broker.StateTerminated, 10*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for !denied(tk) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		tk = h.ticket(id)
	}
	if !denied(tk) {
		t.Fatalf("no deny entry recorded on ticket %s: grants %+v; server log:\n%s", id, tk.Grants, h.logs.String())
	}
	_, err := h.s3With(creds).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("ListBuckets after terminate: %v, want AccessDenied", err)
	}
}

// TestSandboxCloudFormation serves `jit sandbox --cloudformation
// member.yaml`: the template's management role can be assumed by the demo
// broker in every account, and the demo fixture's own management role is
// gone.
func TestSandboxCloudFormation(t *testing.T) {
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runSandbox(ctx, []string{"--cloudformation", memberTemplate, "--addr", addr}, io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("jit sandbox: %v", err)
		}
	}()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String("http://" + addr) })
	assume := func(role string) error {
		_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("check")})
		return err
	}
	var err error
	for range 100 { // until the sandbox listens
		if err = assume("arn:aws:iam::333333333333:role/jit-management"); err == nil || !strings.Contains(err.Error(), "connect") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("assume member.yaml's management role: %v", err)
	}
	if err := assume("arn:aws:iam::333333333333:role/" + sandbox.DemoManagementRole); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("assume the demo fixture's management role: %v, want AccessDenied (replaced by the template's roles)", err)
	}
}

// TestSandboxCloudFormationFlag runs `jit sandbox --cloudformation` with a
// parameter the template does not have: refused, naming it.
func TestSandboxCloudFormationFlag(t *testing.T) {
	var stdout, stderr strings.Builder
	err := runSandbox(context.Background(), []string{"--cloudformation", memberTemplate, "--parameter", "Nope=1", "--addr", "127.0.0.1:0"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Fatalf("err = %v, want one naming the unknown parameter", err)
	}
	err = runSandbox(context.Background(), []string{"--cloudformation", memberTemplate, "--parameter", "BrokerRoleArn"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "Key=Value") {
		t.Fatalf("err = %v, want the Key=Value usage", err)
	}
}
