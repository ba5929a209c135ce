package check

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
)

// PermissionSetAPI is the Identity Center calls the check makes.
type PermissionSetAPI interface {
	federation.DescribePermissionSetAPI
	GetInlinePolicyForPermissionSet(ctx context.Context, in *ssoadmin.GetInlinePolicyForPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.GetInlinePolicyForPermissionSetOutput, error)
	ListAccountsForProvisionedPermissionSet(ctx context.Context, in *ssoadmin.ListAccountsForProvisionedPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountsForProvisionedPermissionSetOutput, error)
}

// Config is what the check runs against: the clients JIT uses, wired as
// cmd/jit wires them, and the registry.
type Config struct {
	// STS is the broker's own STS client.
	STS       federation.AssumeRoleAPI
	Partition string // default "aws"
	// ManagementRole is aws.management_role; "" means the broker's own
	// credentials act in every account (no assume check).
	ManagementRole string
	// IAM and Trail return the clients for an account (through the
	// management role).
	IAM   func(accountID string) federation.RolePolicyAPI
	Trail func(accountID, region string) federation.LookupEventsAPI
	// SSOAdmin and InstanceARN: Identity Center; nil or "" skips the
	// Identity Center checks.
	SSOAdmin    PermissionSetAPI
	InstanceARN string
	Clock       broker.Clock // default the system clock
	Registry    broker.RegistryData
	// Grants reads what permission sets grant (least-privilege hints);
	// nil skips those checks.
	Grants broker.GrantReader
}

// Result is the outcome of one check.
type Result struct {
	Check  string `json:"check"`  // what was checked, e.g. "assume management role"
	Target string `json:"target"` // where, e.g. "222222222222" or "ReadOnlyAccess in 222222222222"
	OK     bool   `json:"ok"`
	// Problem says what is wrong and Fix how to fix it; empty when OK.
	Problem string `json:"problem,omitempty"`
	Fix     string `json:"fix,omitempty"`
}

// CheckTicketID is the ticket id of the sessions the check mints and of
// its test deny entries: no real ticket has it.
const CheckTicketID = "jit-admin-check"

// Run runs every check and returns the results in a stable order: per
// account, the management role, then per role of the role path its deny
// list and a minted session, then CloudTrail; then Identity Center per
// permission set.
func Run(ctx context.Context, c Config) []Result {
	var out []Result
	for _, a := range c.Registry.Accounts {
		out = append(out, c.account(ctx, a.ID)...)
	}
	if c.SSOAdmin != nil && c.InstanceARN != "" {
		for _, ps := range c.Registry.PermissionSets {
			if ps.GrantPath == broker.GrantIdentityCenter || ps.GrantPath == broker.GrantBoth {
				out = append(out, c.permissionSet(ctx, ps))
				if i := slices.IndexFunc(c.Registry.Accounts, func(a broker.Account) bool { return inScope(ps, a.ID) }); i >= 0 && c.Grants != nil {
					id := c.Registry.Accounts[i].ID
					out = append(out, c.grants(ctx, ps.Name+" in "+id, broker.GrantQuery{AccountID: id, PermissionSetARN: ps.ARN},
						"allow sso:ListManagedPoliciesInPermissionSet, sso:ListCustomerManagedPolicyReferencesInPermissionSet and sso:GetInlinePolicyForPermissionSet on the permission sets to the broker (deploy/aws/broker.yaml does), and iam:GetPolicy and iam:GetPolicyVersion to the management role"))
				}
			}
		}
	}
	return out
}

// Failed reports whether any result failed.
func Failed(rs []Result) bool {
	return slices.ContainsFunc(rs, func(r Result) bool { return !r.OK })
}

func (c Config) account(ctx context.Context, id string) []Result {
	var out []Result
	if c.ManagementRole != "" {
		r := Result{Check: "assume management role", Target: c.ManagementRole + " in " + id, OK: true}
		_, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn: aws.String(federation.RoleARN(c.partition(), id, c.ManagementRole)), RoleSessionName: aws.String(CheckTicketID)})
		if err != nil {
			r.fail(fmt.Sprintf("the broker cannot assume %s: %s", federation.RoleARN(c.partition(), id, c.ManagementRole), short(err)),
				"deploy deploy/aws/member.yaml to this account (StackSet) with BrokerRoleArn set to the broker's role, and ManagementRoleName = aws.management_role")
			out = append(out, r)
			return out // every other check of the account goes through it
		}
		out = append(out, r)
	}
	for _, ps := range c.Registry.PermissionSets {
		if ps.RoleName == "" || ps.GrantPath == broker.GrantIdentityCenter || !inScope(ps, id) {
			continue
		}
		r, missing := c.denyList(ctx, id, ps.RoleName)
		out = append(out, r)
		if !missing { // a role that is not there has nothing to mint
			out = append(out, c.mint(ctx, id, ps))
			if c.Grants != nil {
				out = append(out, c.grants(ctx, ps.RoleName+" in "+id, broker.GrantQuery{AccountID: id, RoleName: ps.RoleName},
					"allow iam:ListRolePolicies, iam:GetRolePolicy and iam:ListAttachedRolePolicies on the JIT roles, and iam:GetPolicy and iam:GetPolicyVersion on managed policies, to the management role (deploy/aws/member.yaml does)"))
			}
		}
	}
	r := Result{Check: "CloudTrail LookupEvents", Target: id, OK: true}
	_, err := c.Trail(id, "").LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1),
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRole")}}})
	if err != nil {
		r.fail("CloudTrail does not answer LookupEvents for account "+id+": "+short(err),
			"allow cloudtrail:LookupEvents (Resource \"*\") to the management role (deploy/aws/member.yaml does)")
	}
	return append(out, r)
}

func inScope(ps broker.PermissionSet, account string) bool {
	return len(ps.Scope.Accounts) == 0 || slices.Contains(ps.Scope.Accounts, "*") || slices.Contains(ps.Scope.Accounts, account)
}

// denyList reads the role's deny list and writes it back: the same
// document when there is one, else a deny that matches no session,
// removed again. missing reports that the role does not exist.
func (c Config) denyList(ctx context.Context, account, role string) (r Result, missing bool) {
	r = Result{Check: "read and write deny list", Target: role + " in " + account, OK: true}
	api := c.IAM(account)
	fix := fmt.Sprintf("allow iam:GetRolePolicy, iam:PutRolePolicy, iam:DeleteRolePolicy and iam:ListRolePolicies on role %s to the management role (list the role in deploy/aws/member.yaml's ManagementRole policy)", role)
	name := aws.String(federation.RevocationPolicyName)
	if _, err := api.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(role)}); err != nil {
		var ae smithy.APIError
		missing = errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity"
		if missing {
			fix = "create role " + role + " in the account (deploy/aws/member.yaml), or fix the permission set's role_name"
		}
		r.fail(fmt.Sprintf("cannot list the inline policies of %s in %s: %s", role, account, short(err)), fix)
		return r, missing
	}
	doc := ""
	got, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: name})
	var nse interface{ ErrorCode() string }
	switch {
	case err == nil:
		doc = aws.ToString(got.PolicyDocument)
	case errors.As(err, &nse) && nse.ErrorCode() == "NoSuchEntity":
	default:
		r.fail(fmt.Sprintf("cannot read the deny list of %s in %s: %s", role, account, short(err)), fix)
		return r, false
	}
	if doc != "" {
		// IAM returns it URL-encoded; write back what federation reads.
		if doc, err = url.QueryUnescape(doc); err != nil {
			r.fail(fmt.Sprintf("the deny list of %s in %s does not decode: %v", role, account, err), "remove the inline policy "+federation.RevocationPolicyName+" and run the check again")
			return r, false
		}
	}
	write := doc
	if write == "" {
		write = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"JitAdminCheck","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/%s":"%s"}}}]}`, federation.TagTicket, CheckTicketID)
	}
	if _, err := api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: name, PolicyDocument: aws.String(write)}); err != nil {
		r.fail(fmt.Sprintf("cannot write the deny list of %s in %s: %s", role, account, short(err)), fix)
		return r, false
	}
	if doc == "" {
		if _, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(role), PolicyName: name}); err != nil {
			r.fail(fmt.Sprintf("cannot remove the deny list of %s in %s (the check's own entry, which matches no session, stays): %s", role, account, short(err)), fix)
		}
	}
	return r, false
}

var performRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`perform: ([a-z0-9-]+:[A-Za-z]+)`) })

// mint assumes the permission set's role as JIT does: session name,
// source identity, session tags and a session policy.
func (c Config) mint(ctx context.Context, account string, ps broker.PermissionSet) Result {
	r := Result{Check: "mint ticket session", Target: ps.RoleName + " in " + account, OK: true}
	now := c.now()
	m := &federation.Minter{STS: c.STS, Partition: c.Partition, Clock: c.Clock}
	_, err := m.Mint(ctx, broker.MintRequest{TicketID: CheckTicketID, AccountID: account, RoleName: ps.RoleName,
		Requester: CheckTicketID, Beneficiary: CheckTicketID, End: now.Add(15 * time.Minute), AllowRoleChaining: ps.AllowRoleChaining})
	if err == nil {
		return r
	}
	action := "sts:AssumeRole"
	if m := performRe().FindStringSubmatch(err.Error()); m != nil {
		action = m[1]
	}
	r.fail(fmt.Sprintf("trust policy of %s in %s does not allow %s for the broker (or the broker's own policy does not): %s", ps.RoleName, account, action, short(err)),
		fmt.Sprintf("deploy the role from deploy/aws/member.yaml, or let the broker's role %s on it (trust policy: sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity for the broker; broker.yaml: the same actions on the role)", action))
	return r
}

func (c Config) permissionSet(ctx context.Context, ps broker.PermissionSet) Result {
	r := Result{Check: "Identity Center permission set", Target: ps.Name, OK: true}
	if ps.ARN == "" {
		r.fail("permission set "+ps.Name+" has no arn in the registry", "run jit admin permission-sets import, or set its arn")
		return r
	}
	if _, err := c.SSOAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(c.InstanceARN), PermissionSetArn: aws.String(ps.ARN)}); err != nil {
		r.fail(fmt.Sprintf("Identity Center does not describe %s (%s): %s", ps.Name, ps.ARN, short(err)),
			"check aws.identity_center.instance_arn and the permission set's arn; the broker's role needs sso:DescribePermissionSet (deploy/aws/broker.yaml)")
		return r
	}
	_, err := c.SSOAdmin.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(c.InstanceARN), PermissionSetArn: aws.String(ps.ARN)})
	if err != nil {
		r.fail(fmt.Sprintf("cannot read the inline policy (JIT's deny list) of %s: %s", ps.Name, short(err)),
			"add the permission set's ARN to ManagedPermissionSetArns of deploy/aws/broker.yaml")
		return r
	}
	// Provisioned: every account holding the permission set has its
	// latest version, so the deny entries JIT wrote are in force there.
	var stale []string
	in := &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: aws.String(c.InstanceARN), PermissionSetArn: aws.String(ps.ARN),
		ProvisioningStatus: ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned}
	for {
		out, err := c.SSOAdmin.ListAccountsForProvisionedPermissionSet(ctx, in)
		if err != nil {
			r.fail(fmt.Sprintf("cannot list the accounts where %s is provisioned: %s", ps.Name, short(err)),
				"the broker's role needs sso:ListAccountsForProvisionedPermissionSet on the permission set (deploy/aws/broker.yaml)")
			return r
		}
		stale = append(stale, out.AccountIds...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if len(stale) > 0 {
		r.fail(fmt.Sprintf("the latest version of %s is not provisioned in %s: JIT's deny entries are not in force there", ps.Name, strings.Join(stale, ", ")),
			"provision it (aws sso-admin provision-permission-set --target-type ALL_PROVISIONED_ACCOUNTS), or run jit reconcile, which provisions after it writes")
	}
	return r
}

// grants reads what a role or permission set grants, as least-privilege
// hints do.
func (c Config) grants(ctx context.Context, target string, q broker.GrantQuery, fix string) Result {
	r := Result{Check: "read what it grants", Target: target, OK: true}
	if _, err := c.Grants.Granted(ctx, q); err != nil {
		r.fail("JIT cannot read the policies of "+target+" (least-privilege hints): "+broker.ErrorMessage(err), fix)
	}
	return r
}

func (r *Result) fail(problem, fix string) {
	r.OK, r.Problem, r.Fix = false, problem, fix
}

// short is an AWS error's code and message, without the SDK's wrapping.
func short(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func (c Config) partition() string {
	if c.Partition == "" {
		return "aws"
	}
	return c.Partition
}

func (c Config) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}
