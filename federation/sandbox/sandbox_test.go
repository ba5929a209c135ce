package sandbox

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/internal/fake"
)

// newClock returns a settable clock for Options.Now, starting at wall
// time so that the SDK's signatures fall inside the skew window.
func newClock() *fake.Clock { return fake.NewClock(time.Now().UTC()) }

// env is a sandbox served over HTTP for the real SDK clients.
type env struct {
	sb    *Sandbox
	url   string
	clock *fake.Clock
}

func newEnv(t *testing.T, f Fixture) *env {
	t.Helper()
	clock := newClock()
	sb, err := New(f, Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &env{sb: sb, url: srv.URL, clock: clock}
}

// clients are the SDK clients of one identity.
type clients struct {
	sts *sts.Client
	iam *iam.Client
	s3  *s3.Client
	ec2 *ec2.Client
}

func (e *env) clients(akid, secret, token string) clients {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token),
	}
	return clients{
		sts: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) }),
		iam: iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) }),
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(e.url)
			o.UsePathStyle = true
		}),
		ec2: ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(e.url) }),
	}
}

func (e *env) broker() clients {
	return e.clients(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")
}

func (e *env) session(c *ststypes.Credentials) clients {
	return e.clients(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

// assume calls AssumeRole with c and fails the test on error.
func assume(t *testing.T, c clients, in *sts.AssumeRoleInput) *sts.AssumeRoleOutput {
	t.Helper()
	out, err := c.sts.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("AssumeRole(%s): %v", aws.ToString(in.RoleArn), err)
	}
	return out
}

// ticketSession mints a session the way the broker does for a ticket.
func ticketSession(t *testing.T, e *env, roleARN, ticket, user string, policy *string) *sts.AssumeRoleOutput {
	t.Helper()
	return assume(t, e.broker(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String("jit-" + ticket + "-" + user),
		SourceIdentity:  aws.String(user),
		DurationSeconds: aws.Int32(900),
		Policy:          policy,
		Tags: []ststypes.Tag{
			{Key: aws.String("jit-ticket"), Value: aws.String(ticket)},
			{Key: aws.String("jit-requester"), Value: aws.String(user)},
			{Key: aws.String("jit-beneficiary"), Value: aws.String(user)},
		},
	})
}

// apiCode returns the smithy error code and message of err, or fails.
func apiCode(t *testing.T, err error) (code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not a smithy.APIError", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

// wantAPIError asserts err carries code and message (exact).
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	gotCode, gotMsg := apiCode(t, err)
	if gotCode != code || (msg != "" && gotMsg != msg) {
		t.Fatalf("got %s %q, want %s %q", gotCode, gotMsg, code, msg)
	}
}

const (
	devReadOnly  = "arn:aws:iam::111111111111:role/ReadOnlyAccess"
	devAdmin     = "arn:aws:iam::111111111111:role/AdministratorAccess"
	stagingRO    = "arn:aws:iam::222222222222:role/ReadOnlyAccess"
	brokerARN    = "arn:aws:iam::111111111111:user/jit-broker"
	denyTemplate = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":[%s]}}}]}`
)

var ctx = context.Background()
