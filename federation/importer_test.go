package federation

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
)

// Hand-written fakes of the importer's own small interfaces, for paging
// and instance edge cases; importer_sandbox_test.go runs the real SDK
// clients against the sandbox.

// fakeOrgs serves ListAccounts from fixed pages; a page's index is its token.
type fakeOrgs struct {
	pages [][]orgtypes.Account
	calls int
}

func (f *fakeOrgs) ListAccounts(_ context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	f.calls++
	i := 0
	if in.NextToken != nil {
		i = int((*in.NextToken)[0] - '0')
	}
	out := &organizations.ListAccountsOutput{Accounts: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

type fakeSSO struct {
	instances []string
	sets      map[string]ssotypes.PermissionSet
	pageSize  int
}

func (f *fakeSSO) ListInstances(context.Context, *ssoadmin.ListInstancesInput, ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error) {
	out := &ssoadmin.ListInstancesOutput{}
	for _, arn := range f.instances {
		out.Instances = append(out.Instances, ssotypes.InstanceMetadata{InstanceArn: aws.String(arn)})
	}
	return out, nil
}

func (f *fakeSSO) ListPermissionSets(_ context.Context, in *ssoadmin.ListPermissionSetsInput, _ ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error) {
	var arns []string
	for arn := range f.sets {
		arns = append(arns, arn)
	}
	slices.Sort(arns)
	start := 0
	if in.NextToken != nil {
		start = int((*in.NextToken)[0] - '0')
	}
	end := min(start+f.pageSize, len(arns))
	out := &ssoadmin.ListPermissionSetsOutput{PermissionSets: arns[start:end]}
	if end < len(arns) {
		out.NextToken = aws.String(string(rune('0' + end)))
	}
	return out, nil
}

func (f *fakeSSO) DescribePermissionSet(_ context.Context, in *ssoadmin.DescribePermissionSetInput, _ ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error) {
	p := f.sets[*in.PermissionSetArn]
	return &ssoadmin.DescribePermissionSetOutput{PermissionSet: &p}, nil
}

func TestImporterAccounts_pagesThroughEmptyPages(t *testing.T) {
	orgs := &fakeOrgs{pages: [][]orgtypes.Account{
		{{Id: aws.String("111111111111"), Name: aws.String("dev"), State: orgtypes.AccountStateActive}},
		{}, // an empty page with a NextToken: keep going
		{},
		{
			{Id: aws.String("222222222222"), Name: aws.String("old"), State: orgtypes.AccountStateSuspended},
			{Id: aws.String("333333333333"), Name: aws.String("prod"), Status: orgtypes.AccountStatusActive},
		},
	}}
	got, err := (&Importer{Organizations: orgs}).Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []broker.Account{{ID: "111111111111", Name: "dev"}, {ID: "333333333333", Name: "prod"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Accounts (-want +got):\n%s", diff)
	}
	if orgs.calls != 4 {
		t.Errorf("%d ListAccounts calls, want 4 (one per page)", orgs.calls)
	}
}

func TestImporterPermissionSets(t *testing.T) {
	arn := func(n string) string {
		return "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-00000000000000" + n
	}
	sso := &fakeSSO{instances: []string{"arn:aws:sso:::instance/ssoins-0123456789abcdef"}, pageSize: 1, sets: map[string]ssotypes.PermissionSet{
		arn("01"): {Name: aws.String("ReadOnlyAccess"), SessionDuration: aws.String("PT12H")},
		arn("02"): {Name: aws.String("Billing"), SessionDuration: aws.String("PT1H30M"), Description: aws.String("money")},
		arn("03"): {Name: aws.String("Legacy")},
	}}
	got, err := (&Importer{SSOAdmin: sso}).PermissionSets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []broker.ImportedPermissionSet{
		{Name: "ReadOnlyAccess", ARN: arn("01"), SessionDuration: 12 * time.Hour},
		{Name: "Billing", ARN: arn("02"), Description: "money", SessionDuration: 90 * time.Minute},
		{Name: "Legacy", ARN: arn("03")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PermissionSets (-want +got):\n%s", diff)
	}
	sso.instances = append(sso.instances, "arn:aws:sso:::instance/ssoins-fedcba9876543210")
	if _, err := (&Importer{SSOAdmin: sso}).PermissionSets(context.Background()); err == nil || !strings.Contains(err.Error(), "identity_center.instance_arn") {
		t.Errorf("two instances and none configured: %v, want a hint to set identity_center.instance_arn", err)
	}
	if _, err := (&Importer{SSOAdmin: sso, InstanceARN: sso.instances[1]}).PermissionSets(context.Background()); err != nil {
		t.Errorf("configured instance: %v", err)
	}
}

func TestParseISODuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT1H": time.Hour, "PT12H": 12 * time.Hour, "PT1H30M": 90 * time.Minute, "PT15M": 15 * time.Minute, "PT30S": 30 * time.Second} {
		if got, err := ParseISODuration(in); err != nil || got != want {
			t.Errorf("ParseISODuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "PT", "1H", "P1D", "PT1X"} {
		if _, err := ParseISODuration(bad); err == nil {
			t.Errorf("ParseISODuration(%q) accepted it", bad)
		}
	}
}
