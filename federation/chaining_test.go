package federation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/internal/fake"
)

// portalSTS signs in to the access portal as user and returns an STS
// client with the role credentials of the permission set in the account.
func (e *icEnv) portalSTS(t *testing.T, user, ps, account string) *sts.Client {
	t.Helper()
	tok, err := e.sb.PortalToken(user)
	if err != nil {
		t.Fatal(err)
	}
	portal := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Retryer: aws.NopRetryer{}})
	out, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(tok), AccountId: aws.String(account), RoleName: aws.String(ps),
	})
	if err != nil {
		t.Fatalf("portal credentials for %s: %v", user, err)
	}
	c := out.RoleCredentials
	cfg := aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func forgedChain(c *sts.Client) error {
	_, err := c.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::111111111111:role/AdministratorAccess"), RoleSessionName: aws.String("escape"),
		Tags: []ststypes.Tag{{Key: aws.String(federation.TagTicket), Value: aws.String("not-revoked")}},
	})
	return err
}

// DenyChaining puts JIT's chaining deny into the permission set's inline
// policy after the administrators' statements and provisions it to every
// account: a portal session that could chain into a role trusting the
// account (with a forged ticket tag) no longer can, and still does its
// work. The statement is written once, survives cuts and pruning, and is
// rewritten by the next cut if someone removed it.
func TestDenyChainingOnPortal(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetPropagationDelay(0)
	ic := e.ic()
	const acct = "111111111111"
	a := e.assignment("alice@example.com", "PowerUserAccess", acct)
	// An older assignment in another account (provisioned there before).
	if err := ic.Assign(ctx, e.assignment("alice@example.com", "PowerUserAccess", "222222222222")); err != nil {
		t.Fatal(err)
	}
	if err := ic.Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	open := e.portalSTS(t, "alice", "PowerUserAccess", acct)
	if err := forgedChain(open); err != nil {
		t.Fatalf("before JIT's statement the portal session chains (the exposure): %v", err)
	}
	other := e.portalSTS(t, "alice", "PowerUserAccess", "222222222222")
	before := e.inlinePolicy(t, "PowerUserAccess")

	pd := e.portalDeny(ic)
	if err := pd.DenyChaining(ctx, a.PermissionSetARN, acct); err != nil {
		t.Fatal(err)
	}
	if err := forgedChain(other); apiErrCode(err) != "AccessDenied" {
		t.Errorf("chaining from a session in another account the set is provisioned to: %v, want AccessDenied", err)
	}
	puts, provs := e.sso.count("PutInlinePolicyToPermissionSet"), e.sso.count("ProvisionPermissionSet")
	if err := pd.DenyChaining(ctx, a.PermissionSetARN, acct); err != nil {
		t.Fatal(err)
	}
	if e.sso.count("PutInlinePolicyToPermissionSet") != puts || e.sso.count("ProvisionPermissionSet") != provs {
		t.Errorf("a second DenyChaining wrote or provisioned again")
	}
	doc := e.inlinePolicy(t, "PowerUserAccess")
	sids, raw := statements(t, doc)
	if n := len(sids); n == 0 || sids[n-1] != federation.NoChainingSid {
		t.Fatalf("statements %v, want JIT's %s last", sids, federation.NoChainingSid)
	}
	if adminSids, _ := statements(t, before); len(sids) != len(adminSids)+1 {
		t.Errorf("statements %v, want the administrators' %v kept", sids, adminSids)
	}
	for _, act := range []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"} {
		if !strings.Contains(raw[len(raw)-1], `"`+act+`"`) {
			t.Errorf("chaining deny %s lacks %s", raw[len(raw)-1], act)
		}
	}
	if err := forgedChain(open); apiErrCode(err) != "AccessDenied" {
		t.Fatalf("chaining from an open portal session after DenyChaining: %v, want AccessDenied", err)
	}
	if err := listBuckets(e.portalS3(t, "alice", "PowerUserAccess", acct)); err != nil {
		t.Errorf("portal session work after DenyChaining: %v", err)
	}

	// A cut and the pruning of everything expired keep the statement.
	e.clock.Advance(time.Second)
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, Before: e.clock.Now(), Until: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Pruning three hours on (JIT's clock only: the sandbox's must stay
	// within the SDK's signature skew).
	later := e.portalDeny(ic)
	later.Clock = offsetClock{e.clock, 3 * time.Hour}
	if _, err := later.Prune(ctx, a.PermissionSetARN, acct); err != nil {
		t.Fatal(err)
	}
	sids, _ = statements(t, e.inlinePolicy(t, "PowerUserAccess"))
	if len(jitSids(sids)) != 0 || sids[len(sids)-1] != federation.NoChainingSid {
		t.Errorf("after prune: statements %v, want no cut left and the chaining deny kept", sids)
	}

	// An administrator puts back the old policy: the next cut restores it.
	e.putInlinePolicy(t, "PowerUserAccess", before)
	e.clock.Advance(time.Second)
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, Before: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	sids, _ = statements(t, e.inlinePolicy(t, "PowerUserAccess"))
	found := false
	for _, s := range sids {
		found = found || s == federation.NoChainingSid
	}
	if !found {
		t.Errorf("after a cut: statements %v, want the chaining deny back", sids)
	}
}

// offsetClock is c plus d.
type offsetClock struct {
	c *fake.Clock
	d time.Duration
}

func (o offsetClock) Now() time.Time { return o.c.Now().Add(o.d) }

// The reconciler's Prune puts the chaining deny into a permission set JIT
// managed before it wrote one, and provisions it everywhere.
func TestPruneRestoresChainingDeny(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetPropagationDelay(0)
	ic := e.ic()
	a := e.assignment("alice@example.com", "PowerUserAccess", "222222222222")
	if err := ic.Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	open := e.portalSTS(t, "alice", "PowerUserAccess", "222222222222")
	if _, err := e.portalDeny(ic).Prune(ctx, a.PermissionSetARN, "111111111111"); err != nil {
		t.Fatal(err)
	}
	if err := forgedChain(open); apiErrCode(err) != "AccessDenied" {
		t.Fatalf("chaining after the reconciler's Prune: %v, want AccessDenied", err)
	}
}

// A permission set whose inline policy has no room for the chaining deny
// is not granted: DenyChaining answers invalid, naming the budget.
func TestDenyChainingNoRoom(t *testing.T) {
	e := newICEnv(t)
	var actions []string
	for i := 0; len(strings.Join(actions, `","`)) < 9950; i++ {
		actions = append(actions, "s3:GetObjectVersionTagging"+strings.Repeat("x", i%10))
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Deny","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
	if n := federation.PolicyChars(doc); n > federation.MaxInlinePolicyChars || n+248 <= federation.MaxInlinePolicyChars {
		t.Fatalf("fixture policy is %d characters; want room for less than the chaining deny", n)
	}
	e.putInlinePolicy(t, "ReadOnlyAccess", doc)
	err := e.portalDeny(e.ic()).DenyChaining(context.Background(), e.ps["ReadOnlyAccess"], "111111111111")
	if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "10240") {
		t.Fatalf("got %v, want invalid naming the budget", err)
	}
	if sids, _ := statements(t, e.inlinePolicy(t, "ReadOnlyAccess")); len(sids) != 1 || sids[0] != "Big" {
		t.Errorf("statements %v, want the administrator's only", sids)
	}
}
