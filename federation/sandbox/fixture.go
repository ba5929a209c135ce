package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Fixture describes the AWS world a Sandbox serves. Zero values take the
// defaults documented on each field.
type Fixture struct {
	Partition string    `yaml:"partition"` // default "aws"
	Region    string    `yaml:"region"`    // default "us-east-1"
	Accounts  []Account `yaml:"accounts"`
	Roles     []Role    `yaml:"roles"`
	Users     []User    `yaml:"users"` // long-term IAM users (AKIA keys), e.g. the broker's own identity
	// OrgDenyPolicies are organization-level policy documents, like SCPs,
	// evaluated on every call made with a minted session: their Deny
	// statements win over any Allow, and their Allow statements never
	// grant anything.
	//
	// They are evaluated as SCPs attached beside AWS's FullAWSAccess.
	OrgDenyPolicies []string `yaml:"org_deny_policies"`
	// ServiceControlPolicies, when set, are the organization's SCPs in
	// place of FullAWSAccess: as in AWS they are allow lists, so an action
	// none of them allows is implicitly denied (an SCP allowing only s3:*
	// denies ec2:DescribeInstances), and their Deny statements win.
	ServiceControlPolicies []string `yaml:"service_control_policies"`
	// ManagedPolicies are customer managed policies, for roles'
	// managed_policy_arns and permissions_boundary, permission sets'
	// customer_managed_policies and AssumeRole's PolicyArns. AWS managed
	// AdministratorAccess, PowerUserAccess and ReadOnlyAccess are built in
	// (managed.go).
	ManagedPolicies []ManagedPolicy `yaml:"managed_policies"`
	// IdentityCenter is the organization's IAM Identity Center instance
	// with its Identity Store (identitycenter.go); nil means none.
	IdentityCenter *IdentityCenter `yaml:"identity_center"`
}

// Account is an AWS account of the sandbox.
type Account struct {
	ID   string `yaml:"id"`   // 12 digits
	Name string `yaml:"name"` // display name, also the S3 owner's DisplayName
	// Email is the account's root email in Organizations; default
	// "aws+<id>@example.com".
	Email string `yaml:"email"`
}

// Role is an IAM role that sessions can be minted for with AssumeRole.
type Role struct {
	Account            string `yaml:"account"`
	Name               string `yaml:"name"`
	Path               string `yaml:"path"`                 // default "/"
	MaxSessionDuration int    `yaml:"max_session_duration"` // seconds, default 3600, 3600..43200
	// TrustedPrincipals are the ARNs allowed to assume the role: user,
	// role (any session of it), assumed-role session, an account root
	// ("arn:aws:iam::<id>:root" or the bare id) or "*", for the actions in
	// TrustActions. Empty means any principal of the sandbox, with the
	// rules of an account trust (the caller's own policies must allow).
	// A role's own sessions are trusted only when the role's ARN is listed
	// (an account or "*" entry does not let a role assume itself).
	TrustedPrincipals []string `yaml:"trusted_principals"`
	// TrustActions are the actions the trust policy allows those
	// principals: sts:AssumeRole, sts:TagSession (needed to pass session
	// tags, inherited transitive ones included) and sts:SetSourceIdentity
	// (needed to set a source identity, or to carry one through a chain).
	// Empty means all three.
	TrustActions []string          `yaml:"trust_actions"`
	Policies     map[string]string `yaml:"policies"` // inline policy name -> JSON document
	// ManagedPolicyArns are the managed policies attached to the role:
	// AWS managed ("arn:aws:iam::aws:policy/ReadOnlyAccess") or customer
	// managed ones of the role's account.
	ManagedPolicyArns []string `yaml:"managed_policy_arns"`
	// PermissionsBoundary is the ARN of the managed policy that bounds
	// the role's permissions; empty for none.
	PermissionsBoundary string `yaml:"permissions_boundary"`
}

// User is a long-term IAM user with an access key (AKIA...).
type User struct {
	Account         string `yaml:"account"`
	Name            string `yaml:"name"`
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	Admin           bool   `yaml:"admin"` // all actions allowed, no policy evaluation
}

// trustActions are the actions a role trust policy can allow.
var trustActions = []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}

// The demo broker user's fixed long-term key, in account 111111111111.
const (
	DemoBrokerAccessKeyID     = "AKIAJITBROKERDEVKEY1"
	DemoBrokerSecretAccessKey = "jitSandboxDemoBrokerSecretKey0000000000x"
)

var (
	accountIDRe  = lazy(`^[0-9]{12}$`)
	iamNameRe    = lazy(`^[\w+=,.@-]+$`)
	iamPathRe    = lazy(`^/([\x21-\x7E]*/)?$`)
	accessKeyRe  = lazy(`^AKIA[A-Z0-9]{12,124}$`)
	partitionsRe = lazy(`^(aws|aws-cn|aws-us-gov)$`)
	regionRe     = lazy(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// LoadFixture reads a YAML fixture from path. Unknown keys are rejected,
// defaults are filled in, and the result is validated; errors name the
// offending field, e.g. "roles[1].max_session_duration".
func LoadFixture(path string) (Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Fixture{}, fmt.Errorf("load fixture: %w", err)
	}
	var f Fixture
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return Fixture{}, fmt.Errorf("load fixture %s: %w", path, err)
	}
	f = f.withDefaults()
	if err := f.validate(); err != nil {
		return Fixture{}, fmt.Errorf("load fixture %s: %w", path, err)
	}
	return f, nil
}

// DemoManagementRole is the role of the demo fixture, in every account,
// that the broker assumes to manage IAM there.
const DemoManagementRole = "jit-broker"

// DemoFixture is the dev-mode world: accounts 111111111111 (dev),
// 222222222222 (staging) and 333333333333 (prod), each with the roles
// ReadOnlyAccess, PowerUserAccess and AdministratorAccess (12 h sessions)
// and DemoManagementRole, and the admin user "jit-broker" in 111111111111
// with the key DemoBrokerAccessKeyID / DemoBrokerSecretAccessKey. Its
// Identity Center (see demoIdentityCenter) has the permission sets
// ReadOnlyAccess, PowerUserAccess and AdministratorAccess, the users
// alice, bob, carol and dave @example.com and the groups engineers
// (alice, dave), approvers (bob) and admins (carol).
func DemoFixture() Fixture {
	f := Fixture{
		Partition: "aws",
		Region:    "us-east-1",
		Accounts: []Account{
			{ID: "111111111111", Name: "dev"},
			{ID: "222222222222", Name: "staging"},
			{ID: "333333333333", Name: "prod"},
		},
		Users: []User{{
			Account: "111111111111", Name: "jit-broker", Admin: true,
			AccessKeyID: DemoBrokerAccessKeyID, SecretAccessKey: DemoBrokerSecretAccessKey,
		}},
	}
	policies := map[string]string{
		"ReadOnlyAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
			`"Action":["s3:Get*","s3:List*","ec2:Describe*","iam:Get*","iam:List*","sts:GetCallerIdentity"],"Resource":"*"}]}`,
		"PowerUserAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"*"},` +
			`{"Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"}]}`,
		"AdministratorAccess": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
	}
	for _, a := range f.Accounts {
		for _, name := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
			f.Roles = append(f.Roles, Role{
				Account: a.ID, Name: name, Path: "/", MaxSessionDuration: 43200,
				Policies: map[string]string{name: policies[name]},
			})
		}
		// The role JIT assumes in each account to write deny entries and
		// read roles' policies (least-privilege hints).
		f.Roles = append(f.Roles, Role{
			Account: a.ID, Name: DemoManagementRole, Path: "/", MaxSessionDuration: 3600,
			TrustedPrincipals: []string{"arn:aws:iam::111111111111:user/jit-broker"},
			Policies: map[string]string{"jit-broker": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
				`"Action":["iam:GetRole","iam:GetRolePolicy","iam:PutRolePolicy","iam:DeleteRolePolicy","iam:ListRolePolicies","iam:ListAttachedRolePolicies","iam:GetPolicy","iam:GetPolicyVersion","cloudtrail:LookupEvents"],"Resource":"*"}]}`},
		})
	}
	f.IdentityCenter = demoIdentityCenter(policies)
	return f
}

// withDefaults returns a copy of f with zero values replaced by defaults.
func (f Fixture) withDefaults() Fixture {
	if f.Partition == "" {
		f.Partition = "aws"
	}
	if f.Region == "" {
		f.Region = "us-east-1"
	}
	roles := make([]Role, len(f.Roles))
	for i, r := range f.Roles {
		if r.Path == "" {
			r.Path = "/"
		}
		if r.MaxSessionDuration == 0 {
			r.MaxSessionDuration = 3600
		}
		if len(r.TrustActions) == 0 {
			r.TrustActions = slices.Clone(trustActions)
		}
		roles[i] = r
	}
	f.Roles = roles
	return f
}

// validate checks a fixture that already has its defaults.
func (f Fixture) validate() error {
	if !partitionsRe.MatchString(f.Partition) {
		return fmt.Errorf("partition: %q is not aws, aws-cn or aws-us-gov", f.Partition)
	}
	if !regionRe.MatchString(f.Region) {
		return fmt.Errorf("region: %q is not a region name", f.Region)
	}
	if len(f.Accounts) == 0 {
		return errors.New("accounts: at least one account is required")
	}
	accounts := map[string]bool{}
	for i, a := range f.Accounts {
		if !accountIDRe.MatchString(a.ID) {
			return fmt.Errorf("accounts[%d].id: %q is not 12 digits", i, a.ID)
		}
		if accounts[a.ID] {
			return fmt.Errorf("accounts[%d].id: duplicate account %s", i, a.ID)
		}
		accounts[a.ID] = true
	}
	roles := map[string]bool{}
	for i, r := range f.Roles {
		field := fmt.Sprintf("roles[%d]", i)
		if !accounts[r.Account] {
			return fmt.Errorf("%s.account: %q is not one of the fixture's accounts", field, r.Account)
		}
		if len(r.Name) > 64 || !iamNameRe.MatchString(r.Name) {
			return fmt.Errorf("%s.name: %q must be 1-64 characters of [\\w+=,.@-]", field, r.Name)
		}
		key := r.Account + "/" + strings.ToLower(r.Name)
		if roles[key] {
			return fmt.Errorf("%s.name: duplicate role %s in account %s (names are case-insensitive)", field, r.Name, r.Account)
		}
		roles[key] = true
		if len(r.Path) > 512 || !iamPathRe.MatchString(r.Path) {
			return fmt.Errorf("%s.path: %q must start and end with /", field, r.Path)
		}
		if r.MaxSessionDuration < 3600 || r.MaxSessionDuration > 43200 {
			return fmt.Errorf("%s.max_session_duration: %d is outside 3600..43200", field, r.MaxSessionDuration)
		}
		for j, p := range r.TrustedPrincipals {
			if p != "*" && !accountIDRe.MatchString(p) && !strings.HasPrefix(p, "arn:"+f.Partition+":") {
				return fmt.Errorf("%s.trusted_principals[%d]: %q is not \"*\", an account id or an ARN of partition %s", field, j, p, f.Partition)
			}
		}
		for j, a := range r.TrustActions {
			if !slices.Contains(trustActions, a) {
				return fmt.Errorf("%s.trust_actions[%d]: %q is not one of %s", field, j, a, strings.Join(trustActions, ", "))
			}
		}
		total := 0
		for name, doc := range r.Policies {
			if len(name) > 128 || !iamNameRe.MatchString(name) {
				return fmt.Errorf("%s.policies[%s]: name must be 1-128 characters of [\\w+=,.@-]", field, name)
			}
			if _, err := parsePolicy(doc, false); err != nil {
				return fmt.Errorf("%s.policies[%s]: %v", field, name, err)
			}
			total += policySize(doc)
		}
		if total > maxRolePolicyBytes {
			return fmt.Errorf("%s.policies: %d bytes (whitespace not counted) exceed the role budget of %d", field, total, maxRolePolicyBytes)
		}
	}
	for i, doc := range f.OrgDenyPolicies {
		if _, err := parsePolicy(doc, false); err != nil {
			return fmt.Errorf("org_deny_policies[%d]: %v", i, err)
		}
	}
	for i, doc := range f.ServiceControlPolicies {
		if _, err := parsePolicy(doc, false); err != nil {
			return fmt.Errorf("service_control_policies[%d]: %v", i, err)
		}
	}
	known, err := f.validateManaged(accounts)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for i, u := range f.Users {
		field := fmt.Sprintf("users[%d]", i)
		if !accounts[u.Account] {
			return fmt.Errorf("%s.account: %q is not one of the fixture's accounts", field, u.Account)
		}
		if len(u.Name) > 64 || !iamNameRe.MatchString(u.Name) {
			return fmt.Errorf("%s.name: %q must be 1-64 characters of [\\w+=,.@-]", field, u.Name)
		}
		if !accessKeyRe.MatchString(u.AccessKeyID) {
			return fmt.Errorf("%s.access_key_id: %q must be AKIA followed by 12 or more of [A-Z0-9]", field, u.AccessKeyID)
		}
		if keys[u.AccessKeyID] {
			return fmt.Errorf("%s.access_key_id: duplicate key %s", field, u.AccessKeyID)
		}
		keys[u.AccessKeyID] = true
		if len(u.SecretAccessKey) < 16 {
			return fmt.Errorf("%s.secret_access_key: must be at least 16 characters", field)
		}
	}
	return f.validateIdentityCenter(accounts, known)
}
