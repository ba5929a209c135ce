package sandbox

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// TestListAccountsForProvisioned: the accounts where a permission set is
// provisioned, those at its latest inline policy and those not, paged,
// through the SDK and the AWS CLI.
func TestListAccountsForProvisioned(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	for _, acct := range []string{devAccount, prodAccount} {
		e.assign(t, assignmentInput(e.inst, acct, ro, ssotypes.PrincipalTypeUser, alice))
	}
	list := func(status ssotypes.ProvisioningStatus) []string {
		t.Helper()
		var got []string
		in := &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(ro), ProvisioningStatus: status, MaxResults: aws.Int32(1)}
		for {
			out, err := e.admin.ListAccountsForProvisionedPermissionSet(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, out.AccountIds...)
			if aws.ToString(out.NextToken) == "" {
				return got
			}
			in.NextToken = out.NextToken
		}
	}
	if got := list(""); !slices.Equal(got, []string{devAccount, prodAccount}) {
		t.Fatalf("provisioned in %v, want dev and prod", got)
	}
	if _, err := e.admin.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(ro),
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if got := list(ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned); !slices.Equal(got, []string{devAccount, prodAccount}) {
		t.Errorf("not at the latest after a new policy: %v", got)
	}
	if got := list(ssotypes.ProvisioningStatusLatestPermissionSetProvisioned); len(got) != 0 {
		t.Errorf("at the latest after a new policy: %v", got)
	}
	_, err := e.admin.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(ro), ProvisioningStatus: "SOMETIMES"})
	wantAPIError(t, err, "ValidationException", "")

	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	out, err := runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "sso-admin", "list-accounts-for-provisioned-permission-set",
		"--instance-arn", e.inst, "--permission-set-arn", ro, "--provisioning-status", "LATEST_PERMISSION_SET_NOT_PROVISIONED")
	var cli struct{ AccountIds []string }
	if err != nil || json.Unmarshal([]byte(out), &cli) != nil || !slices.Equal(cli.AccountIds, []string{devAccount, prodAccount}) {
		t.Errorf("list-accounts-for-provisioned-permission-set: %v\n%s", err, out)
	}
}
