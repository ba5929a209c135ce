package check_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/check"
	"github.com/jitaccess/jit/federation/sandbox"
)

const mgmt = "jit-management"

// memberFixture is the demo organization with exactly the roles of
// deploy/aws/member.yaml in every account.
func memberFixture(t *testing.T) sandbox.Fixture {
	t.Helper()
	f := sandbox.DemoFixture()
	f, err := f.WithCloudFormation([]string{filepath.Join("..", "..", "deploy", "aws", "member.yaml")},
		map[string]string{"BrokerRoleArn": sandbox.DemoBrokerARN(f)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// runCheck runs the check against a sandbox of f, wired as cmd/jit wires
// JIT's clients, for a registry of the demo accounts, the role-path
// permission set ReadOnlyAccess and the Identity Center permission set
// ReadOnlyAccess (as "Portal"); psARN, when set, replaces the latter's ARN.
func runCheck(t *testing.T, f sandbox.Fixture, psARN string) []check.Result {
	t.Helper()
	return runCheckAfter(t, f, psARN, nil)
}

// runCheckAfter is runCheck after before has changed Identity Center
// through the broker's client.
func runCheckAfter(t *testing.T, f sandbox.Fixture, psARN string, before func(ctx context.Context, admin *ssoadmin.Client, instARN, psARN string)) []check.Result {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(f, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	admin := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	inst, err := admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	instARN := aws.ToString(inst.Instances[0].InstanceArn)
	if psARN == "" {
		sets, err := (&federation.Importer{SSOAdmin: admin, InstanceARN: instARN}).PermissionSets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sets {
			if s.Name == "ReadOnlyAccess" {
				psARN = s.ARN
			}
		}
	}
	reg := broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111"}, {ID: "222222222222"}, {ID: "333333333333"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}}},
			{Name: "Portal", ARN: psARN, GrantPath: broker.GrantIdentityCenter, Scope: broker.Scope{Accounts: []string{"*"}}},
		},
	}
	if before != nil {
		before(ctx, admin, instARN, psARN)
	}
	iamClients := &federation.IAMClients{Config: cfg, STS: stsc, ManagementRole: mgmt, Endpoint: srv.URL}
	trail := &federation.CloudTrailClients{Config: cfg, STS: stsc, RoleName: mgmt, Endpoint: srv.URL}
	return check.Run(ctx, check.Config{STS: stsc, ManagementRole: mgmt, IAM: iamClients.For, Trail: trail.For,
		SSOAdmin: admin, InstanceARN: instARN, Registry: reg})
}

func TestCheckPasses(t *testing.T) {
	rs := runCheck(t, memberFixture(t), "")
	// Per account: assume, deny list, mint, CloudTrail; then the portal set.
	if len(rs) != 3*4+1 {
		t.Errorf("%d results, want 13: %+v", len(rs), rs)
	}
	for _, r := range rs {
		if !r.OK {
			t.Errorf("%s %s failed: %s (fix: %s)", r.Check, r.Target, r.Problem, r.Fix)
		}
	}
	if check.Failed(rs) {
		t.Error("Failed = true on a working setup")
	}
}

// editRole changes role name in account of f.
func editRole(f *sandbox.Fixture, account, name string, edit func(*sandbox.Role)) {
	for i := range f.Roles {
		if f.Roles[i].Account == account && f.Roles[i].Name == name {
			edit(&f.Roles[i])
		}
	}
}

func dropRole(f *sandbox.Fixture, account, name string) {
	f.Roles = slices.DeleteFunc(f.Roles, func(r sandbox.Role) bool { return r.Account == account && r.Name == name })
}

func withoutTrust(action string) func(*sandbox.Role) {
	return func(r *sandbox.Role) {
		r.TrustActions = slices.DeleteFunc(slices.Clone(r.TrustActions), func(a string) bool { return a == action })
	}
}

func replacePolicy(old, new string) func(*sandbox.Role) {
	return func(r *sandbox.Role) {
		r.Policies = map[string]string{mgmt: strings.Replace(r.Policies[mgmt], old, new, 1)}
	}
}

// TestCheckNamesEachFault breaks a working setup in one place at a time:
// exactly one check fails, and its message names the fault.
func TestCheckNamesEachFault(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*sandbox.Fixture)
		psARN  string
		check  string
		want   []string
	}{
		{"management role missing", func(f *sandbox.Fixture) { dropRole(f, "222222222222", mgmt) }, "",
			"assume management role", []string{"cannot assume arn:aws:iam::222222222222:role/jit-management", "member.yaml"}},
		{"management role may not write deny entries", func(f *sandbox.Fixture) {
			editRole(f, "222222222222", mgmt, replacePolicy(`"iam:PutRolePolicy",`, ""))
		}, "", "read and write deny list", []string{"cannot write the deny list of ReadOnlyAccess in 222222222222", "iam:PutRolePolicy"}},
		{"role missing", func(f *sandbox.Fixture) { dropRole(f, "333333333333", "ReadOnlyAccess") }, "",
			"read and write deny list", []string{"ReadOnlyAccess in 333333333333", "NoSuchEntity"}},
		{"trust without sts:TagSession", func(f *sandbox.Fixture) {
			editRole(f, "222222222222", "ReadOnlyAccess", withoutTrust("sts:TagSession"))
		}, "", "mint ticket session", []string{"trust policy of ReadOnlyAccess in 222222222222 does not allow sts:TagSession"}},
		{"trust without sts:SetSourceIdentity", func(f *sandbox.Fixture) {
			editRole(f, "111111111111", "ReadOnlyAccess", withoutTrust("sts:SetSourceIdentity"))
		}, "", "mint ticket session", []string{"trust policy of ReadOnlyAccess in 111111111111 does not allow sts:SetSourceIdentity"}},
		{"trust of another principal", func(f *sandbox.Fixture) {
			editRole(f, "333333333333", "ReadOnlyAccess", func(r *sandbox.Role) { r.TrustedPrincipals = []string{"arn:aws:iam::111111111111:role/other"} })
		}, "", "mint ticket session", []string{"trust policy of ReadOnlyAccess in 333333333333 does not allow sts:AssumeRole"}},
		{"no CloudTrail", func(f *sandbox.Fixture) {
			editRole(f, "333333333333", mgmt, replacePolicy(`"cloudtrail:LookupEvents"`, `"cloudtrail:GetTrail"`))
		}, "", "CloudTrail LookupEvents", []string{"CloudTrail does not answer LookupEvents for account 333333333333", "cloudtrail:LookupEvents"}},
		{"unknown permission set", func(*sandbox.Fixture) {}, "arn:aws:sso:::permissionSet/ssoins-72230000jitdemo1/ps-0000000000000000",
			"Identity Center permission set", []string{"Identity Center does not describe Portal", "ps-0000000000000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := memberFixture(t)
			tt.break_(&f)
			rs := runCheck(t, f, tt.psARN)
			var failed []check.Result
			for _, r := range rs {
				if !r.OK {
					failed = append(failed, r)
				}
			}
			if len(failed) != 1 {
				t.Fatalf("%d checks failed, want 1: %+v", len(failed), failed)
			}
			r := failed[0]
			if r.Check != tt.check {
				t.Errorf("failed check %q, want %q", r.Check, tt.check)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.Problem+" "+r.Fix, w) {
					t.Errorf("problem %q / fix %q does not name %q", r.Problem, r.Fix, w)
				}
			}
			if r.Fix == "" {
				t.Error("no fix given")
			}
			if !check.Failed(rs) {
				t.Error("Failed = false")
			}
		})
	}
}

// A permission set changed but not provisioned again in an account: the
// deny entries JIT wrote are not in force there, and the check says where.
func TestCheckNamesStaleProvisioning(t *testing.T) {
	rs := runCheckAfter(t, memberFixture(t), "", func(ctx context.Context, admin *ssoadmin.Client, instARN, psARN string) {
		out, err := admin.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: aws.String(instARN), PermissionSetArn: aws.String(psARN),
			TargetType: ssotypes.ProvisionTargetTypeAwsAccount, TargetId: aws.String("222222222222")})
		if err != nil {
			t.Fatal(err)
		}
		for range 100 { // the sandbox settles an operation on its own within seconds
			st, err := admin.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: aws.String(instARN),
				ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
			if err != nil {
				t.Fatal(err)
			}
			if st.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesInProgress {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := admin.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: aws.String(instARN), PermissionSetArn: aws.String(psARN),
			InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":"cut"}}}]}`)}); err != nil {
			t.Fatal(err)
		}
	})
	var failed []check.Result
	for _, r := range rs {
		if !r.OK {
			failed = append(failed, r)
		}
	}
	if len(failed) != 1 || failed[0].Check != "Identity Center permission set" || !strings.Contains(failed[0].Problem, "not provisioned in 222222222222") || failed[0].Fix == "" {
		t.Fatalf("failed checks %+v, want the permission set's, naming 222222222222", failed)
	}
}
