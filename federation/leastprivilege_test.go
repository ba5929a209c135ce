package federation_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/check"
	"github.com/jitaccess/jit/federation/sandbox"
)

// The templates operators deploy, and the parameters a sandbox stack
// takes: the broker is the demo's IAM user.
var (
	memberTemplate = filepath.Join("..", "deploy", "aws", "member.yaml")
	brokerTemplate = filepath.Join("..", "deploy", "aws", "broker.yaml")
	memberParams   = map[string]string{"BrokerRoleArn": "arn:aws:iam::111111111111:user/jit-broker"}
)

const managementRole = "jit-management" // member.yaml's default ManagementRoleName

// awsInterfaces are federation's interfaces to AWS, each with the IAM
// service prefix of its calls: every AWS call JIT makes goes through one
// of their methods (cmd/jit wires SDK clients into them and calls AWS
// nowhere else). A method added to one is a call the exercise below must
// make, and the templates must grant.
var awsInterfaces = map[string][]reflect.Type{
	"sts":           {reflect.TypeFor[federation.AssumeRoleAPI]()},
	"iam":           {reflect.TypeFor[federation.RolePolicyAPI](), reflect.TypeFor[federation.PolicyReadAPI]()},
	"cloudtrail":    {reflect.TypeFor[federation.LookupEventsAPI]()},
	"organizations": {reflect.TypeFor[federation.OrganizationsAPI]()},
	"identitystore": {reflect.TypeFor[federation.UserIDAPI](), reflect.TypeFor[federation.DescribeUserAPI]()},
	"sso": {reflect.TypeFor[federation.AssignmentAPI](), reflect.TypeFor[federation.SSOAdminAPI](),
		reflect.TypeFor[federation.PermissionSetPolicyAPI](), reflect.TypeFor[federation.DescribePermissionSetAPI](),
		reflect.TypeFor[check.PermissionSetAPI](), reflect.TypeFor[federation.PermissionSetReadAPI]()},
}

// unreachable are interface methods no call path of JIT reaches, with the
// reason; the templates do not grant them.
var unreachable = map[string]string{
	"sso:DeleteInlinePolicyFromPermissionSet": "PortalDeny writes its role-chaining deny into every policy it saves, so the permission set's inline policy is never left empty",
}

// TestLeastPrivilege measures least privilege: it runs every AWS call
// path of federation against a sandbox whose roles are exactly those of
// deploy/aws/member.yaml, records the actions the sandbox served by
// principal, and compares them with what the templates grant: the
// broker's calls with broker.yaml's BrokerRole, the management role's
// with member.yaml's ManagementRole. It fails on an action granted but
// never called, or called but not granted, and on an interface method the
// exercise did not call. jit admin check (federation/check) runs in it
// too, so the templates are enough for the check. docs/aws-setup.md says why it is one in-process
// exercise rather than the whole suite's recording.
func TestLeastPrivilege(t *testing.T) {
	called := exerciseEveryCall(t)

	// The exercise covers every method of federation's AWS interfaces.
	var methods []string
	for prefix, types := range awsInterfaces {
		for _, typ := range types {
			for m := range typ.Methods() {
				methods = append(methods, prefix+":"+m.Name)
			}
		}
	}
	slices.Sort(methods)
	methods = slices.Compact(methods)
	var all []string
	for _, acts := range called {
		all = append(all, acts...)
	}
	for _, m := range methods {
		if why, ok := unreachable[m]; ok {
			if slices.Contains(all, m) {
				t.Errorf("%s was called, but is listed as unreachable (%s): grant it and drop it from the list", m, why)
			}
			continue
		}
		if !slices.Contains(all, m) {
			t.Errorf("%s is a method of federation's AWS interfaces that the exercise never called: add its call path to exerciseEveryCall", m)
		}
	}

	broker := grantedActions(t, brokerTemplate, "BrokerRole", map[string]string{
		"InstanceId": "ssoins-0123456789abcdef", "IdentityStoreId": "d-0123456789",
		"ManagedPermissionSetArns": "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"})
	mgmt := grantedActions(t, memberTemplate, "ManagementRole", memberParams)
	compareActions(t, "broker.yaml BrokerRole", broker, called["user/jit-broker"])
	compareActions(t, "member.yaml ManagementRole", mgmt, called["role/"+managementRole])
	for who := range called {
		if who != "user/jit-broker" && who != "role/"+managementRole && !strings.HasPrefix(who, "role/") {
			t.Errorf("unexpected principal %s called %v", who, called[who])
		}
	}
}

func grantedActions(t *testing.T, path, logicalID string, params map[string]string) []string {
	t.Helper()
	roles, err := sandbox.CloudFormationRoles(path, "aws", "", "111111111111", params)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if r.LogicalID == logicalID {
			return r.AllowedActions()
		}
	}
	t.Fatalf("%s has no resource %s", path, logicalID)
	return nil
}

func compareActions(t *testing.T, what string, granted, called []string) {
	t.Helper()
	for _, a := range granted {
		if !slices.Contains(called, a) {
			t.Errorf("%s grants %s, which JIT never called: remove it", what, a)
		}
	}
	for _, a := range called {
		if !slices.Contains(granted, a) {
			t.Errorf("JIT called %s, which %s does not grant: add it", a, what)
		}
	}
}

// exerciseEveryCall runs each federation type that calls AWS the way
// cmd/jit wires it (the management role for IAM and CloudTrail, the
// broker's own credentials for the rest) and returns the actions served,
// by principal.
func exerciseEveryCall(t *testing.T) map[string][]string {
	t.Helper()
	ctx := context.Background()
	f, err := sandbox.DemoFixture().WithCloudFormation([]string{memberTemplate}, memberParams)
	if err != nil {
		t.Fatal(err)
	}
	// A permission set with no inline policy of its own: pruning its last
	// deny entry deletes the inline policy.
	f.IdentityCenter.PermissionSets = append(f.IdentityCenter.PermissionSets, sandbox.PermissionSet{Name: "Bare", SessionDuration: "PT1H"})
	c := &wallClock{}
	sb, err := sandbox.New(f, sandbox.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	admin := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	store := identitystore.NewFromConfig(cfg, func(o *identitystore.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	orgs := organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	later := laterClock{c: c, d: 13 * time.Hour} // every session of now has expired

	// Import: Organizations and Identity Center.
	imp := &federation.Importer{Organizations: orgs, SSOAdmin: admin}
	if _, err := imp.Accounts(ctx); err != nil {
		t.Fatal(err)
	}
	sets, err := imp.PermissionSets(ctx)
	if err != nil || len(sets) == 0 {
		t.Fatalf("PermissionSets: %v, %v", sets, err)
	}
	inst, err := admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	instanceARN, storeID := aws.ToString(inst.Instances[0].InstanceArn), aws.ToString(inst.Instances[0].IdentityStoreId)
	psARN := ""
	for _, ps := range sets {
		if ps.Name == "Bare" {
			psARN = ps.ARN
		}
	}

	// The role path: mint, revoke through the management role, prune.
	creds, err := (&federation.Minter{STS: stsc, Clock: c}).Mint(ctx, broker.MintRequest{TicketID: "t1", AccountID: "222222222222",
		RoleName: "ReadOnlyAccess", Requester: "alice@example.com", Beneficiary: "alice@example.com", End: c.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	iamClients := &federation.IAMClients{Config: cfg, STS: stsc, ManagementRole: managementRole, Endpoint: srv.URL}
	rev := &federation.Revoker{IAM: iamClients.For, Clock: c}
	if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "t1", AccountID: "222222222222", RoleName: "ReadOnlyAccess", Until: creds.Expiration}); err != nil {
		t.Fatal(err)
	}
	if n, err := (&federation.Revoker{IAM: iamClients.For, Clock: later}).PruneRole(ctx, "222222222222", "ReadOnlyAccess"); err != nil || n == 0 {
		t.Fatalf("PruneRole = %d, %v; want the entry removed", n, err)
	}

	// The Identity Center path: assign, list, cut, prune, unassign.
	limiter := federation.NewLocalLimiter(1000, 10)
	ic := &federation.IdentityCenter{SSOAdmin: admin, IdentityStore: store, InstanceARN: instanceARN, IdentityStoreID: storeID,
		Clock: c, Limiter: limiter, PollInterval: time.Millisecond, Timeout: 20 * time.Second}
	a := broker.Assignment{AccountID: "222222222222", PermissionSetARN: psARN, User: "alice@example.com"}
	aliceID, err := ic.UserID(ctx, a.User)
	if err != nil {
		t.Fatal(err)
	}
	// Each operation once "lost" (made, its request id never recorded), so
	// that JIT's repeat meets the conflict and finds the lost one.
	lost := &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(instanceARN), TargetId: aws.String(a.AccountID),
		TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(psARN), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(aliceID)}
	if _, err := admin.CreateAccountAssignment(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := ic.Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	lister := &federation.AssignmentLister{SSOAdmin: admin, Users: store, InstanceARN: instanceARN, IdentityStoreID: storeID}
	if got, err := lister.ListAssignments(ctx, a.AccountID, a.PermissionSetARN); err != nil || len(got) != 1 {
		t.Fatalf("ListAssignments = %v, %v", got, err)
	}
	pd := &federation.PortalDeny{SSOAdmin: admin, Users: ic, InstanceARN: instanceARN, Clock: c, Limiter: limiter,
		PollInterval: time.Millisecond, Timeout: 20 * time.Second}
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, TicketID: "t2", Before: c.Now(), Until: c.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	pdLater := &federation.PortalDeny{SSOAdmin: admin, Users: ic, InstanceARN: instanceARN, Clock: later, Limiter: limiter,
		PollInterval: time.Millisecond, Timeout: 20 * time.Second}
	if n, err := pdLater.Prune(ctx, psARN, a.AccountID); err != nil || n == 0 {
		t.Fatalf("Prune = %d, %v; want the entry removed", n, err)
	}
	if _, err := admin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: lost.InstanceArn, TargetId: lost.TargetId,
		TargetType: lost.TargetType, PermissionSetArn: lost.PermissionSetArn, PrincipalType: lost.PrincipalType, PrincipalId: lost.PrincipalId}); err != nil {
		t.Fatal(err)
	}
	if err := ic.Unassign(ctx, a); err != nil {
		t.Fatal(err)
	}

	// Activity: CloudTrail through the management role, user names and
	// permission set names for the Identity Center path.
	trail := &federation.CloudTrailClients{Config: cfg, STS: stsc, RoleName: managementRole, Endpoint: srv.URL}
	act := &federation.Activity{Trail: trail.For, Clock: c, TTL: -1,
		UserName:          (&federation.UserNames{Store: store, IdentityStoreID: storeID}).UserName,
		PermissionSetName: (&federation.PermissionSetNames{SSOAdmin: admin, InstanceARN: instanceARN}).Name}
	if _, err := act.Lookup(ctx, broker.ActivityQuery{TicketID: "t2", AccountID: a.AccountID, Usernames: []string{a.User},
		PermissionSetARN: psARN, Start: c.Now().Add(-time.Hour), End: c.Now()}); err != nil {
		t.Fatal(err)
	}

	// Least-privilege hints: what a role and a permission set grant.
	grants := &federation.Grants{IAM: iamClients.Reader, SSOAdmin: admin, InstanceARN: instanceARN}
	if g, err := grants.Granted(ctx, broker.GrantQuery{AccountID: "222222222222", RoleName: "ReadOnlyAccess", PermissionSetARN: psARN}); err != nil || g.Actions == 0 {
		t.Fatalf("Granted = %+v, %v", g, err)
	}

	// jit admin check makes only calls of the paths above.
	rs := check.Run(ctx, check.Config{STS: stsc, ManagementRole: managementRole, IAM: iamClients.For, Trail: trail.For,
		SSOAdmin: admin, InstanceARN: instanceARN, Clock: c, Registry: broker.RegistryData{
			Accounts: []broker.Account{{ID: "222222222222"}},
			PermissionSets: []broker.PermissionSet{
				{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole},
				{Name: "Bare", ARN: psARN, GrantPath: broker.GrantIdentityCenter}}}})
	if check.Failed(rs) {
		t.Fatalf("jit admin check failed on the templates: %+v", rs)
	}

	out := map[string][]string{}
	for _, ra := range sb.Actions() {
		out[ra.Principal] = append(out[ra.Principal], ra.Action)
	}
	t.Logf("actions served: %v", out)
	return out
}

// laterClock reads a wallClock moved by d, for the code under test only.
type laterClock struct {
	c *wallClock
	d time.Duration
}

func (l laterClock) Now() time.Time { return l.c.Now().Add(l.d) }
