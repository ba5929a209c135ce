package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// IdentityCenter is the organization's IAM Identity Center instance and
// its Identity Store. Zero values take the defaults on each field.
type IdentityCenter struct {
	// InstanceARN is "arn:<partition>:sso:::instance/ssoins-<16 chars>";
	// default derived from the owner account.
	InstanceARN string `yaml:"instance_arn"`
	// IdentityStoreID is "d-<10 hex>"; default derived likewise.
	IdentityStoreID string `yaml:"identity_store_id"`
	// OwnerAccount holds the instance: the management account, the only
	// one whose principals may call sso-admin and identitystore; default
	// the fixture's first account (also the Organizations management
	// account).
	OwnerAccount   string          `yaml:"owner_account"`
	PermissionSets []PermissionSet `yaml:"permission_sets"`
	Users          []IdentityUser  `yaml:"users"`
	Groups         []IdentityGroup `yaml:"groups"`
}

// PermissionSet is an Identity Center permission set. Assigning it to a
// principal in an account provisions the role
// AWSReservedSSO_<Name>_<suffix> (path /aws-reserved/sso.amazonaws.com/)
// there, with InlinePolicy as its policy.
type PermissionSet struct {
	Name        string `yaml:"name"`        // 1-32 characters of [\w+=,.@-]
	Description string `yaml:"description"` // optional, up to 700 characters
	// SessionDuration is ISO-8601 (PT1H .. PT12H); default "PT1H".
	SessionDuration string `yaml:"session_duration"`
	InlinePolicy    string `yaml:"inline_policy"` // optional JSON policy document
	// ManagedPolicies are AWS managed policy ARNs attached to the
	// permission set (e.g. "arn:aws:iam::aws:policy/ReadOnlyAccess").
	ManagedPolicies []string `yaml:"managed_policies"`
	// CustomerManagedPolicies name customer managed policies as
	// "<path><name>" or "<name>" (path "/"); provisioning attaches the
	// policy of that name in each account. One the account lacks is left
	// out of the role (AWS fails the provisioning instead).
	CustomerManagedPolicies []string `yaml:"customer_managed_policies"`
	// PermissionsBoundary is an AWS managed policy ARN or a customer
	// managed policy reference as above; empty for none.
	PermissionsBoundary string `yaml:"permissions_boundary"`
}

// IdentityUser is a user of the Identity Store.
type IdentityUser struct {
	UserName    string `yaml:"user_name"`
	Email       string `yaml:"email"`
	DisplayName string `yaml:"display_name"` // default UserName
}

// IdentityGroup is a group of the Identity Store.
type IdentityGroup struct {
	Name    string   `yaml:"name"`    // the group's DisplayName
	Members []string `yaml:"members"` // user names
}

// Identity Center facts the sandbox enforces.
const (
	// maxOutstandingAssignments is the number of asynchronous assignment
	// operations an instance accepts before ThrottlingException.
	// UNCONFIRMED (2023 docs): AWS documented 10 outstanding operations.
	maxOutstandingAssignments = 10
	ssoRolePath               = "/aws-reserved/sso.amazonaws.com/"
	ssoInlinePolicyName       = "AwsSSOInlinePolicy" // UNCONFIRMED name of the provisioned inline policy
	portalTokenLifetime       = 8 * time.Hour
	statusInProgress          = "IN_PROGRESS"
	statusSucceeded           = "SUCCEEDED"
	statusFailed              = "FAILED"
	assignmentFailureReason   = "An unexpected internal service exception was encountered"
)

var (
	instanceARNRe     = modelRe(`arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}`)
	identityStoreIDRe = modelRe(`d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	psNameRe          = modelRe(`[\w+=,.@-]+`)
	psDescriptionRe   = modelRe(`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{00A1}-\x{00FF}]*`)
	isUserNameRe      = modelRe(`[\p{L}\p{M}\p{S}\p{N}\p{P}]+`)
	isStringRe        = modelRe(`[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r  　]+`)
	emailRe           = lazy(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	isoDurationRe     = lazy(`^PT(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)S)?$`)
	storeIDFixtureRe  = lazy(`^d-[0-9a-f]{10}$`)
)

// parseSessionDuration reads the ISO-8601 durations permission sets use
// (PT<h>H<m>M<s>S) and checks AWS's 1..12 hour range.
func parseSessionDuration(s string) (time.Duration, error) {
	m := isoDurationRe.re().FindStringSubmatch(s)
	if m == nil || s == "PT" {
		return 0, fmt.Errorf("%q is not an ISO-8601 duration such as PT8H", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, fmt.Errorf("%q is not an ISO-8601 duration such as PT8H", s)
			}
			d += time.Duration(n) * unit
		}
	}
	if d < time.Hour || d > 12*time.Hour {
		return 0, fmt.Errorf("%q is outside PT1H..PT12H", s)
	}
	return d, nil
}

// resolved returns ic with its defaults filled in, for fixture f.
func (ic IdentityCenter) resolved(f Fixture) IdentityCenter {
	if ic.OwnerAccount == "" && len(f.Accounts) > 0 {
		ic.OwnerAccount = f.Accounts[0].ID
	}
	if ic.InstanceARN == "" {
		ic.InstanceARN = fmt.Sprintf("arn:%s:sso:::instance/ssoins-%s", f.Partition, hashHex("instance:"+ic.OwnerAccount, 16))
	}
	if ic.IdentityStoreID == "" {
		ic.IdentityStoreID = "d-" + hashHex("identitystore:"+ic.OwnerAccount, 10)
	}
	sets := make([]PermissionSet, len(ic.PermissionSets))
	for i, ps := range ic.PermissionSets {
		if ps.SessionDuration == "" {
			ps.SessionDuration = "PT1H"
		}
		sets[i] = ps
	}
	ic.PermissionSets = sets
	users := make([]IdentityUser, len(ic.Users))
	for i, u := range ic.Users {
		if u.DisplayName == "" {
			u.DisplayName = u.UserName
		}
		users[i] = u
	}
	ic.Users = users
	return ic
}

// validateIdentityCenter checks the Identity Center part of a fixture
// (and the accounts' emails, which Organizations reports).
func (f Fixture) validateIdentityCenter(accounts, managed map[string]bool) error {
	for i, a := range f.Accounts {
		if a.Email != "" && (len(a.Email) < 6 || len(a.Email) > 64 || !emailRe.MatchString(a.Email)) {
			return fmt.Errorf("accounts[%d].email: %q is not an email address of 6-64 characters", i, a.Email)
		}
	}
	if f.IdentityCenter == nil {
		return nil
	}
	ic := f.IdentityCenter.resolved(f)
	const field = "identity_center"
	if !accounts[ic.OwnerAccount] {
		return fmt.Errorf("%s.owner_account: %q is not one of the fixture's accounts", field, ic.OwnerAccount)
	}
	if !instanceARNRe.MatchString(ic.InstanceARN) || !strings.HasPrefix(ic.InstanceARN, "arn:"+f.Partition+":") {
		return fmt.Errorf("%s.instance_arn: %q is not arn:%s:sso:::instance/ssoins-<16 characters>", field, ic.InstanceARN, f.Partition)
	}
	if !storeIDFixtureRe.MatchString(ic.IdentityStoreID) {
		return fmt.Errorf("%s.identity_store_id: %q is not d-<10 hex digits>", field, ic.IdentityStoreID)
	}
	names := map[string]bool{}
	for i, ps := range ic.PermissionSets {
		pf := fmt.Sprintf("%s.permission_sets[%d]", field, i)
		if len(ps.Name) > 32 || !psNameRe.MatchString(ps.Name) {
			return fmt.Errorf("%s.name: %q must be 1-32 characters of [\\w+=,.@-]", pf, ps.Name)
		}
		if names[strings.ToLower(ps.Name)] {
			return fmt.Errorf("%s.name: duplicate permission set %s (names are case-insensitive)", pf, ps.Name)
		}
		names[strings.ToLower(ps.Name)] = true
		if utf8.RuneCountInString(ps.Description) > 700 || !psDescriptionRe.MatchString(ps.Description) {
			return fmt.Errorf("%s.description: must be at most 700 printable characters", pf)
		}
		if _, err := parseSessionDuration(ps.SessionDuration); err != nil {
			return fmt.Errorf("%s.session_duration: %v", pf, err)
		}
		if ps.InlinePolicy != "" {
			if _, err := parsePolicy(ps.InlinePolicy, false); err != nil {
				return fmt.Errorf("%s.inline_policy: %v", pf, err)
			}
			if policySize(ps.InlinePolicy) > maxRolePolicyBytes {
				return fmt.Errorf("%s.inline_policy: %d bytes (whitespace not counted) exceed the role budget of %d", pf, policySize(ps.InlinePolicy), maxRolePolicyBytes)
			}
		}
		for j, arn := range ps.ManagedPolicies {
			if !managed[arn] || !attachableIn(arn, "aws") {
				return fmt.Errorf("%s.managed_policies[%d]: %q is not an AWS managed policy the sandbox carries", pf, j, arn)
			}
		}
		refs := ps.CustomerManagedPolicies
		if b := ps.PermissionsBoundary; b != "" && !strings.HasPrefix(b, "arn:") {
			refs = append(slices.Clone(refs), b)
		} else if b != "" && (!managed[b] || !attachableIn(b, "aws")) {
			return fmt.Errorf("%s.permissions_boundary: %q is not an AWS managed policy the sandbox carries", pf, b)
		}
		for j, ref := range refs {
			path, name := splitPolicyRef(ref)
			if len(name) > 128 || !iamNameRe.MatchString(name) || !iamPathRe.MatchString(path) {
				return fmt.Errorf("%s.customer_managed_policies[%d]: %q is not a policy name with an optional path", pf, j, ref)
			}
		}
	}
	users, emails := map[string]bool{}, map[string]bool{}
	for i, u := range ic.Users {
		uf := fmt.Sprintf("%s.users[%d]", field, i)
		if utf8.RuneCountInString(u.UserName) > 128 || !isUserNameRe.MatchString(u.UserName) {
			return fmt.Errorf("%s.user_name: %q must be 1-128 printable characters without spaces", uf, u.UserName)
		}
		if users[strings.ToLower(u.UserName)] {
			return fmt.Errorf("%s.user_name: duplicate user %s (user names are case-insensitive)", uf, u.UserName)
		}
		users[strings.ToLower(u.UserName)] = true
		if !emailRe.MatchString(u.Email) || utf8.RuneCountInString(u.Email) > 1024 {
			return fmt.Errorf("%s.email: %q is not an email address", uf, u.Email)
		}
		if emails[strings.ToLower(u.Email)] {
			return fmt.Errorf("%s.email: duplicate email %s", uf, u.Email)
		}
		emails[strings.ToLower(u.Email)] = true
		if utf8.RuneCountInString(u.DisplayName) > 1024 || !isStringRe.MatchString(u.DisplayName) {
			return fmt.Errorf("%s.display_name: %q must be 1-1024 printable characters", uf, u.DisplayName)
		}
	}
	groups := map[string]bool{}
	for i, g := range ic.Groups {
		gf := fmt.Sprintf("%s.groups[%d]", field, i)
		if g.Name == "" || utf8.RuneCountInString(g.Name) > 1024 || !isStringRe.MatchString(g.Name) {
			return fmt.Errorf("%s.name: %q must be 1-1024 printable characters", gf, g.Name)
		}
		if groups[strings.ToLower(g.Name)] {
			return fmt.Errorf("%s.name: duplicate group %s", gf, g.Name)
		}
		groups[strings.ToLower(g.Name)] = true
		seen := map[string]bool{}
		for j, m := range g.Members {
			if !users[strings.ToLower(m)] {
				return fmt.Errorf("%s.members[%d]: %q is not one of identity_center.users", gf, j, m)
			}
			if seen[strings.ToLower(m)] {
				return fmt.Errorf("%s.members[%d]: duplicate member %s", gf, j, m)
			}
			seen[strings.ToLower(m)] = true
		}
	}
	return nil
}

// demoIdentityCenter is DemoFixture's Identity Center: one permission set
// per demo role, with the same policy, and four users in three groups.
func demoIdentityCenter(policies map[string]string) *IdentityCenter {
	ic := &IdentityCenter{
		InstanceARN:     "arn:aws:sso:::instance/ssoins-72230000jitdemo1",
		IdentityStoreID: "d-9067000001",
		OwnerAccount:    "111111111111",
	}
	for _, p := range []struct{ name, desc, dur string }{
		{"ReadOnlyAccess", "Read-only access to the account", "PT8H"},
		{"PowerUserAccess", "Everything but IAM and Organizations", "PT4H"},
		{"AdministratorAccess", "Full access to the account", "PT1H"},
	} {
		ic.PermissionSets = append(ic.PermissionSets, PermissionSet{
			Name: p.name, Description: p.desc, SessionDuration: p.dur, InlinePolicy: policies[p.name],
		})
	}
	for _, u := range []struct{ name, display string }{
		{"alice", "Alice Example"}, {"bob", "Bob Example"}, {"carol", "Carol Example"}, {"dave", "Dave Example"},
	} {
		ic.Users = append(ic.Users, IdentityUser{UserName: u.name, Email: u.name + "@example.com", DisplayName: u.display})
	}
	ic.Groups = []IdentityGroup{
		{Name: "engineers", Members: []string{"alice", "dave"}},
		{Name: "approvers", Members: []string{"bob"}},
		{Name: "admins", Members: []string{"carol"}},
	}
	return ic
}

// identityCenter is the live state behind sso-admin, identitystore,
// organizations and the access portal. It is guarded by Sandbox.mu.
type identityCenter struct {
	// instance is nil when the fixture has no Identity Center.
	instance *icInstance
	org      organization

	// assignmentDelay is how long assignment and provisioning operations
	// stay IN_PROGRESS on the sandbox clock; 0 means until they have been
	// described once or selfSettle has passed, whichever comes first (AWS
	// finishes them whether or not anyone polls). assignmentResult is the outcome of assignment
	// operations: "SUCCEEDED" (default) or "FAILED".
	assignmentDelay  time.Duration
	assignmentResult string
}

type icInstance struct {
	arn, id, storeID, owner string
	created                 time.Time
	permSets                []*permSet // fixture order
	byARN                   map[string]*permSet
	users                   []*idUser
	usersByID               map[string]*idUser
	groups                  []*idGroup
	groupsByID              map[string]*idGroup
	assignments             map[assignmentKey]bool // SUCCEEDED assignments
	ops                     map[string]*icOp       // by request id
	opOrder                 []*icOp                // IN_PROGRESS, in creation order
	tokens                  map[string]*portalToken
}

type permSet struct {
	name, arn, description, sessionDuration string
	duration                                time.Duration
	created                                 time.Time
	policy                                  string // current inline policy; "" when none
	managed, customer                       []string
	boundary                                string
	// roles holds the provisioned role per account; the role's inline
	// policy is the permission set's policy as of the last provisioning.
	roles map[string]*role
}

type idUser struct {
	IdentityUser
	id     string
	groups []*idGroup
}

type idGroup struct {
	name, id string
	members  []*idUser
}

type assignmentKey struct {
	account, permSetARN, principalType, principalID string
}

// icOp is an asynchronous operation: an assignment creation or deletion,
// or a permission set provisioning.
type icOp struct {
	kind      string // "create", "delete" or "provision"
	requestID string
	key       assignmentKey // provision: account ("" for all provisioned accounts) and permSetARN
	created   time.Time
	due       time.Time // zero: completes once described, or selfSettle after it was made
	described bool
	result    string // outcome when it completes
	status    string
	failure   string
}

type portalToken struct {
	user    *idUser
	expires time.Time
}

type organization struct {
	id, mgmt string
	accounts []Account
}

// SetAssignmentBehaviour sets how assignment operations complete from now
// on: they stay IN_PROGRESS until delay has passed on the sandbox clock
// (0: until described once), then end with result, "SUCCEEDED" or
// "FAILED" (with a FailureReason); anything else means "SUCCEEDED".
// Provisioning operations take the same delay and always succeed.
func (s *Sandbox) SetAssignmentBehaviour(delay time.Duration, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ic.assignmentDelay = max(delay, 0)
	if result != statusFailed {
		result = statusSucceeded
	}
	s.ic.assignmentResult = result
}

func (s *Sandbox) newIdentityCenter(f Fixture, opt Options) *identityCenter {
	ic := &identityCenter{assignmentDelay: max(opt.AssignmentDelay, 0), assignmentResult: statusSucceeded}
	ic.org = organization{mgmt: f.Accounts[0].ID, accounts: f.Accounts}
	ic.org.id = "o-" + hashHex("organization:"+ic.org.mgmt, 10)
	if f.IdentityCenter == nil {
		return ic
	}
	cfg := f.IdentityCenter.resolved(f)
	in := &icInstance{
		arn: cfg.InstanceARN, storeID: cfg.IdentityStoreID, owner: cfg.OwnerAccount, created: s.started,
		byARN: map[string]*permSet{}, usersByID: map[string]*idUser{}, groupsByID: map[string]*idGroup{},
		assignments: map[assignmentKey]bool{}, ops: map[string]*icOp{}, tokens: map[string]*portalToken{},
	}
	in.id = in.arn[strings.LastIndex(in.arn, "/")+1:]
	for _, p := range cfg.PermissionSets {
		d, _ := parseSessionDuration(p.SessionDuration) // validated
		ps := &permSet{
			name: p.Name, description: p.Description, sessionDuration: p.SessionDuration, duration: d,
			arn:     fmt.Sprintf("arn:%s:sso:::permissionSet/%s/ps-%s", s.partition, in.id, hashHex(in.arn+"/"+p.Name, 16)),
			created: s.started, policy: p.InlinePolicy, roles: map[string]*role{},
			managed: p.ManagedPolicies, customer: p.CustomerManagedPolicies, boundary: p.PermissionsBoundary,
		}
		in.permSets = append(in.permSets, ps)
		in.byARN[ps.arn] = ps
	}
	byName := map[string]*idUser{}
	for _, u := range cfg.Users {
		iu := &idUser{IdentityUser: u, id: in.resourceID("user:" + u.UserName)}
		in.users = append(in.users, iu)
		in.usersByID[iu.id] = iu
		byName[strings.ToLower(u.UserName)] = iu
	}
	for _, g := range cfg.Groups {
		ig := &idGroup{name: g.Name, id: in.resourceID("group:" + g.Name)}
		for _, m := range g.Members {
			u := byName[strings.ToLower(m)]
			ig.members = append(ig.members, u)
			u.groups = append(u.groups, ig)
		}
		in.groups = append(in.groups, ig)
		in.groupsByID[ig.id] = ig
	}
	ic.instance = in
	return ic
}

// resourceID derives a stable Identity Store id, shaped like AWS's:
// the store's 10 hex digits, a dash and a UUID.
func (in *icInstance) resourceID(what string) string {
	h := hashHex(in.storeID+"/"+what, 32)
	return strings.TrimPrefix(in.storeID, "d-") + "-" + h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// hashHex returns n lower-case hex digits derived from s.
func hashHex(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:n]
}

// userByName finds an Identity Store user by exact user name.
func (in *icInstance) userByName(name string) *idUser {
	for _, u := range in.users {
		if u.UserName == name {
			return u
		}
	}
	return nil
}

// selfSettle is when an operation with no configured delay finishes even
// if nobody described it: a client that lost the answer to its create (or
// gave up polling) must not leave it IN_PROGRESS for ever, blocking every
// later operation on its permission set and account with ConflictException.
// AWS finishes them on its own time.
const selfSettle = 2 * time.Second

// settle completes the operations whose time has come, in the order they
// were made (s.mu held). Completed operations stay describable by id but
// leave opOrder, which holds only those IN_PROGRESS.
func (s *Sandbox) settle(now time.Time) {
	in := s.ic.instance
	if in == nil {
		return
	}
	pending := in.opOrder[:0]
	for _, op := range in.opOrder {
		if op.due.IsZero() && !op.described && now.Sub(op.created) < selfSettle || !op.due.IsZero() && now.Before(op.due) {
			pending = append(pending, op)
			continue
		}
		s.complete(in, op, now)
	}
	clear(in.opOrder[len(pending):])
	in.opOrder = pending
}

// complete ends op with its result and applies it.
func (s *Sandbox) complete(in *icInstance, op *icOp, now time.Time) {
	if op.result == statusFailed {
		op.status, op.failure = statusFailed, assignmentFailureReason
		return
	}
	op.status = statusSucceeded
	ps := in.byARN[op.key.permSetARN]
	switch op.kind {
	case "create":
		// Assigning provisions the permission set to the account if it is
		// not there yet; an existing role keeps its (possibly stale)
		// policy until ProvisionPermissionSet, as in AWS.
		if ps.roles[op.key.account] == nil {
			s.provision(ps, op.key.account, now)
		}
		in.assignments[op.key] = true
	case "delete":
		// The role stays: sessions already issued keep working until they
		// expire, as AWS documents for assignment deletion.
		delete(in.assignments, op.key)
	case "provision":
		if op.key.account != "" {
			s.provision(ps, op.key.account, now)
			return
		}
		for acct := range ps.roles {
			s.provision(ps, acct, now)
		}
	}
}

// splitPolicyRef splits a customer managed policy reference
// "<path><name>" (or "<name>") into its path and name.
func splitPolicyRef(ref string) (path, name string) {
	i := strings.LastIndex(ref, "/")
	if i < 0 {
		return "/", ref
	}
	return ref[:i+1], ref[i+1:]
}

// provision creates or updates the permission set's role in account with
// the permission set's current inline policy.
func (s *Sandbox) provision(ps *permSet, account string, now time.Time) {
	rs := ps.roles[account]
	if rs == nil {
		name := protectedRolePrefix + ps.name + "_" + hashHex(ps.arn+"/"+account, 16)
		arn := fmt.Sprintf("arn:%s:iam::%s:role%s%s", s.partition, account, ssoRolePath, name)
		secs := int(ps.duration / time.Second)
		rs = &role{
			Role: Role{
				Account: account, Name: name, Path: ssoRolePath, MaxSessionDuration: max(secs, 3600),
				// Only the access portal mints sessions for these roles:
				// the trust names a SAML provider no caller can be, for
				// sts:AssumeRoleWithSAML, never sts:AssumeRole.
				TrustActions: []string{"sts:AssumeRoleWithSAML", "sts:TagSession"},
			},
			samlProvider: fmt.Sprintf("arn:%s:iam::%s:saml-provider/AWSSSO_%s_DO_NOT_DELETE", s.partition, account, hashHex(ps.arn, 16)),
			arn:          arn, id: stableID("AROA", arn), created: now,
			policies: map[string]string{}, parsed: map[string]*policy{},
		}
		ps.roles[account] = rs
		s.roles[roleKey(account, name)] = rs
	} else {
		s.keepPolicies(rs, now)
	}
	rs.policies, rs.parsed = map[string]string{}, map[string]*policy{}
	rs.ManagedPolicyArns = slices.Clone(ps.managed)
	for _, ref := range ps.customer {
		path, name := splitPolicyRef(ref)
		if arn := customerManagedARN(s.partition, account, path, name); s.managed[arn] != nil {
			rs.ManagedPolicyArns = append(rs.ManagedPolicyArns, arn)
		}
	}
	rs.PermissionsBoundary = ps.boundary
	if b := ps.boundary; b != "" && !strings.HasPrefix(b, "arn:") {
		path, name := splitPolicyRef(b)
		rs.PermissionsBoundary = customerManagedARN(s.partition, account, path, name)
	}
	if ps.policy != "" {
		p, _ := parsePolicy(ps.policy, false) // validated when it was put
		rs.policies[ssoInlinePolicyName], rs.parsed[ssoInlinePolicyName] = ps.policy, p
	}
}

// startOp records a new IN_PROGRESS operation (s.mu held).
func (s *Sandbox) startOp(in *icOp, now time.Time) *icOp {
	inst := s.ic.instance
	in.requestID = newRequestID()
	in.created = now
	in.status = statusInProgress
	if s.ic.assignmentDelay > 0 {
		in.due = now.Add(s.ic.assignmentDelay)
	}
	in.result = statusSucceeded
	if in.kind != "provision" {
		in.result = s.ic.assignmentResult
	}
	inst.ops[in.requestID] = in
	inst.opOrder = append(inst.opOrder, in)
	return in
}

// conflicting returns an IN_PROGRESS operation on the same permission set
// in the same account ("" account: any account), if any.
func (in *icInstance) conflicting(account, permSetARN string) *icOp {
	for _, op := range in.opOrder {
		if op.status == statusInProgress && op.key.permSetARN == permSetARN &&
			(account == "" || op.key.account == "" || op.key.account == account) {
			return op
		}
	}
	return nil
}

// outstanding counts the IN_PROGRESS assignment operations.
func (in *icInstance) outstanding() int {
	n := 0
	for _, op := range in.opOrder {
		if op.status == statusInProgress && op.kind != "provision" {
			n++
		}
	}
	return n
}

// hasAccess reports whether user u holds a SUCCEEDED assignment of ps in
// account, directly or through one of its groups.
func (in *icInstance) hasAccess(u *idUser, ps *permSet, account string) bool {
	if in.assignments[assignmentKey{account, ps.arn, "USER", u.id}] {
		return true
	}
	for _, g := range u.groups {
		if in.assignments[assignmentKey{account, ps.arn, "GROUP", g.id}] {
			return true
		}
	}
	return false
}

// PortalToken returns an access portal bearer token for the Identity
// Store user userName, as IAM Identity Center's sign-in would issue (valid
// for 8 hours on the sandbox clock). The token works with the access
// portal's GetRoleCredentials (GET /federation/credentials).
func (s *Sandbox) PortalToken(userName string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.ic.instance
	if in == nil {
		return "", errors.New("portal token: the sandbox has no Identity Center")
	}
	u := in.userByName(userName)
	if u == nil {
		return "", fmt.Errorf("portal token: no Identity Store user %q", userName)
	}
	tok := "aoa" + strings.ReplaceAll(randomB64(48), "/", "_")
	in.tokens[tok] = &portalToken{user: u, expires: s.now().UTC().Add(portalTokenLifetime)}
	return tok, nil
}
