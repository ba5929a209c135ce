package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
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

// Two overlapping tickets for one user share the assignment: the first
// ending leaves access (and the open portal session) for the second; the
// second ending removes the assignment and cuts the session.
func TestOverlappingTicketsOnSandbox(t *testing.T) {
	e := newICSystem(t, 0)
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	var ids []string
	for range 2 {
		tk, err := e.sys.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
			Beneficiaries: []string{"alice@example.com"}, End: time.Now().Add(time.Hour), Reason: "overlap"})
		if err != nil {
			t.Fatal(err)
		}
		e.waitState(t, tk.ID, broker.StateActive)
		ids = append(ids, tk.ID)
	}
	if n := e.assignments(t); n != 1 {
		t.Fatalf("%d assignments for two overlapping tickets, want 1", n)
	}
	s3c := e.portalS3(t, "alice")
	if _, err := e.sys.svc.Terminate(ctx, ids[0], "first done"); err != nil {
		t.Fatal(err)
	}
	e.waitUndone(t, ids[0])
	if n := e.assignments(t); n != 1 {
		t.Fatalf("after the first ticket ended: %d assignments, want 1", n)
	}
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("the second ticket lost access when the first ended: %v", err)
	}
	if _, err := e.sys.svc.Terminate(ctx, ids[1], "second done"); err != nil {
		t.Fatal(err)
	}
	e.waitUndone(t, ids[1])
	if n := e.assignments(t); n != 0 {
		t.Fatalf("after the last ticket ended: %d assignments, want 0", n)
	}
	var ae smithy.APIError
	if _, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("portal session after the last ticket ended: %v, want AccessDenied", err)
	}
}

// An assignment of a JIT-managed permission set created behind JIT's back
// is removed by the reconciler (run on demand, as `jit reconcile` does),
// and the removal is an audit event.
func TestReconcilerRemovesOrphanOnSandbox(t *testing.T) {
	e := newICSystem(t, 0)
	ctx := context.Background()
	store := identityStoreID(t, e)
	uid := e.userID(t, store, "dave@example.com")
	out, err := e.sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(e.inst), TargetId: aws.String("222222222222"),
		TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(e.psARN), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(uid)})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); e.assignments(t) == 0; time.Sleep(50 * time.Millisecond) {
		e.sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst),
			AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId})
		if time.Now().After(deadline) {
			t.Fatal("the orphan assignment never appeared")
		}
	}
	admin := broker.WithUser(ctx, broker.User{Email: "carol@example.com"})
	rep, err := e.sys.svc.ReconcileNow(admin)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OrphansRemoved != 1 || e.assignments(t) != 0 {
		t.Fatalf("report %+v, %d assignments left; want the orphan removed", rep, e.assignments(t))
	}
	if _, err := e.sys.svc.ReconcileNow(broker.WithUser(ctx, broker.User{Email: "alice@example.com"})); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("reconcile as a requester: %v, want forbidden", err)
	}
	events, _, err := e.sys.obs.audit.Query(ctx, broker.AuditQuery{Type: "reconcile.", Limit: 10}, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range events {
		found = found || (ev.Action == "remove orphan assignment" && strings.Contains(ev.Detail, "dave@example.com"))
	}
	if !found {
		t.Fatalf("audit events %+v lack the removal", events)
	}
}

func identityStoreID(t *testing.T, e *icSystem) string {
	t.Helper()
	out, err := e.sso.ListInstances(context.Background(), &ssoadmin.ListInstancesInput{})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("list instances: %v", err)
	}
	return aws.ToString(out.Instances[0].IdentityStoreId)
}

func (e *icSystem) userID(t *testing.T, store, email string) string {
	t.Helper()
	c := identitystore.NewFromConfig(e.awsCfg, func(o *identitystore.Options) { o.BaseEndpoint = aws.String(e.url) })
	out, err := c.GetUserId(context.Background(), &identitystore.GetUserIdInput{IdentityStoreId: aws.String(store),
		AlternateIdentifier: &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{
			AttributePath: aws.String("emails.value"), AttributeValue: document.NewLazyDocument(email)}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.UserId)
}
