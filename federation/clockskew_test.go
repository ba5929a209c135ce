package federation_test

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// With AWS's clock 30 s behind this host's, a session minted by a Minter
// that reads AWS's clock (ClockSkew) is refused once the ticket's end has
// passed on this host's clock, though AWS's clock has not reached it yet:
// the session policy's end is written in AWS's time. The very first
// AssumeRole, made before any skew was seen, is redone with the corrected
// policy.
func TestMintedSessionEndsOnAWSClock(t *testing.T) {
	for _, off := range []time.Duration{-30 * time.Second, 30 * time.Second} {
		var later atomic.Int64 // how far the test moved the sandbox's clock on
		sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{Now: func() time.Time {
			return time.Now().Add(off + time.Duration(later.Load()))
		}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(sb)
		defer srv.Close()
		skew := &federation.ClockSkew{}
		cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)
		cfg.APIOptions = append(cfg.APIOptions, skew.Observe)
		m := &federation.Minter{STS: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }), Skew: skew}
		ctx := context.Background()
		end := time.Now().Add(10 * time.Minute).Truncate(time.Second)
		creds, err := m.Mint(ctx, mintReq("tkt-skew", end))
		if err != nil {
			t.Fatal(err)
		}
		s3c := s3.NewFromConfig(awsConfig(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, nil), func(o *s3.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
			o.UsePathStyle = true
		})
		// This host's clock 3 s before the end: the session works.
		later.Store(int64(time.Until(end) - 3*time.Second))
		if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Errorf("AWS %s: before the end: %v", off, err)
		}
		// This host's clock past the end: AWS refuses it, whatever its clock reads.
		later.Store(int64(time.Until(end) + time.Second))
		if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "AccessDenied" {
			t.Errorf("AWS %s: after the end on this host's clock: %v, want AccessDenied", off, err)
		}
	}
}

// Within the tolerance (the Date header's whole seconds), ClockSkew moves
// nothing; a nil ClockSkew moves nothing either.
func TestClockSkewTolerance(t *testing.T) {
	var nilSkew *federation.ClockSkew
	now := time.Now()
	if !nilSkew.Earliest(now).Equal(now) || !nilSkew.Latest(now).Equal(now) {
		t.Error("a nil ClockSkew moved a time")
	}
	if s := (&federation.ClockSkew{}); !s.Earliest(now).Equal(now) || !s.Latest(now).Equal(now) {
		t.Error("a ClockSkew that saw nothing moved a time")
	}
}

// With AWS's clock 30 s ahead of this host's, a portal session issued just
// before a cut (on this host's clock) carries an issue time 30 s later;
// the cut's bound, written in AWS's time, still denies it. The cut is the
// PortalDeny's first call, so the skew is learnt during it.
func TestCutPortalBoundOnAWSClock(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetPropagationDelay(0)
	e.clock.Advance(30 * time.Second) // AWS ahead (the sandbox runs on e.clock)
	const acct = "222222222222"
	a := e.assignment("alice@example.com", "ReadOnlyAccess", acct)
	if err := e.ic().Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	session := e.portalS3(t, "alice", "ReadOnlyAccess", acct)
	if err := listBuckets(session); err != nil {
		t.Fatalf("portal session before the cut: %v", err)
	}
	skew := &federation.ClockSkew{}
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		APIOptions:  []func(*middleware.Stack) error{skew.Observe},
	}
	pd := e.portalDeny(e.ic())
	pd.SSOAdmin = ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(e.url) })
	pd.Skew = skew
	now := time.Now() // this host's clock: the session was issued before it
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, TicketID: "tkt-skew", Before: now, Until: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := listBuckets(session); apiErrCode(err) != "AccessDenied" {
		t.Errorf("session issued before the cut (AWS 30 s ahead): %v, want AccessDenied", err)
	}
}
