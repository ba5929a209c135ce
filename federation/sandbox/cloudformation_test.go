package sandbox_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jitaccess/jit/federation/sandbox"
)

// The templates operators deploy (deploy/aws).
var (
	memberTemplate = filepath.Join("..", "..", "deploy", "aws", "member.yaml")
	brokerTemplate = filepath.Join("..", "..", "deploy", "aws", "broker.yaml")
)

const demoBrokerARN = "arn:aws:iam::111111111111:user/jit-broker"

// brokerParams are broker.yaml's parameters for a sandbox instance.
var brokerParams = map[string]string{
	"InstanceId":               "ssoins-0123456789abcdef",
	"IdentityStoreId":          "d-0123456789",
	"ManagedPermissionSetArns": "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-1,arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-2",
}

func TestCloudFormationMemberTemplate(t *testing.T) {
	roles, err := sandbox.CloudFormationRoles(memberTemplate, "aws", "", "222222222222", map[string]string{"BrokerRoleArn": demoBrokerARN})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]sandbox.TemplateRole{}
	for _, r := range roles {
		byName[r.Role.Name] = r
	}
	mgmt, ok := byName["jit-management"]
	if !ok {
		t.Fatalf("no jit-management role in %v", byName)
	}
	if got, want := mgmt.Role.TrustActions, []string{"sts:AssumeRole"}; !slices.Equal(got, want) {
		t.Errorf("management role trust actions = %v, want %v", got, want)
	}
	var mgmtDoc struct {
		Statement []struct{ Action, Resource any }
	}
	if err := json.Unmarshal([]byte(mgmt.Role.Policies["jit-management"]), &mgmtDoc); err != nil {
		t.Fatal(err)
	}
	res, _ := json.Marshal(mgmtDoc.Statement[0].Resource)
	for _, name := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
		if !strings.Contains(string(res), `"arn:aws:iam::222222222222:role/`+name+`"`) {
			t.Errorf("IAM statement resources %s do not name role %s of the account", res, name)
		}
		r, ok := byName[name]
		if !ok {
			t.Fatalf("no role %s", name)
		}
		if !slices.Equal(r.Role.TrustedPrincipals, []string{demoBrokerARN}) {
			t.Errorf("%s trusts %v, want only the broker", name, r.Role.TrustedPrincipals)
		}
		for _, a := range []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"} {
			if !slices.Contains(r.Role.TrustActions, a) {
				t.Errorf("%s trust policy does not allow %s", name, a)
			}
		}
		// Every statement that lets the broker in requires the ticket tag
		// and a source identity.
		var trust struct {
			Statement []struct {
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(r.TrustPolicy), &trust); err != nil {
			t.Fatal(err)
		}
		for i, st := range trust.Statement {
			null := st.Condition["Null"]
			if null["aws:RequestTag/jit-ticket"] != "false" || null["sts:SourceIdentity"] != "false" {
				t.Errorf("%s trust statement %d conditions %v: want Null false on aws:RequestTag/jit-ticket and sts:SourceIdentity", name, i, st.Condition)
			}
		}
		if want := "arn:aws:iam::aws:policy/" + name; !slices.Equal(r.Role.ManagedPolicyArns, []string{want}) {
			t.Errorf("%s: managed policies %v, want %s", name, r.Role.ManagedPolicyArns, want)
		}
	}
}

func TestCloudFormationBrokerTemplate(t *testing.T) {
	roles, err := sandbox.CloudFormationRoles(brokerTemplate, "aws", "", "111111111111", brokerParams)
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 1 || roles[0].Role.Name != "jit-broker" {
		t.Fatalf("roles = %+v, want the one jit-broker role", roles)
	}
	if got, want := roles[0].Services, []string{"pods.eks.amazonaws.com"}; !slices.Equal(got, want) {
		t.Errorf("broker trusts services %v, want %v", got, want)
	}
	if len(roles[0].Role.TrustedPrincipals) != 0 {
		t.Errorf("broker role trusts AWS principals %v, want none", roles[0].Role.TrustedPrincipals)
	}
	for _, a := range roles[0].AllowedActions() {
		if strings.Contains(a, "*") {
			t.Errorf("broker role allows wildcard action %s", a)
		}
	}
}

// TestCloudFormationRejects shows that a template that CloudFormation or
// IAM would refuse fails to load, naming what is wrong.
func TestCloudFormationRejects(t *testing.T) {
	good, err := os.ReadFile(memberTemplate)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"BrokerRoleArn": demoBrokerARN}
	tests := []struct {
		name, old, new string
		params         map[string]string
		want           string
	}{
		{"misspelled property", "MaxSessionDuration: 3600", "MaxSessionDuraton: 3600", params, "MaxSessionDuraton"},
		{"wrong type", "MaxSessionDuration: 3600", "MaxSessionDuration: [3600]", params, "MaxSessionDuration"},
		{"unknown resource type", "Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Ref ManagementRoleName", "Type: AWS::IAM::Rolez\n    Properties:\n      RoleName: !Ref ManagementRoleName", params, "AWS::IAM::Rolez"},
		{"action without vendor", "- iam:GetRolePolicy", "- GetRolePolicy", params, "prefaced by a vendor"},
		{"resource not an ARN", `Resource: "*"`, `Resource: "role/x"`, params, "must be in ARN format"},
		{"unknown condition operator in trust", `"Null":`, `"Nul":`, params, "Nul"},
		{"trust action the broker cannot use", "- sts:SetSourceIdentity", "- sts:AssumeRoleWithSAML", params, "sts:AssumeRoleWithSAML"},
		{"unknown managed policy", "policy/ReadOnlyAccess", "policy/NoSuchPolicy", params, "NoSuchPolicy"},
		{"missing parameter", "", "", map[string]string{}, "BrokerRoleArn"},
		{"unknown parameter", "", "", map[string]string{"BrokerRoleArn": demoBrokerARN, "Nope": "x"}, "Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := string(good)
			if tt.old != "" {
				if !strings.Contains(text, tt.old) {
					t.Fatalf("template has no %q", tt.old)
				}
				text = strings.Replace(text, tt.old, tt.new, 1)
			}
			path := filepath.Join(t.TempDir(), "member.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := sandbox.CloudFormationRoles(path, "aws", "", "222222222222", tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestWithCloudFormation builds a sandbox whose roles are exactly those
// member.yaml deploys in every account of the demo organization.
func TestWithCloudFormation(t *testing.T) {
	f, err := sandbox.DemoFixture().WithCloudFormation([]string{memberTemplate}, map[string]string{"BrokerRoleArn": demoBrokerARN})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.Roles {
		got = append(got, r.Account+"/"+r.Name)
	}
	slices.Sort(got)
	var want []string
	for _, a := range []string{"111111111111", "222222222222", "333333333333"} {
		for _, n := range []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "jit-management"} {
			want = append(want, a+"/"+n)
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("roles = %v, want %v", got, want)
	}
	if _, err := sandbox.New(f, sandbox.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.DemoFixture().WithCloudFormation([]string{memberTemplate}, map[string]string{"BrokerRoleArn": demoBrokerARN, "Other": "x"}); err == nil || !strings.Contains(err.Error(), "Other") {
		t.Errorf("unknown parameter: err = %v, want one naming it", err)
	}
}
