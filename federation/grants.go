package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
)

// PolicyReadAPI is the IAM calls Grants makes in a ticket's account: a
// role's inline and attached policies, and managed policies' documents.
type PolicyReadAPI interface {
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
}

// PermissionSetReadAPI is the sso-admin calls Grants makes: a permission
// set's managed policies, customer managed policy references and inline
// policy.
type PermissionSetReadAPI interface {
	ListManagedPoliciesInPermissionSet(ctx context.Context, in *ssoadmin.ListManagedPoliciesInPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListManagedPoliciesInPermissionSetOutput, error)
	ListCustomerManagedPolicyReferencesInPermissionSet(ctx context.Context, in *ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetOutput, error)
	GetInlinePolicyForPermissionSet(ctx context.Context, in *ssoadmin.GetInlinePolicyForPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.GetInlinePolicyForPermissionSetOutput, error)
}

// Grants reads what a permission set grants: on the role path the role's
// inline and attached managed policies (IAM in the ticket's account,
// through the management role); on the Identity Center path the
// permission set's AWS managed policies, customer managed policy
// references (read in the ticket's account, where Identity Center
// resolves them) and inline policy. It counts the actions their Allow
// statements name over the action catalogue (actioncatalog.go).
type Grants struct {
	// IAM returns the IAM client for an account.
	IAM func(accountID string) PolicyReadAPI
	// SSOAdmin and InstanceARN serve the Identity Center path; nil
	// SSOAdmin makes a permission set query EUNAVAILABLE.
	SSOAdmin    PermissionSetReadAPI
	InstanceARN string
	Partition   string // default "aws"
}

var _ broker.GrantReader = (*Grants)(nil)

// Granted reads q's policies and counts what they allow.
func (g *Grants) Granted(ctx context.Context, q broker.GrantQuery) (broker.Granted, error) {
	var docs []string
	var names []string
	add := func(name, doc string) {
		names = append(names, name)
		docs = append(docs, doc)
	}
	if q.RoleName != "" {
		if err := g.rolePolicies(ctx, q, add); err != nil {
			return broker.Granted{}, grantsError(err, "role "+q.RoleName)
		}
	}
	if q.PermissionSetARN != "" {
		if err := g.permissionSetPolicies(ctx, q, add); err != nil {
			return broker.Granted{}, grantsError(err, "permission set "+q.PermissionSetARN)
		}
	}
	set, all := ActionSet{}, false
	for i, d := range docs {
		a, err := allowedActions(d)
		if err != nil {
			return broker.Granted{}, broker.Errorf(broker.EUNAVAILABLE, "policy %s: %v", names[i], err)
		}
		all = all || a.all
		for _, p := range a.actions {
			set.addMatching(p)
		}
		for _, ps := range a.notActions {
			set.addNotMatching(ps)
		}
	}
	if names == nil {
		names = []string{}
	}
	return broker.Granted{Policies: names, Actions: len(set), Services: set.Services(), All: all}, nil
}

// grantsError turns an AWS error into the broker's: a missing role or
// permission set is ENOTFOUND, anything else EUNAVAILABLE naming only
// AWS's error code (the hint is shown to requesters: AWS's messages name
// JIT's own roles and sessions).
func grantsError(err error, what string) error {
	var nse *iamtypes.NoSuchEntityException
	var rnf *ssotypes.ResourceNotFoundException
	if errors.As(err, &nse) || errors.As(err, &rnf) {
		return broker.Errorf(broker.ENOTFOUND, "%s does not exist in AWS", what)
	}
	if broker.ErrorCode(err) != broker.EINTERNAL {
		return err
	}
	code := "no answer"
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	return broker.Errorf(broker.EUNAVAILABLE, "reading the policies of %s: AWS answered %s", what, code)
}

func (g *Grants) rolePolicies(ctx context.Context, q broker.GrantQuery, add func(name, doc string)) error {
	if g.IAM == nil {
		return broker.Errorf(broker.EUNAVAILABLE, "IAM is not configured")
	}
	api := g.IAM(q.AccountID)
	role := aws.String(q.RoleName)
	var marker *string
	for {
		out, err := api.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: role, Marker: marker})
		if err != nil {
			return err
		}
		for _, name := range out.PolicyNames {
			if name == RevocationPolicyName {
				continue // JIT's own deny entries
			}
			p, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: role, PolicyName: aws.String(name)})
			if err != nil {
				return err
			}
			add("inline:"+name, aws.ToString(p.PolicyDocument))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	marker = nil
	for {
		out, err := api.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: role, Marker: marker})
		if err != nil {
			return err
		}
		for _, p := range out.AttachedPolicies {
			if err := g.managedPolicy(ctx, api, aws.ToString(p.PolicyArn), add); err != nil {
				return err
			}
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	return nil
}

// managedPolicy reads the default version of a managed policy.
func (g *Grants) managedPolicy(ctx context.Context, api PolicyReadAPI, arn string, add func(name, doc string)) error {
	p, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return err
	}
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		return err
	}
	add(arn, aws.ToString(v.PolicyVersion.Document))
	return nil
}

func (g *Grants) permissionSetPolicies(ctx context.Context, q broker.GrantQuery, add func(name, doc string)) error {
	if g.SSOAdmin == nil {
		return broker.Errorf(broker.EUNAVAILABLE, "Identity Center is not configured")
	}
	inst, ps := aws.String(g.InstanceARN), aws.String(q.PermissionSetARN)
	var managed []string
	var tok *string
	for {
		out, err := g.SSOAdmin.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, NextToken: tok})
		if err != nil {
			return err
		}
		for _, p := range out.AttachedManagedPolicies {
			managed = append(managed, aws.ToString(p.Arn))
		}
		if tok = out.NextToken; tok == nil || *tok == "" {
			break
		}
	}
	tok = nil
	partition := g.Partition
	if partition == "" {
		partition = "aws"
	}
	for {
		out, err := g.SSOAdmin.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, NextToken: tok})
		if err != nil {
			return err
		}
		for _, r := range out.CustomerManagedPolicyReferences {
			path := aws.ToString(r.Path)
			if path == "" {
				path = "/"
			}
			managed = append(managed, fmt.Sprintf("arn:%s:iam::%s:policy%s%s", partition, q.AccountID, path, aws.ToString(r.Name)))
		}
		if tok = out.NextToken; tok == nil || *tok == "" {
			break
		}
	}
	if len(managed) > 0 {
		if g.IAM == nil {
			return broker.Errorf(broker.EUNAVAILABLE, "IAM is not configured")
		}
		api := g.IAM(q.AccountID)
		for _, arn := range managed {
			if err := g.managedPolicy(ctx, api, arn, add); err != nil {
				return err
			}
		}
	}
	in, err := g.SSOAdmin.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
	if err != nil {
		return err
	}
	if doc := aws.ToString(in.InlinePolicy); doc != "" {
		add("inline", doc)
	}
	return nil
}

// allowed is what a policy's Allow statements name: Action patterns, and
// per NotAction statement the patterns it excludes.
type allowed struct {
	actions    []string
	notActions [][]string
	all        bool
}

// allowedActions returns the Action and NotAction patterns of a policy
// document's Allow statements (IAM returns documents URL-encoded;
// Identity Center does not).
func allowedActions(doc string) (allowed, error) {
	if strings.HasPrefix(doc, "%7B") || strings.HasPrefix(doc, "%7b") {
		text, err := url.QueryUnescape(doc)
		if err != nil {
			return allowed{}, err
		}
		doc = text
	}
	var d struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return allowed{}, err
	}
	type statement struct {
		Effect    string          `json:"Effect"`
		Action    json.RawMessage `json:"Action"`
		NotAction json.RawMessage `json:"NotAction"`
	}
	var sts []statement
	if err := json.Unmarshal(d.Statement, &sts); err != nil {
		var one statement
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return allowed{}, fmt.Errorf("statement: %w", err)
		}
		sts = []statement{one}
	}
	var out allowed
	for _, s := range sts {
		if s.Effect != "Allow" {
			continue
		}
		for _, raw := range []struct {
			v   json.RawMessage
			not bool
		}{{s.Action, false}, {s.NotAction, true}} {
			if len(raw.v) == 0 {
				continue
			}
			list, err := stringOrList(raw.v)
			if err != nil {
				return allowed{}, err
			}
			if raw.not {
				out.notActions = append(out.notActions, list)
				continue
			}
			out.actions = append(out.actions, list...)
			if slices.Contains(list, "*") {
				out.all = true
			}
		}
	}
	return out, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("action: %w", err)
	}
	return list, nil
}
