package federation

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
)

// OrganizationsAPI is the one AWS Organizations call the importer makes.
type OrganizationsAPI interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// SSOAdminAPI is the IAM Identity Center (sso-admin) calls the importer makes.
type SSOAdminAPI interface {
	ListInstances(ctx context.Context, in *ssoadmin.ListInstancesInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListInstancesOutput, error)
	ListPermissionSets(ctx context.Context, in *ssoadmin.ListPermissionSetsInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.ListPermissionSetsOutput, error)
	DescribePermissionSet(ctx context.Context, in *ssoadmin.DescribePermissionSetInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error)
}

// maxPages bounds a listing, so a service that keeps answering with a
// NextToken cannot loop forever.
const maxPages = 10000

// Importer reads the organization's accounts and Identity Center's
// permission sets for the registry's import. It implements
// broker.RegistryImporter.
type Importer struct {
	Organizations OrganizationsAPI
	SSOAdmin      SSOAdminAPI
	// InstanceARN is the Identity Center instance; empty means the only
	// instance ListInstances returns.
	InstanceARN string
}

var _ broker.RegistryImporter = (*Importer)(nil)

// Accounts returns the organization's active accounts, in the order
// Organizations lists them. It keeps paging while a NextToken comes back,
// even after an empty page, as Organizations may answer.
func (i *Importer) Accounts(ctx context.Context) ([]broker.Account, error) {
	if i.Organizations == nil {
		return nil, broker.Errorf(broker.EUNAVAILABLE, "import from AWS Organizations is not configured")
	}
	var out []broker.Account
	var token *string
	for range maxPages {
		page, err := i.Organizations.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("organizations ListAccounts: %w", err)
		}
		for _, a := range page.Accounts {
			if active(a) {
				out = append(out, broker.Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name)})
			}
		}
		if token = page.NextToken; aws.ToString(token) == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("organizations ListAccounts: more than %d pages", maxPages)
}

// active reports whether an account is active, by its State (or by its
// Status, which State replaces, when State is not set).
func active(a orgtypes.Account) bool {
	if a.State != "" {
		return a.State == orgtypes.AccountStateActive
	}
	return a.Status == orgtypes.AccountStatusActive
}

// PermissionSets returns every permission set of the Identity Center
// instance, described (name, ARN, session duration).
func (i *Importer) PermissionSets(ctx context.Context) ([]broker.ImportedPermissionSet, error) {
	if i.SSOAdmin == nil {
		return nil, broker.Errorf(broker.EUNAVAILABLE, "import from IAM Identity Center is not configured")
	}
	instance, err := i.instance(ctx)
	if err != nil {
		return nil, err
	}
	var arns []string
	var token *string
	for n := 0; ; n++ {
		if n == maxPages {
			return nil, fmt.Errorf("sso-admin ListPermissionSets: more than %d pages", maxPages)
		}
		page, err := i.SSOAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(instance), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("sso-admin ListPermissionSets: %w", err)
		}
		arns = append(arns, page.PermissionSets...)
		if token = page.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	out := make([]broker.ImportedPermissionSet, 0, len(arns))
	for _, arn := range arns {
		d, err := i.SSOAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(instance), PermissionSetArn: aws.String(arn)})
		if err != nil {
			return nil, fmt.Errorf("sso-admin DescribePermissionSet %s: %w", arn, err)
		}
		if d.PermissionSet == nil {
			return nil, fmt.Errorf("sso-admin DescribePermissionSet %s: no permission set in the answer", arn)
		}
		p := broker.ImportedPermissionSet{
			Name:        aws.ToString(d.PermissionSet.Name),
			ARN:         arn,
			Description: aws.ToString(d.PermissionSet.Description),
		}
		if s := aws.ToString(d.PermissionSet.SessionDuration); s != "" {
			if p.SessionDuration, err = ParseISODuration(s); err != nil {
				return nil, fmt.Errorf("permission set %s: session duration: %w", p.Name, err)
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// instance returns the configured instance ARN, or the only one there is.
func (i *Importer) instance(ctx context.Context) (string, error) {
	if i.InstanceARN != "" {
		return i.InstanceARN, nil
	}
	out, err := i.SSOAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return "", fmt.Errorf("sso-admin ListInstances: %w", err)
	}
	switch len(out.Instances) {
	case 0:
		return "", broker.Errorf(broker.ENOTFOUND, "no IAM Identity Center instance is visible to JIT")
	case 1:
		return aws.ToString(out.Instances[0].InstanceArn), nil
	}
	return "", broker.Errorf(broker.EINVALID, "%d IAM Identity Center instances are visible; set aws.identity_center.instance_arn", len(out.Instances))
}

var isoDuration = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`) })

// ParseISODuration parses the ISO 8601 durations Identity Center uses for
// session durations ("PT1H", "PT12H", "PT1H30M").
func ParseISODuration(s string) (time.Duration, error) {
	m := isoDuration().FindStringSubmatch(s)
	if m == nil || s == "PT" {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as PT1H", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}
