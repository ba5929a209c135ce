package federation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
	"github.com/jitaccess/jit/internal/fake"
)

type env struct {
	clock *fake.Clock
	sb    *sandbox.Sandbox
	url   string
	sts   *sts.Client
	iam   *iam.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvWith(t, sandbox.DemoFixture())
}

// newEnvWith is newEnv on the sandbox of fixture f.
func newEnvWith(t testing.TB, f sandbox.Fixture) *env {
	t.Helper()
	c := fake.NewClock(time.Now().UTC().Truncate(time.Second))
	sb, err := sandbox.New(f, sandbox.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", c)
	return &env{
		sb:    sb,
		clock: c,
		url:   srv.URL,
		sts:   sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		iam:   iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
	}
}

func awsConfig(akid, secret, token string, c *fake.Clock) aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token),
		// The SDK's standard retryer, as production uses: it also retries
		// a connection dropped mid-answer.
		Retryer:    func() aws.Retryer { return retry.NewStandard() },
		HTTPClient: federation.HTTPClient(),
	}
}

// s3For returns an S3 client using the minted credentials.
func (e *env) s3For(c broker.Credentials) *s3.Client {
	cfg := awsConfig(c.AccessKeyID, c.SecretAccessKey, c.SessionToken, e.clock)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
}

func (e *env) minter() *federation.Minter {
	return &federation.Minter{STS: e.sts, Clock: e.clock}
}

func (e *env) revoker() *federation.Revoker {
	return &federation.Revoker{IAM: func(string) federation.RolePolicyAPI { return e.iam }, Clock: e.clock}
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func mintReq(ticket string, end time.Time) broker.MintRequest {
	return broker.MintRequest{TicketID: ticket, AccountID: "111111111111", RoleName: "ReadOnlyAccess",
		Requester: "alice@example.com", Beneficiary: "alice@example.com", End: end}
}

func TestMintedSessionIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	creds, err := e.minter().Mint(ctx, mintReq("tkt1", e.clock.Now().Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") {
		t.Errorf("access key %q does not start with ASIA", creds.AccessKeyID)
	}
	if want := e.clock.Now().Add(2 * time.Hour); !creds.Expiration.Equal(want) {
		t.Errorf("expiration %s, want %s (the ticket's end)", creds.Expiration, want)
	}
	cfg := awsConfig(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, e.clock)
	id, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(id.Arn), "arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/jit-tkt1-alice@example.com"; got != want {
		t.Errorf("caller ARN %s, want %s", got, want)
	}
}

// A session minted 10 minutes before the ticket's end lives 15 minutes at
// STS, but the session policy refuses it once the end has passed.
func TestSessionPolicyCapsAtTicketEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(10 * time.Minute)
	creds, err := e.minter().Mint(ctx, mintReq("tkt2", end))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := creds.Expiration, e.clock.Now().Add(15*time.Minute); !got.Equal(want) {
		t.Fatalf("STS expiration %s, want the 15-minute minimum %s", got, want)
	}
	s3c := e.s3For(creds)
	e.clock.Set(end.Add(-time.Second))
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("before the end: %v", err)
	}
	e.clock.Set(end.Add(time.Second))
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("after the end: got %v, want AccessDenied", err)
	}
}

func TestRevokeCutsOpenSessionOnly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(time.Hour)
	cut, err := e.minter().Mint(ctx, mintReq("cut", end))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := e.minter().Mint(ctx, mintReq("kept", end))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3For(cut).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	req := broker.RevokeRequest{TicketID: "cut", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: end}
	if err := e.revoker().Revoke(ctx, req); err != nil {
		t.Fatal(err)
	}
	if err := e.revoker().Revoke(ctx, req); err != nil { // repeating is harmless
		t.Fatal(err)
	}
	if _, err := e.s3For(cut).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("revoked session: got %v, want AccessDenied", err)
	}
	if _, err := e.s3For(kept).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("another ticket's session was cut too: %v", err)
	}
	// GetCallerIdentity is never denied by policy.
	cfg := awsConfig(cut.AccessKeyID, cut.SecretAccessKey, cut.SessionToken, e.clock)
	if _, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity of a revoked session: %v", err)
	}
	doc := e.denyEntry(t)
	if strings.Count(doc, `"cut"`) != 1 || strings.Contains(doc, "kept") {
		t.Errorf("deny entry %s: want exactly the revoked ticket once", doc)
	}
}

func TestDenyEntriesPruned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := e.clock.Now()
	for i, id := range []string{"old1", "old2"} {
		r := broker.RevokeRequest{TicketID: id, AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: start.Add(time.Duration(i+1) * time.Minute)}
		if err := e.revoker().Revoke(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Three hours later (for the revoker; the sandbox keeps the real time
	// so the SDK's signatures stay within its clock-skew window).
	later := fake.NewClock(start.Add(3 * time.Hour))
	rev := e.revoker()
	rev.Clock = later
	r := broker.RevokeRequest{TicketID: "new", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: later.Now().Add(time.Hour)}
	if err := rev.Revoke(ctx, r); err != nil {
		t.Fatal(err)
	}
	doc := e.denyEntry(t)
	if strings.Contains(doc, "old1") || strings.Contains(doc, "old2") || !strings.Contains(doc, `"new"`) {
		t.Errorf("deny entry after pruning: %s", doc)
	}
}

func (e *env) denyEntry(t *testing.T) string {
	t.Helper()
	out, err := e.iam.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Deny entries in other accounts are written through the management role
// there, on that account's role only.
func TestRevokeThroughManagementRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := mintReq("prod1", e.clock.Now().Add(time.Hour))
	req.AccountID = "333333333333"
	creds, err := e.minter().Mint(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	clients := &federation.IAMClients{Config: awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", e.clock),
		STS: e.sts, ManagementRole: sandbox.DemoManagementRole, Endpoint: e.url}
	rev := &federation.Revoker{IAM: clients.For, Clock: e.clock}
	if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "prod1", AccountID: "333333333333", RoleName: "ReadOnlyAccess", Until: req.End}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3For(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("revoked prod session: got %v, want AccessDenied", err)
	}
	// The broker's own account holds no deny entry.
	_, err = e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	if code(err) != "NoSuchEntity" {
		t.Fatalf("deny entry in the broker's account: got %v, want NoSuchEntity", err)
	}
}

// 500 revoked tickets never push the role's inline policies past IAM's
// budget, and every revoked session stays refused.
func TestDenyListWithinBudget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	end := e.clock.Now().Add(time.Hour)
	first, err := e.minter().Mint(ctx, mintReq("tfirst00000000000", end))
	if err != nil {
		t.Fatal(err)
	}
	rev := e.revoker()
	for i := range 500 {
		id := fmt.Sprintf("t%016d", i)
		if i == 0 {
			id = "tfirst00000000000"
		}
		// Spread the tickets over many hours, as real ones are.
		until := end.Add(time.Duration(i%12) * time.Hour)
		if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: id, AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: until}); err != nil {
			t.Fatalf("revoke %d: %v", i, err)
		}
		if n := len(e.denyEntry(t)); n > 10240 {
			t.Fatalf("deny entry is %d characters after %d tickets", n, i+1)
		}
	}
	if _, err := e.s3For(first).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("the first revoked session after compaction: got %v, want AccessDenied", err)
	}
	e.clock.Advance(2 * time.Second) // issued strictly after the cut (whole seconds)
	later, err := e.minter().Mint(ctx, mintReq("tlater", end))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3For(later).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("a session issued after the compaction is refused: %v", err)
	}
}

// PruneRole removes the deny list once its sessions have all expired.
func TestPruneRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rev := e.revoker()
	if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "gone", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: e.clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	rev.Clock = fake.NewClock(e.clock.Now().Add(3 * time.Hour))
	if _, err := rev.PruneRole(ctx, "111111111111", "ReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	_, err := e.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	if code(err) != "NoSuchEntity" {
		t.Fatalf("after pruning: %v, want the policy gone", err)
	}
}

// With IAM's propagation delay set, the deny entry is in place at once and
// takes effect after the delay.
func TestRevokeWithPropagationDelay(t *testing.T) {
	e := newEnv(t)
	e.sb.SetPropagationDelay(30 * time.Second)
	ctx := context.Background()
	creds, err := e.minter().Mint(ctx, mintReq("slow", e.clock.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.revoker().Revoke(ctx, broker.RevokeRequest{TicketID: "slow", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if doc := e.denyEntry(t); !strings.Contains(doc, `"slow"`) {
		t.Fatalf("deny entry not in place: %s", doc)
	}
	if _, err := e.s3For(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("the deny took effect before the propagation delay passed: %v", err)
	}
	e.clock.Advance(31 * time.Second)
	if _, err := e.s3For(creds).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
		t.Fatalf("after the delay: %v, want AccessDenied", err)
	}
}
