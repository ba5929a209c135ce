package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Managed policies: AWS managed policies built into the sandbox and the
// fixture's customer managed policies, attached to roles (by the fixture
// or by provisioning a permission set), used as permissions boundaries
// and as managed session policies (AssumeRole's PolicyArns).

// ManagedPolicy is a customer managed policy of a fixture account.
type ManagedPolicy struct {
	Account     string `yaml:"account"`
	Name        string `yaml:"name"`
	Path        string `yaml:"path"` // default "/"
	Description string `yaml:"description"`
	Document    string `yaml:"document"` // JSON policy document (version v1)
}

// managedPolicy is a managed policy the sandbox knows, by ARN.
type managedPolicy struct {
	arn, name, path, id, description string
	document                         string
	parsed                           *policy
	awsManaged                       bool
	created                          time.Time
}

// awsManagedPolicies are the AWS managed policies the sandbox carries, by
// name. AdministratorAccess and PowerUserAccess are AWS's documents;
// ReadOnlyAccess is abridged to the services the sandbox serves (AWS's
// lists hundreds of services; the shape, Describe*/Get*/List* per
// service, is the same). All live under path "/".
var awsManagedPolicies = map[string]struct{ description, document string }{
	"AdministratorAccess": {"Provides full access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`},
	"PowerUserAccess": {"Provides full access to AWS services and resources, but does not allow management of Users and groups.",
		`{"Version":"2012-10-17","Statement":[` +
			`{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["account:GetAccountInformation","account:GetPrimaryEmail","account:ListRegions",` +
			`"iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization"],"Resource":"*"}]}`},
	"ReadOnlyAccess": {"Provides read-only access to AWS services and resources.",
		`{"Version":"2012-10-17","Statement":[{"Sid":"ReadOnlyActions","Effect":"Allow","Action":[` +
			`"cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents",` +
			`"ec2:Describe*","ec2:Get*",` +
			`"iam:Generate*","iam:Get*","iam:List*","iam:Simulate*",` +
			`"identitystore:Describe*","identitystore:Get*","identitystore:List*",` +
			`"organizations:Describe*","organizations:List*",` +
			`"s3:Describe*","s3:Get*","s3:List*",` +
			`"sso:Describe*","sso:Get*","sso:List*",` +
			`"sts:GetAccessKeyInfo","sts:GetCallerIdentity","sts:GetSessionToken"],"Resource":"*"}]}`},
}

// awsManagedARN is the ARN of the AWS managed policy name.
func (s *Sandbox) awsManagedARN(name string) string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", s.partition, name)
}

// customerManagedARN is the ARN of a customer managed policy.
func customerManagedARN(partition, account, path, name string) string {
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", partition, account, path, name)
}

// initManagedPolicies loads the AWS managed policies and the fixture's
// customer managed ones (the fixture is valid).
func (s *Sandbox) initManagedPolicies(f Fixture) {
	s.managed = map[string]*managedPolicy{}
	for name, m := range awsManagedPolicies {
		arn := s.awsManagedARN(name)
		p, _ := parsePolicy(m.document, false)
		s.managed[arn] = &managedPolicy{arn: arn, name: name, path: "/", id: stableID("ANPA", arn), description: m.description,
			document: m.document, parsed: p, awsManaged: true, created: s.started}
	}
	for _, mp := range f.ManagedPolicies {
		arn := customerManagedARN(s.partition, mp.Account, mp.Path, mp.Name)
		p, _ := parsePolicy(mp.Document, false)
		path := mp.Path
		if path == "" {
			path = "/"
		}
		s.managed[arn] = &managedPolicy{arn: arn, name: mp.Name, path: path, id: stableID("ANPA", arn), description: mp.Description,
			document: mp.Document, parsed: p, created: s.started}
	}
}

// validateManaged checks the fixture's managed policies and the role
// attachments that name them; known holds every valid managed ARN.
func (f Fixture) validateManaged(accounts map[string]bool) (known map[string]bool, err error) {
	known = map[string]bool{}
	for name := range awsManagedPolicies {
		known[fmt.Sprintf("arn:%s:iam::aws:policy/%s", f.Partition, name)] = true
	}
	for i, mp := range f.ManagedPolicies {
		field := fmt.Sprintf("managed_policies[%d]", i)
		if !accounts[mp.Account] {
			return nil, fmt.Errorf("%s.account: %q is not one of the fixture's accounts", field, mp.Account)
		}
		if len(mp.Name) > 128 || !iamNameRe.MatchString(mp.Name) {
			return nil, fmt.Errorf("%s.name: %q must be 1-128 characters of [\\w+=,.@-]", field, mp.Name)
		}
		if mp.Path != "" && (len(mp.Path) > 512 || !iamPathRe.MatchString(mp.Path)) {
			return nil, fmt.Errorf("%s.path: %q must start and end with /", field, mp.Path)
		}
		if _, err := parsePolicy(mp.Document, false); err != nil {
			return nil, fmt.Errorf("%s.document: %v", field, err)
		}
		arn := customerManagedARN(f.Partition, mp.Account, mp.Path, mp.Name)
		if known[arn] {
			return nil, fmt.Errorf("%s.name: duplicate policy %s", field, arn)
		}
		known[arn] = true
	}
	for i, r := range f.Roles {
		field := fmt.Sprintf("roles[%d]", i)
		for j, arn := range r.ManagedPolicyArns {
			if !known[arn] || !attachableIn(arn, r.Account) {
				return nil, fmt.Errorf("%s.managed_policy_arns[%d]: %q is not an AWS managed policy the sandbox carries or a managed policy of account %s", field, j, arn, r.Account)
			}
		}
		if b := r.PermissionsBoundary; b != "" && (!known[b] || !attachableIn(b, r.Account)) {
			return nil, fmt.Errorf("%s.permissions_boundary: %q is not an AWS managed policy the sandbox carries or a managed policy of account %s", field, b, r.Account)
		}
	}
	return known, nil
}

// attachableIn reports whether the managed policy arn can be attached in
// account: AWS managed policies anywhere, customer managed ones only in
// their own account.
func attachableIn(arn, account string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && (parts[4] == "aws" || parts[4] == account)
}

// rolePolicySet gathers what AWS weighs for a session of rs: the SCPs,
// the role's inline policies in force at now and its managed policies,
// its permissions boundary and the session's policies (s.mu held).
func (s *Sandbox) rolePolicySet(rs *role, se *session, now time.Time) policySet {
	parsed := s.effectivePolicies(rs, now) // after any propagation delay
	names := make([]string, 0, len(parsed))
	for name := range parsed {
		names = append(names, name)
	}
	sort.Strings(names)
	ps := policySet{scps: s.scps, fullAccess: s.fullAccess}
	for _, name := range names {
		ps.identity = append(ps.identity, parsed[name])
	}
	for _, arn := range rs.ManagedPolicyArns {
		if mp := s.managed[arn]; mp != nil {
			ps.identity = append(ps.identity, mp.parsed)
		}
	}
	if rs.PermissionsBoundary != "" {
		if mp := s.managed[rs.PermissionsBoundary]; mp != nil {
			ps.boundary = mp.parsed
		} else {
			ps.boundary = &policy{} // a boundary that cannot be found allows nothing
		}
	}
	if se != nil {
		ps.session, ps.hasSession = se.policies, se.hasSessionPolicy
	}
	return ps
}
