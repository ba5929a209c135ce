package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const awsCLI = "/usr/bin/aws"

// runCLI runs the real AWS CLI against the sandbox with the given keys.
func runCLI(t *testing.T, e *env, akid, secret, token string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", e.url, "--output", "json"}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + akid,
		"AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_SESSION_TOKEN=" + token,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestAWSCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	e := newEnv(t, DemoFixture())
	s := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	akid, secret, token := aws.ToString(s.Credentials.AccessKeyId), aws.ToString(s.Credentials.SecretAccessKey), aws.ToString(s.Credentials.SessionToken)

	out, err := runCLI(t, e, akid, secret, token, "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("sts get-caller-identity: %v\n%s", err, out)
	}
	var id struct{ Arn, Account, UserId string }
	if err := json.Unmarshal([]byte(out), &id); err != nil || id.Arn != aws.ToString(s.AssumedRoleUser.Arn) || id.Account != "111111111111" {
		t.Errorf("get-caller-identity = %s (%v)", out, err)
	}

	out, err = runCLI(t, e, akid, secret, token, "s3api", "list-buckets")
	if err != nil {
		t.Fatalf("s3api list-buckets: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"jit-sandbox-111111111111"`) {
		t.Errorf("list-buckets = %s", out)
	}

	out, err = runCLI(t, e, akid, secret, token, "ec2", "describe-regions", "--region-names", "us-east-1")
	if err != nil || !strings.Contains(out, `"ec2.us-east-1.amazonaws.com"`) {
		t.Errorf("ec2 describe-regions: %v\n%s", err, out)
	}

	if _, err := e.broker().iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"),
		PolicyName: aws.String("jit-revocations"), PolicyDocument: aws.String(fmt.Sprintf(denyTemplate, `"t1"`))}); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, e, akid, secret, token, "s3api", "list-buckets")
	if err == nil || !strings.Contains(out, "AccessDenied") {
		t.Errorf("list-buckets after revocation: %v\n%s", err, out)
	}
	if out, err := runCLI(t, e, akid, secret, token, "sts", "get-caller-identity"); err != nil {
		t.Errorf("get-caller-identity after revocation: %v\n%s", err, out)
	}
	out, err = runCLI(t, e, akid, "wrong", token, "sts", "get-caller-identity")
	if err == nil || !strings.Contains(out, "SignatureDoesNotMatch") {
		t.Errorf("bad secret: %v\n%s", err, out)
	}
}
