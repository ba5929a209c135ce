package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
)

// Terminate cuts an Identity Center session that was already open through
// the access portal, at once with zero propagation delay; a later ticket
// for the same user gets access again.
func TestTerminateCutsPortalSession(t *testing.T) {
	e := newICSystem(t, 0)
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	file := func() string {
		tk, err := e.sys.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
			Beneficiaries: []string{"alice@example.com"}, End: time.Now().Add(time.Hour), Reason: "portal"})
		if err != nil {
			t.Fatal(err)
		}
		e.waitState(t, tk.ID, broker.StateActive)
		return tk.ID
	}
	id := file()
	s3c := e.portalS3(t, "alice")
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("portal session while active: %v", err)
	}
	if _, err := e.sys.svc.Terminate(ctx, id, "cut"); err != nil {
		t.Fatal(err)
	}
	e.waitUndone(t, id)
	var ae smithy.APIError
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("open portal session after terminate: %v, want AccessDenied", err)
	}
	if n := e.assignments(t); n != 0 {
		t.Fatalf("%d assignments left", n)
	}
	// A new ticket: a new portal session works (issued after the cut).
	time.Sleep(1100 * time.Millisecond) // token issue times have whole seconds
	file()
	if _, err := e.portalS3(t, "alice").ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("portal session of a later ticket: %v", err)
	}
}

func (e *icSystem) waitState(t *testing.T, id string, st broker.State) {
	t.Helper()
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tk, err := e.sys.svc.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.State == st {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticket %s is %s, want %s", id, tk.State, st)
		}
	}
}

func (e *icSystem) waitUndone(t *testing.T, id string) {
	t.Helper()
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tk, err := e.sys.svc.Ticket(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if allUndone(tk) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("grants of %s not taken back: %+v", id, tk.Grants)
		}
	}
}

// portalS3 signs in to the access portal as user and returns an S3 client
// with the role credentials it hands out.
func (e *icSystem) portalS3(t *testing.T, user string) *s3.Client {
	t.Helper()
	tok, err := e.sb.PortalToken(user)
	if err != nil {
		t.Fatal(err)
	}
	portal := sso.NewFromConfig(e.awsCfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(e.url) })
	out, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok), AccountId: aws.String("111111111111"), RoleName: aws.String("ReadOnlyAccess")})
	if err != nil {
		t.Fatalf("portal credentials: %v", err)
	}
	c := out.RoleCredentials
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
}
