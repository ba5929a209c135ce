package federation_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// Grants reads a role's and a permission set's policies from the sandbox
// through the SDK and counts what they allow over the action catalogue:
// counts computed by hand from the catalogue (sts has six Get*
// operations: GetAccessKeyInfo, GetCallerIdentity,
// GetDelegatedAccessToken, GetFederationToken, GetSessionToken,
// GetWebIdentityToken).
func TestGrantsFromSandbox(t *testing.T) {
	ctx := context.Background()
	f := sandbox.DemoFixture()
	f.ManagedPolicies = append(f.ManagedPolicies, sandbox.ManagedPolicy{Account: "111111111111", Name: "ec2-regions", Path: "/team/",
		Document: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:DescribeRegions","Resource":"*"}}`})
	f.Roles = append(f.Roles, sandbox.Role{Account: "111111111111", Name: "Narrow", Policies: map[string]string{
		"narrow": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:Get*","s3:ListBuckets","S3:listbuckets"],"Resource":"*"},` +
			`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:ViaAWSService":"true"}}}]}`,
		federation.RevocationPolicyName: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`,
	}, ManagedPolicyArns: []string{"arn:aws:iam::111111111111:policy/team/ec2-regions"}})
	f.IdentityCenter.PermissionSets = append(f.IdentityCenter.PermissionSets,
		sandbox.PermissionSet{Name: "Mixed", SessionDuration: "PT1H", CustomerManagedPolicies: []string{"/team/ec2-regions"},
			InlinePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","sts:GetCallerIdentity"],"Resource":"*"}]}`},
		sandbox.PermissionSet{Name: "Everything", SessionDuration: "PT1H", ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}})
	sb, err := sandbox.New(f, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	admin := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	iamClients := &federation.IAMClients{Config: cfg, STS: stsc, ManagementRole: sandbox.DemoManagementRole, Endpoint: srv.URL}
	inst, err := admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	g := &federation.Grants{IAM: iamClients.Reader, SSOAdmin: admin, InstanceARN: aws.ToString(inst.Instances[0].InstanceArn)}
	sets := map[string]string{}
	imp := &federation.Importer{SSOAdmin: admin}
	all, err := imp.PermissionSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ps := range all {
		sets[ps.Name] = ps.ARN
	}

	for _, tc := range []struct {
		name string
		q    broker.GrantQuery
		want broker.Granted
	}{
		{"role inline and attached", broker.GrantQuery{AccountID: "111111111111", RoleName: "Narrow"},
			broker.Granted{Policies: []string{"inline:narrow", "arn:aws:iam::111111111111:policy/team/ec2-regions"}, Actions: 8, Services: 3}},
		{"permission set customer managed and inline", broker.GrantQuery{AccountID: "111111111111", PermissionSetARN: sets["Mixed"]},
			broker.Granted{Policies: []string{"arn:aws:iam::111111111111:policy/team/ec2-regions", "inline"}, Actions: 3, Services: 3}},
		{"AWS managed AdministratorAccess", broker.GrantQuery{AccountID: "222222222222", PermissionSetARN: sets["Everything"]},
			broker.Granted{Policies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, Actions: federation.CatalogSize(), Services: 362, All: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := g.Granted(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Policies, tc.want.Policies) || got.Actions != tc.want.Actions || got.Services != tc.want.Services || got.All != tc.want.All {
				t.Errorf("Granted(%+v) = %+v, want %+v", tc.q, got, tc.want)
			}
		})
	}
	if n := federation.CatalogSize(); n < 15000 {
		t.Errorf("the action catalogue holds %d actions; botocore's models have about 18,000", n)
	}
	if _, err := g.Granted(ctx, broker.GrantQuery{AccountID: "111111111111", RoleName: "NoSuchRole"}); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("a missing role: %v, want not_found", err)
	}
	// A role the management role may not read: unavailable, naming only
	// AWS's error code, not JIT's own roles.
	denied := &federation.IAMClients{Config: cfg, STS: stsc, ManagementRole: "Narrow", Endpoint: srv.URL}
	_, err = (&federation.Grants{IAM: denied.Reader}).Granted(ctx, broker.GrantQuery{AccountID: "111111111111", RoleName: "ReadOnlyAccess"})
	if broker.ErrorCode(err) != broker.EUNAVAILABLE || !strings.HasSuffix(broker.ErrorMessage(err), "AWS answered AccessDenied") || strings.Contains(err.Error(), "arn:") {
		t.Errorf("reading without permission: %v, want unavailable naming AccessDenied only", err)
	}
}
