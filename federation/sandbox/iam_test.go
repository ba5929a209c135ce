package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

func put(c clients, role, name, doc string) error {
	_, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
	return err
}

func TestIAMLimitExceeded(t *testing.T) {
	e := newEnv(t, DemoFixture())
	broker := e.broker()
	existing := policySize(e.sb.roles[roleKey("111111111111", "ReadOnlyAccess")].policies["ReadOnlyAccess"])
	// Whitespace does not count toward the budget.
	template := strings.ReplaceAll(fmt.Sprintf(denyTemplate, `"%s"`), `,"`, ",\n  \"")
	doc := func(pad int) string { return fmt.Sprintf(template, "t"+strings.Repeat("x", pad)) }
	fill := maxRolePolicyBytes - existing - policySize(doc(0))

	if err := put(broker, "ReadOnlyAccess", "jit-revocations", doc(fill)); err != nil {
		t.Fatalf("exactly %d bytes: %v", maxRolePolicyBytes, err)
	}
	err := put(broker, "ReadOnlyAccess", "jit-revocations", doc(fill+1))
	wantAPIError(t, err, "LimitExceeded", "Maximum policy size of 10240 bytes exceeded for role ReadOnlyAccess")
	// The rejected call changed nothing.
	got, err := broker.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("jit-revocations")})
	if err != nil {
		t.Fatal(err)
	}
	if len(aws.ToString(got.PolicyDocument)) == 0 || e.sb.roles[roleKey("111111111111", "ReadOnlyAccess")].policies["jit-revocations"] != doc(fill) {
		t.Error("policy changed by a rejected PutRolePolicy")
	}
	// A second policy that would pass the budget together is refused too.
	wantAPIError(t, put(broker, "ReadOnlyAccess", "more", fmt.Sprintf(denyTemplate, `"t"`)), "LimitExceeded", "")
}

func TestIAMErrors(t *testing.T) {
	f := DemoFixture()
	f.Roles = append(f.Roles, Role{Account: "111111111111", Name: "AWSReservedSSO_AdministratorAccess_0123456789abcdef", Path: "/aws-reserved/sso.amazonaws.com/"})
	e := newEnv(t, f)
	broker := e.broker()
	allow := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`

	role, err := broker.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AdministratorAccess")})
	if err != nil {
		t.Fatal(err)
	}
	if r := role.Role; aws.ToString(r.Arn) != devAdmin || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || aws.ToInt32(r.MaxSessionDuration) != 43200 {
		t.Errorf("GetRole = %s %s %d", aws.ToString(r.Arn), aws.ToString(r.RoleId), aws.ToInt32(r.MaxSessionDuration))
	}

	tests := []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"missing role", func() error {
			_, err := broker.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Nope")})
			return err
		}(), "NoSuchEntity", "The role with name Nope cannot be found."},
		{"missing policy", func() error {
			_, err := broker.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("nope")})
			return err
		}(), "NoSuchEntity", "The role policy with name nope cannot be found."},
		{"delete missing policy", func() error {
			_, err := broker.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("nope")})
			return err
		}(), "NoSuchEntity", "The role policy with name nope cannot be found."},
		{"protected role", put(broker, "AWSReservedSSO_AdministratorAccess_0123456789abcdef", "x", allow), "UnmodifiableEntity",
			"Cannot perform the operation on the protected role 'AWSReservedSSO_AdministratorAccess_0123456789abcdef' - this role is only modifiable by AWS"},
		{"principal in identity policy", put(broker, "ReadOnlyAccess", "x", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`),
			"MalformedPolicyDocument", "Policy document should not specify a principal."},
		{"action without vendor", put(broker, "ReadOnlyAccess", "x", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ListBuckets","Resource":"*"}}`),
			"MalformedPolicyDocument", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."},
		{"bad role name", put(broker, "bad name", "x", allow), "ValidationError",
			`1 validation error detected: Value 'bad name' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{"bad policy name", put(broker, "ReadOnlyAccess", "", allow), "ValidationError",
			`2 validation errors detected: Value '' at 'policyName' failed to satisfy constraint: Member must have length greater than or equal to 1; ` +
				`Value '' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantAPIError(t, tt.err, tt.code, tt.msg) })
	}

	// IAM is signed for us-east-1 only.
	c := iam.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")},
		func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) })
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AdministratorAccess")})
	wantAPIError(t, err, "SignatureDoesNotMatch", "Credential should be scoped to a valid region.")
}

func TestListRolePoliciesPaging(t *testing.T) {
	e := newEnv(t, DemoFixture())
	broker := e.broker()
	for _, n := range []string{"b", "c"} {
		if err := put(broker, "AdministratorAccess", n, fmt.Sprintf(denyTemplate, `"`+n+`"`)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	p := iam.NewListRolePoliciesPaginator(broker.iam, &iam.ListRolePoliciesInput{RoleName: aws.String("AdministratorAccess"), MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page.PolicyNames...)
	}
	if strings.Join(got, ",") != "AdministratorAccess,b,c" {
		t.Errorf("pages = %v", got)
	}
}
