package federation_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// portalEnv is a sandbox whose Identity Center has, besides the demo's
// permission sets, ReadOnly and ReadOnly_Admin: their roles
// AWSReservedSSO_ReadOnly_<hex> and AWSReservedSSO_ReadOnly_Admin_<hex>
// start alike, and AWSReservedSSO_ReadOnlyAccess_<hex> starts like both.
type portalEnv struct {
	clock *wallClock
	sb    *sandbox.Sandbox
	url   string
	cfg   aws.Config
	admin *ssoadmin.Client
	inst  string
	ps    map[string]string // permission set name -> ARN
}

func newPortalEnv(t *testing.T) *portalEnv {
	t.Helper()
	f := sandbox.DemoFixture()
	read := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:List*","iam:Get*"],"Resource":"*"}]}`
	all := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	f.IdentityCenter.PermissionSets = append(f.IdentityCenter.PermissionSets,
		sandbox.PermissionSet{Name: "ReadOnly", SessionDuration: "PT8H", InlinePolicy: read},
		sandbox.PermissionSet{Name: "ReadOnly_Admin", SessionDuration: "PT8H", InlinePolicy: all})
	c := &wallClock{}
	sb, err := sandbox.New(f, sandbox.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	e := &portalEnv{clock: c, sb: sb, url: srv.URL, ps: map[string]string{},
		cfg: awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)}
	e.admin = ssoadmin.NewFromConfig(e.cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	inst, err := e.admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 {
		t.Fatalf("ListInstances: %+v, %v", inst, err)
	}
	e.inst = aws.ToString(inst.Instances[0].InstanceArn)
	sets, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.inst)})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range sets.PermissionSets {
		d, err := e.admin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		e.ps[aws.ToString(d.PermissionSet.Name)] = arn
	}
	return e
}

func (e *portalEnv) store() *identitystore.Client {
	return identitystore.NewFromConfig(e.cfg, func(o *identitystore.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *portalEnv) assign(t *testing.T, user, ps, account string) {
	t.Helper()
	ic := &federation.IdentityCenter{SSOAdmin: e.admin, IdentityStore: e.store(), InstanceARN: e.inst, IdentityStoreID: "d-9067000001",
		Clock: e.clock, Limiter: federation.NewLocalLimiter(1000, 10), PollInterval: time.Millisecond, Timeout: 20 * time.Second}
	if err := ic.Assign(context.Background(), broker.Assignment{AccountID: account, PermissionSetARN: e.ps[ps], User: user}); err != nil {
		t.Fatal(err)
	}
}

// portal returns the AWS config of a portal session of user (an Identity
// Center user name) for the permission set in the account.
func (e *portalEnv) portal(t *testing.T, user, ps, account string) aws.Config {
	t.Helper()
	tok, err := e.sb.PortalToken(user)
	if err != nil {
		t.Fatal(err)
	}
	cl := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url)})
	out, err := cl.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(tok), AccountId: aws.String(account), RoleName: aws.String(ps)})
	if err != nil {
		t.Fatalf("portal credentials of %s for %s in %s: %v", user, ps, account, err)
	}
	c := out.RoleCredentials
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
}

func (e *portalEnv) listBuckets(t *testing.T, cfg aws.Config) {
	t.Helper()
	cl := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
	if _, err := cl.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
}

func (e *portalEnv) putRolePolicy(t *testing.T, cfg aws.Config) {
	t.Helper()
	cl := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) })
	if _, err := cl.PutRolePolicy(context.Background(), &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"),
		PolicyName: aws.String("backdoor"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
}

// activity returns an Activity reading account's event history through
// the broker's own credentials, which read the broker's account
// (111111111111) whatever account is asked for.
func (e *portalEnv) activity() *federation.Activity {
	stsc := sts.NewFromConfig(e.cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
	clients := &federation.CloudTrailClients{Config: e.cfg, STS: stsc, Endpoint: e.url}
	return &federation.Activity{
		Trail:             clients.For,
		Clock:             e.clock,
		TTL:               -1,
		UserName:          (&federation.UserNames{Store: e.store(), IdentityStoreID: "d-9067000001"}).UserName,
		PermissionSetName: (&federation.PermissionSetNames{SSOAdmin: e.admin, InstanceARN: e.inst}).Name,
	}
}

// On the Identity Center path a ticket's activity is its beneficiaries'
// portal sessions of its permission set's role, in its account, inside
// its window; not their sessions of other permission sets (also those
// whose role names start alike), not other users', not other accounts',
// not before or after the window.
func TestActivityIdentityCenterScope(t *testing.T) {
	e := newPortalEnv(t)
	ctx := context.Background()
	const dev, staging = "111111111111", "222222222222"
	for _, a := range []struct{ user, ps, account string }{
		{"alice@example.com", "ReadOnly", dev}, {"alice@example.com", "ReadOnly", staging},
		{"alice@example.com", "ReadOnly_Admin", dev}, {"alice@example.com", "ReadOnlyAccess", dev},
		{"alice@example.com", "AdministratorAccess", dev}, {"bob@example.com", "ReadOnly", dev},
	} {
		e.assign(t, a.user, a.ps, a.account)
	}
	t0 := e.clock.Now().Truncate(time.Second)
	start, end := t0.Add(time.Minute), t0.Add(10*time.Minute)

	e.clock.Set(t0)
	early := e.portal(t, "alice", "ReadOnly", dev)
	e.listBuckets(t, early) // before the window

	e.clock.Set(start.Add(time.Second))
	e.listBuckets(t, early) // the earlier session, used inside the window
	e.clock.Advance(time.Second)
	e.listBuckets(t, e.portal(t, "alice", "ReadOnly", dev))
	e.clock.Advance(time.Second)
	e.putRolePolicy(t, e.portal(t, "alice", "ReadOnly_Admin", dev))
	e.putRolePolicy(t, e.portal(t, "alice", "AdministratorAccess", dev))
	e.listBuckets(t, e.portal(t, "alice", "ReadOnlyAccess", dev))
	e.listBuckets(t, e.portal(t, "alice", "ReadOnly", staging))
	e.listBuckets(t, e.portal(t, "bob", "ReadOnly", dev))

	e.clock.Set(end.Add(time.Second))
	e.listBuckets(t, early) // after the window
	e.clock.Advance(time.Minute)

	q := broker.ActivityQuery{TicketID: "t1", AccountID: dev, Usernames: []string{"alice@example.com"},
		PermissionSetARN: e.ps["ReadOnly"], Start: start, End: end}
	evs, err := e.activity().Lookup(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ListBuckets alice", "ListBuckets alice"}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.EventName+" "+ev.Username)
		if ev.EventTime.Before(start) || ev.EventTime.After(end) {
			t.Errorf("event %+v outside [%s, %s]", ev, start, end)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	checkOrder(t, evs)

	// While another ticket held the same set for alice, her events are
	// both tickets': marked shared, and only those.
	shared := q
	shared.Shared = []broker.ActivitySpan{{User: "alice@example.com", Start: start, End: start.Add(time.Second)},
		{User: "bob@example.com", Start: start, End: end}}
	if evs, err = e.activity().Lookup(ctx, shared); err != nil {
		t.Fatal(err)
	}
	var marks []bool
	for _, ev := range evs {
		marks = append(marks, ev.Shared)
	}
	if want := []bool{false, true}; !cmp.Equal(marks, want) { // newest first
		t.Errorf("shared marks %v, want %v", marks, want)
	}

	// The same user's other permission set in the same window shows its
	// own events only.
	q.PermissionSetARN = e.ps["ReadOnly_Admin"]
	if evs, err = e.activity().Lookup(ctx, q); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].EventName != "PutRolePolicy" {
		t.Errorf("ReadOnly_Admin events %+v, want its one PutRolePolicy", evs)
	}

	// Asked for staging, a trail that reads dev's history has nothing of
	// staging's to show.
	q.AccountID, q.PermissionSetARN = staging, e.ps["ReadOnly"]
	if evs, err = e.activity().Lookup(ctx, q); err != nil || len(evs) != 0 {
		t.Errorf("staging from dev's history: %+v %v, want none", evs, err)
	}

	// No permission set, or no way to name its role: refused, not widened.
	q.AccountID, q.PermissionSetARN = dev, ""
	if _, err := e.activity().Lookup(ctx, q); broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("no permission set: %v, want %s", err, broker.EUNAVAILABLE)
	}
	a := e.activity()
	a.PermissionSetName = nil
	q.PermissionSetARN = e.ps["ReadOnly"]
	if _, err := a.Lookup(ctx, q); broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("no PermissionSetName: %v, want %s", err, broker.EUNAVAILABLE)
	}
}
