package sandbox

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// managedFixture is the demo world plus roles built from managed
// policies, a customer managed policy and a permissions boundary.
func managedFixture() Fixture {
	f := DemoFixture()
	const acct = "111111111111"
	f.ManagedPolicies = []ManagedPolicy{{Account: acct, Name: "NoS3", Path: "/jit/",
		Document: policyDoc(`{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)}}
	f.Roles = append(f.Roles,
		Role{Account: acct, Name: "ManagedRO", ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		Role{Account: acct, Name: "ManagedAdminNoS3", ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::111111111111:policy/jit/NoS3"}},
		Role{Account: acct, Name: "BoundedAdmin", ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
			PermissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess"},
	)
	return f
}

// TestManagedPoliciesEndToEnd runs managed policies, permissions
// boundaries, managed session policies (PolicyArns) and allow-list SCPs
// through minted sessions and real SDK calls.
func TestManagedPoliciesEndToEnd(t *testing.T) {
	const root = "arn:aws:iam::111111111111:role/"
	tests := []struct {
		name       string
		scps       []string
		role       string
		policyArns []string
		wantS3     string // error code, "" for success
		wantEC2    string
		wantMsg    string // suffix of the S3 denial
	}{
		{name: "AWS managed ReadOnlyAccess", role: "ManagedRO"},
		{name: "customer managed deny beside AdministratorAccess", role: "ManagedAdminNoS3", wantS3: "AccessDenied",
			wantMsg: "with an explicit deny in an identity-based policy"},
		{name: "permissions boundary caps AdministratorAccess", role: "BoundedAdmin"},
		{name: "PolicyArns narrow the session", role: "AdministratorAccess",
			policyArns: []string{"arn:aws:iam::111111111111:policy/jit/NoS3"}, wantS3: "AccessDenied", wantEC2: "UnauthorizedOperation",
			wantMsg: "with an explicit deny in a session policy"},
		{name: "PolicyArns ReadOnlyAccess", role: "AdministratorAccess", policyArns: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		{name: "SCP allowing only s3", scps: []string{policyDoc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`)}, role: "ReadOnlyAccess",
			wantEC2: "UnauthorizedOperation"},
		{name: "SCP allowing only ec2", scps: []string{policyDoc(`{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`)}, role: "ReadOnlyAccess",
			wantS3: "AccessDenied", wantMsg: "because no service control policy allows the s3:ListAllMyBuckets action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := managedFixture()
			f.ServiceControlPolicies = tt.scps
			e := newEnv(t, f)
			in := &sts.AssumeRoleInput{RoleArn: aws.String(root + tt.role), RoleSessionName: aws.String("jit-t1-alice")}
			for _, a := range tt.policyArns {
				in.PolicyArns = append(in.PolicyArns, ststypes.PolicyDescriptorType{Arn: aws.String(a)})
			}
			c := e.session(assume(t, e.broker(), in).Credentials)
			s3Err := listBuckets(c)
			if tt.wantS3 == "" && s3Err != nil {
				t.Errorf("ListBuckets: %v", s3Err)
			} else if tt.wantS3 != "" {
				wantAPIError(t, s3Err, tt.wantS3, "")
				if _, msg := apiCode(t, s3Err); !strings.HasSuffix(msg, tt.wantMsg) {
					t.Errorf("ListBuckets message %q, want suffix %q", msg, tt.wantMsg)
				}
			}
			ec2Err := describeRegions(c)
			if tt.wantEC2 == "" && ec2Err != nil {
				t.Errorf("DescribeRegions: %v", ec2Err)
			} else if tt.wantEC2 != "" {
				wantAPIError(t, ec2Err, tt.wantEC2, "")
			}
		})
	}
}

func TestAssumeRolePolicyArnsErrors(t *testing.T) {
	f := managedFixture()
	f.ManagedPolicies = append(f.ManagedPolicies, ManagedPolicy{Account: "222222222222", Name: "Elsewhere", Document: policyDoc(allowAllSt)})
	e := newEnv(t, f)
	for _, arn := range []string{"arn:aws:iam::aws:policy/NoSuchPolicy", "arn:aws:iam::222222222222:policy/Elsewhere"} {
		_, err := e.broker().sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(devReadOnly), RoleSessionName: aws.String("s1"),
			PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String(arn)}}})
		wantAPIError(t, err, "MalformedPolicyDocument", "Policy "+arn+" does not exist or is not attachable.")
	}
}

func TestManagedFixtureErrors(t *testing.T) {
	tests := map[string]func(*Fixture){
		"roles[15].managed_policy_arns[0]": func(f *Fixture) {
			f.Roles = append(f.Roles, Role{Account: "111111111111", Name: "X", ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/Nope"}})
		},
		"roles[15].permissions_boundary": func(f *Fixture) {
			f.Roles = append(f.Roles, Role{Account: "222222222222", Name: "X", PermissionsBoundary: "arn:aws:iam::111111111111:policy/jit/NoS3"})
		},
		"managed_policies[1].document": func(f *Fixture) {
			f.ManagedPolicies = append(f.ManagedPolicies, ManagedPolicy{Account: "111111111111", Name: "Bad", Document: "{"})
		},
		"service_control_policies[0]": func(f *Fixture) { f.ServiceControlPolicies = []string{"{"} },
	}
	for want, mutate := range tests {
		f := managedFixture()
		if n := len(f.Roles); n != 15 {
			t.Fatalf("managedFixture has %d roles; update the test", n)
		}
		mutate(&f)
		if _, err := New(f, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v, want an error naming %s", err, want)
		}
	}
}

// TestPermissionSetManagedPolicies provisions a permission set with an
// AWS managed policy, a customer managed policy reference and a
// permissions boundary, and evaluates its role in two accounts: the one
// holding the customer managed policy and one without it.
func TestPermissionSetManagedPolicies(t *testing.T) {
	f := managedFixture()
	f.IdentityCenter.PermissionSets = append(f.IdentityCenter.PermissionSets, PermissionSet{
		Name: "Managed", ManagedPolicies: []string{"arn:aws:iam::aws:policy/PowerUserAccess"},
		CustomerManagedPolicies: []string{"/jit/NoS3"}, PermissionsBoundary: "arn:aws:iam::aws:policy/ReadOnlyAccess",
	})
	sb, err := New(f, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ps *permSet
	for _, p := range sb.ic.instance.permSets {
		if p.name == "Managed" {
			ps = p
		}
	}
	now := sb.now()
	for acct, wantS3 := range map[string]decision{
		"111111111111": {explicit: true, where: inIdentityPolicy}, // NoS3 exists here
		"222222222222": {allowed: true},
	} {
		sb.provision(ps, acct, now)
		rs := ps.roles[acct]
		set := sb.rolePolicySet(rs, nil, now)
		ctx := map[string][]string{}
		if got := set.evaluate(evalRequest{action: "s3:ListAllMyBuckets", resource: "*", context: ctx}); got != wantS3 {
			t.Errorf("%s: s3:ListAllMyBuckets = %+v, want %+v", acct, got, wantS3)
		}
		if got := set.evaluate(evalRequest{action: "ec2:RunInstances", resource: "*", context: ctx}); got != (decision{where: inBoundary}) {
			t.Errorf("%s: ec2:RunInstances = %+v, want denied by the boundary", acct, got)
		}
		if got := set.evaluate(evalRequest{action: "ec2:DescribeRegions", resource: "*", context: ctx}); !got.allowed {
			t.Errorf("%s: ec2:DescribeRegions = %+v, want allowed", acct, got)
		}
	}
}

// TestManagedFixtureYAML loads the fixture keys of managed policies,
// boundaries, SCPs and permission set attachments from YAML.
func TestManagedFixtureYAML(t *testing.T) {
	const doc = `
accounts: [{id: "111111111111", name: dev}]
service_control_policies:
  - '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
managed_policies:
  - account: "111111111111"
    name: NoS3
    path: /jit/
    document: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}'
roles:
  - account: "111111111111"
    name: Bounded
    managed_policy_arns: [arn:aws:iam::aws:policy/AdministratorAccess, arn:aws:iam::111111111111:policy/jit/NoS3]
    permissions_boundary: arn:aws:iam::aws:policy/ReadOnlyAccess
identity_center:
  permission_sets:
    - name: Managed
      managed_policies: [arn:aws:iam::aws:policy/PowerUserAccess]
      customer_managed_policies: [/jit/NoS3]
      permissions_boundary: arn:aws:iam::aws:policy/ReadOnlyAccess
`
	path := t.TempDir() + "/f.yaml"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	r := f.Roles[0]
	ps := f.IdentityCenter.PermissionSets[0]
	if len(f.ServiceControlPolicies) != 1 || len(f.ManagedPolicies) != 1 || len(r.ManagedPolicyArns) != 2 || r.PermissionsBoundary == "" ||
		len(ps.ManagedPolicies) != 1 || len(ps.CustomerManagedPolicies) != 1 || ps.PermissionsBoundary == "" {
		t.Errorf("fixture = %+v", f)
	}
	bad := strings.Replace(doc, "customer_managed_policies: [/jit/NoS3]", "customer_managed_policies: [/jit/No S3]", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFixture(path); err == nil || !strings.Contains(err.Error(), "customer_managed_policies[0]") {
		t.Errorf("bad customer managed reference: %v", err)
	}
}
