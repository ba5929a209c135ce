package sandbox

import (
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestIAMListRolesAndManagedPolicies runs ListRoles (path prefix,
// paging, bound markers), ListAttachedRolePolicies, GetPolicy and
// GetPolicyVersion through the SDK and the AWS CLI, and checks the
// Identity Center roles' trust policy.
func TestIAMListRolesAndManagedPolicies(t *testing.T) {
	e := newICEnv(t, managedFixture(), Options{})
	// An Identity Center role in the dev account.
	e.assign(t, assignmentInput(e.inst, devAccount, e.permSetARN(t, "ReadOnlyAccess"), ssotypes.PrincipalTypeUser, e.userID(t, "alice")))
	c := e.broker().iam

	var all []string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Roles) > 2 {
			t.Errorf("page of %d roles, MaxItems 2", len(out.Roles))
		}
		for _, r := range out.Roles {
			all = append(all, aws.ToString(r.Path)+aws.ToString(r.RoleName))
		}
	}
	// The demo dev account: 4 roles under /, the three managed ones, and
	// the Identity Center role under its reserved path (sorted last).
	if len(all) != 8 || !strings.HasPrefix(all[7], ssoRolePath+"AWSReservedSSO_ReadOnlyAccess_") {
		t.Fatalf("ListRoles = %v", all)
	}
	sso, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/")})
	if err != nil || len(sso.Roles) != 1 || sso.IsTruncated {
		t.Fatalf("ListRoles /aws-reserved/ = %+v, %v", sso, err)
	}
	trust, _ := url.QueryUnescape(aws.ToString(sso.Roles[0].AssumeRolePolicyDocument))
	var doc struct {
		Statement []struct {
			Principal struct{ Federated string }
			Action    []string
		}
	}
	if err := json.Unmarshal([]byte(trust), &doc); err != nil || len(doc.Statement) != 1 ||
		!strings.HasPrefix(doc.Statement[0].Principal.Federated, "arn:aws:iam::111111111111:saml-provider/AWSSSO_") ||
		doc.Statement[0].Action[0] != "sts:AssumeRoleWithSAML" {
		t.Errorf("Identity Center role trust policy = %s", trust)
	}
	// A marker from another path prefix, or a forged one, is refused.
	first, err := c.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
	if err != nil || first.Marker == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	_, err = c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/"), Marker: first.Marker})
	wantAPIError(t, err, "ValidationError", "Invalid Marker.")
	_, err = c.ListRoles(ctx, &iam.ListRolesInput{Marker: aws.String("1")})
	wantAPIError(t, err, "ValidationError", "Invalid Marker.")

	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ManagedAdminNoS3")})
	if err != nil || len(att.AttachedPolicies) != 2 || aws.ToString(att.AttachedPolicies[1].PolicyArn) != "arn:aws:iam::111111111111:policy/jit/NoS3" {
		t.Fatalf("ListAttachedRolePolicies = %+v, %v", att, err)
	}
	att, err = c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ManagedAdminNoS3"), PathPrefix: aws.String("/jit/")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "NoS3" {
		t.Fatalf("ListAttachedRolePolicies /jit/ = %+v, %v", att, err)
	}
	_, err = c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("Nope")})
	wantAPIError(t, err, "NoSuchEntity", "The role with name Nope cannot be found.")

	gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	if err != nil || aws.ToString(gp.Policy.PolicyName) != "AdministratorAccess" || aws.ToString(gp.Policy.DefaultVersionId) != "v1" ||
		aws.ToInt32(gp.Policy.AttachmentCount) != 2 || aws.ToInt32(gp.Policy.PermissionsBoundaryUsageCount) != 0 || !gp.Policy.IsAttachable {
		t.Fatalf("GetPolicy = %+v, %v", gp, err)
	}
	gv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess"), VersionId: aws.String("v1")})
	if err != nil || !gv.PolicyVersion.IsDefaultVersion {
		t.Fatalf("GetPolicyVersion = %+v, %v", gv, err)
	}
	if d, _ := url.QueryUnescape(aws.ToString(gv.PolicyVersion.Document)); d != awsManagedPolicies["ReadOnlyAccess"].document {
		t.Errorf("GetPolicyVersion document = %s", d)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess"), VersionId: aws.String("v2")})
	wantAPIError(t, err, "NoSuchEntity", "")
	_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantAPIError(t, err, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/NoSuchPolicy was not found.")

	// A role session needs the permission: ReadOnlyAccess's iam:List*.
	ro := e.session(assume(t, e.broker(), roleInput("arn:aws:iam::111111111111:role/ManagedRO")).Credentials).iam
	if _, err := ro.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles with ReadOnlyAccess: %v", err)
	}
	noIAM := e.session(assume(t, e.broker(), roleInput("arn:aws:iam::111111111111:role/ManagedAdminNoS3")).Credentials)
	if _, err := noIAM.iam.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles with AdministratorAccess: %v", err)
	}

	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	key, secret := DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey
	out, err := runCLI(t, e.env, key, secret, "", "iam", "list-roles", "--path-prefix", "/aws-reserved/")
	if err != nil || !strings.Contains(out, `"Federated": "arn:aws:iam::111111111111:saml-provider/AWSSSO_`) {
		t.Errorf("iam list-roles: %v\n%s", err, out)
	}
	// The CLI pages through the markers itself.
	out, err = runCLI(t, e.env, key, secret, "", "iam", "list-roles", "--page-size", "3")
	var lr struct{ Roles []struct{ RoleName string } }
	if err != nil || json.Unmarshal([]byte(out), &lr) != nil || len(lr.Roles) != 8 {
		t.Errorf("iam list-roles --page-size 3: %v\n%s", err, out)
	}
	out, err = runCLI(t, e.env, key, secret, "", "iam", "list-attached-role-policies", "--role-name", "BoundedAdmin")
	if err != nil || !strings.Contains(out, `"PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"`) {
		t.Errorf("iam list-attached-role-policies: %v\n%s", err, out)
	}
	out, err = runCLI(t, e.env, key, secret, "", "iam", "get-policy", "--policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	if err != nil || !strings.Contains(out, `"PermissionsBoundaryUsageCount": 1`) {
		t.Errorf("iam get-policy: %v\n%s", err, out)
	}
	out, err = runCLI(t, e.env, key, secret, "", "iam", "get-policy-version", "--policy-arn", "arn:aws:iam::111111111111:policy/jit/NoS3", "--version-id", "v1")
	if err != nil || !strings.Contains(out, `"Effect": "Deny"`) {
		t.Errorf("iam get-policy-version: %v\n%s", err, out)
	}
}

func roleInput(arn string) *sts.AssumeRoleInput {
	return &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("jit-t1-alice")}
}
