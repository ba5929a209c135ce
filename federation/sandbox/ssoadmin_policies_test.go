package sandbox

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// A permission set's managed policies and customer managed policy
// references through the SDK: pages of MaxResults, names and paths as
// the model shapes them, and the model's constraints refused.
func TestPermissionSetPolicyLists(t *testing.T) {
	f := DemoFixture()
	f.ManagedPolicies = append(f.ManagedPolicies, ManagedPolicy{Account: devAccount, Name: "team-read", Path: "/team/",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBuckets","Resource":"*"}]}`})
	f.IdentityCenter.PermissionSets = append(f.IdentityCenter.PermissionSets, PermissionSet{Name: "Lists", SessionDuration: "PT1H",
		ManagedPolicies:         []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/PowerUserAccess"},
		CustomerManagedPolicies: []string{"/team/team-read"}})
	e := newICEnv(t, f, Options{})
	ps, inst := aws.String(e.permSetARN(t, "Lists")), aws.String(e.inst)

	var names []string
	var tok *string
	for pages := 0; ; pages++ {
		out, err := e.admin.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, MaxResults: aws.Int32(1), NextToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.AttachedManagedPolicies {
			names = append(names, aws.ToString(p.Name)+"="+aws.ToString(p.Arn))
		}
		if tok = out.NextToken; tok == nil {
			if pages != 1 {
				t.Errorf("%d pages, want 2", pages+1)
			}
			break
		}
	}
	if got, want := strings.Join(names, " "), "ReadOnlyAccess=arn:aws:iam::aws:policy/ReadOnlyAccess PowerUserAccess=arn:aws:iam::aws:policy/PowerUserAccess"; got != want {
		t.Errorf("managed policies %s, want %s", got, want)
	}
	refs, err := e.admin.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs.CustomerManagedPolicyReferences) != 1 || aws.ToString(refs.CustomerManagedPolicyReferences[0].Name) != "team-read" || aws.ToString(refs.CustomerManagedPolicyReferences[0].Path) != "/team/" {
		t.Errorf("customer managed references %+v", refs.CustomerManagedPolicyReferences)
	}

	_, err = e.admin.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, MaxResults: aws.Int32(101)})
	if code, msg := apiCode(t, err); code != "ValidationException" || !strings.Contains(msg, "maxResults") {
		t.Errorf("MaxResults 101: %s %q, want ValidationException at maxResults", code, msg)
	}
	_, err = e.admin.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst,
		PermissionSetArn: aws.String(strings.Replace(*ps, "/ps-", "/ps-0", 1)[:len(*ps)])})
	if code, _ := apiCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("unknown permission set: %s, want ResourceNotFoundException", code)
	}
}
