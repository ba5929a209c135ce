package sandbox

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

const (
	iamVersion = "2010-05-08"
	iamXMLNS   = "https://iam.amazonaws.com/doc/2010-05-08/"
	// protectedRolePrefix marks IAM Identity Center roles, which only AWS
	// may change.
	protectedRolePrefix = "AWSReservedSSO_"
)

var (
	iamRoleNameRe   = modelRe(`[\w+=,.@-]+`)
	iamPolicyNameRe = modelRe(`[\w+=,.@-]+`)
	iamPolicyDocRe  = modelRe(`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+`)
	iamMarkerRe     = modelRe(`[\x{0020}-\x{00FF}]+`)
)

// iamGlobalRegion is the region IAM requests are signed for, by partition.
var iamGlobalRegion = map[string]string{"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

// IAM is account-scoped: every action works on the caller's own account,
// so a caller reaches another account's roles through AssumeRole first.
func (s *Sandbox) iamService() *service {
	actions := map[string]queryHandler{
		"GetRole":                  s.getRole,
		"PutRolePolicy":            s.putRolePolicy,
		"GetRolePolicy":            s.getRolePolicy,
		"DeleteRolePolicy":         s.deleteRolePolicy,
		"ListRolePolicies":         s.listRolePolicies,
		"ListRoles":                s.listRoles,
		"ListAttachedRolePolicies": s.listAttachedRolePolicies,
		"GetPolicy":                s.getPolicy,
		"GetPolicyVersion":         s.getPolicyVersion,
	}
	return &service{
		name:         "iam",
		proto:        queryProtocol{xmlns: iamXMLNS},
		globalRegion: iamGlobalRegion[s.partition],
		serve:        func(c *call) *apiError { return c.dispatchQuery(iamVersion, actions) },
	}
}

// iamRole validates the RoleName member (plus the extra checks in v),
// authorizes iam:<Action> on the role and finds it in the caller's
// account, in that order, as IAM does.
func (s *Sandbox) iamRole(c *call, v *validation) (*role, *apiError) {
	name, ok := formValue(c.form, "RoleName")
	v.str(name, ok, true, "roleName", 1, 64, iamRoleNameRe)
	if e := v.err(); e != nil {
		return nil, e
	}
	acct := c.caller.account
	rs := s.roles[roleKey(acct, name)]
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", s.partition, acct, name)
	if rs != nil {
		arn = rs.arn
	}
	action := "iam:" + c.action
	if d := c.authorize(action, arn); !d.allowed {
		return nil, errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s on resource: role %s %s",
			c.caller.arn, action, name, d.reason(action))
	}
	if rs == nil {
		return nil, errorf(404, "NoSuchEntity", "The role with name %s cannot be found.", name)
	}
	return rs, nil
}

func protectedRole(c *call, rs *role) *apiError {
	if strings.HasPrefix(rs.Name, protectedRolePrefix) {
		return errorf(400, "UnmodifiableEntity", "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", rs.Name)
	}
	return nil
}

type iamRoleXML struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	MaxSessionDuration       int
	PermissionsBoundary      *permissionsBoundaryXML `xml:",omitempty"`
}

type permissionsBoundaryXML struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

// roleXML is the Role structure GetRole and ListRoles return.
func (s *Sandbox) roleXML(rs *role) iamRoleXML {
	x := iamRoleXML{
		Path: rs.Path, RoleName: rs.Name, RoleId: rs.id, Arn: rs.arn,
		CreateDate:               rs.created.UTC().Format(time.RFC3339),
		AssumeRolePolicyDocument: uriEncode(s.trustPolicy(rs), true),
		MaxSessionDuration:       rs.MaxSessionDuration,
	}
	if rs.PermissionsBoundary != "" {
		x.PermissionsBoundary = &permissionsBoundaryXML{"Policy", rs.PermissionsBoundary}
	}
	return x
}

func (s *Sandbox) getRole(c *call) *apiError {
	rs, e := s.iamRole(c, &validation{})
	if e != nil {
		return e
	}
	return c.writeQuery(iamXMLNS, "GetRole", struct{ Role iamRoleXML }{s.roleXML(rs)})
}

// trustPolicy renders the role's trust as the JSON document IAM returns.
// An Identity Center role trusts its account's SAML provider, in AWS's
// form: a Federated principal with sts:AssumeRoleWithSAML and
// sts:TagSession, for the sign-in endpoint's audience.
func (s *Sandbox) trustPolicy(rs *role) string {
	if rs.samlProvider != "" {
		b, _ := json.Marshal(map[string]any{
			"Version": "2012-10-17",
			"Statement": []any{map[string]any{
				"Effect":    "Allow",
				"Principal": map[string]any{"Federated": rs.samlProvider},
				"Action":    []string{"sts:AssumeRoleWithSAML", "sts:TagSession"},
				"Condition": map[string]any{"StringEquals": map[string]any{"SAML:aud": "https://signin.aws.amazon.com/saml"}},
			}},
		})
		return string(b)
	}
	principals := rs.TrustedPrincipals
	if len(principals) == 0 {
		for id := range s.accounts {
			principals = append(principals, fmt.Sprintf("arn:%s:iam::%s:root", s.partition, id))
		}
		sort.Strings(principals)
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": principals},
			"Action":    []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func (s *Sandbox) putRolePolicy(c *call) *apiError {
	var v validation
	name, nok := formValue(c.form, "PolicyName")
	v.str(name, nok, true, "policyName", 1, 128, iamPolicyNameRe)
	doc, dok := formValue(c.form, "PolicyDocument")
	v.str(doc, dok, true, "policyDocument", 1, 131072, iamPolicyDocRe)
	rs, e := s.iamRole(c, &v)
	if e != nil {
		return e
	}
	if e := protectedRole(c, rs); e != nil {
		return e
	}
	p, err := parsePolicy(doc, false)
	if err != nil {
		return errorf(400, "MalformedPolicyDocument", "%s", err.Error())
	}
	total := policySize(doc)
	for other, d := range rs.policies {
		if other != name {
			total += policySize(d)
		}
	}
	if total > maxRolePolicyBytes {
		return errorf(409, "LimitExceeded", "Maximum policy size of %d bytes exceeded for role %s", maxRolePolicyBytes, rs.Name)
	}
	if e := c.writeQuery(iamXMLNS, "PutRolePolicy", nil); e != nil {
		return e
	}
	// Takes effect on every session of the role, after the propagation
	// delay (faults.go; none by default): sessions look the role's
	// policies up on each call.
	s.keepPolicies(rs, c.now)
	rs.policies[name], rs.parsed[name] = doc, p
	return nil
}

// rolePolicy validates PolicyName and finds the role's inline policy.
func (s *Sandbox) rolePolicy(c *call) (*role, string, *apiError) {
	var v validation
	name, ok := formValue(c.form, "PolicyName")
	v.str(name, ok, true, "policyName", 1, 128, iamPolicyNameRe)
	rs, e := s.iamRole(c, &v)
	if e != nil {
		return nil, "", e
	}
	if _, ok := rs.policies[name]; !ok {
		return nil, "", errorf(404, "NoSuchEntity", "The role policy with name %s cannot be found.", name)
	}
	return rs, name, nil
}

func (s *Sandbox) getRolePolicy(c *call) *apiError {
	rs, name, e := s.rolePolicy(c)
	if e != nil {
		return e
	}
	// IAM returns the document URL-encoded (RFC 3986).
	return c.writeQuery(iamXMLNS, "GetRolePolicy", struct {
		RoleName, PolicyName, PolicyDocument string
	}{rs.Name, name, uriEncode(rs.policies[name], true)})
}

func (s *Sandbox) deleteRolePolicy(c *call) *apiError {
	rs, name, e := s.rolePolicy(c)
	if e != nil {
		return e
	}
	if e := protectedRole(c, rs); e != nil {
		return e
	}
	if e := c.writeQuery(iamXMLNS, "DeleteRolePolicy", nil); e != nil {
		return e
	}
	s.keepPolicies(rs, c.now)
	delete(rs.policies, name)
	delete(rs.parsed, name)
	return nil
}

type listRolePoliciesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Sandbox) listRolePolicies(c *call) *apiError {
	var v validation
	marker, maxItems := s.iamPage(c, &v)
	rs, e := s.iamRole(c, &v)
	if e != nil {
		return e
	}
	names := make([]string, 0, len(rs.policies))
	for n := range rs.policies {
		names = append(names, n)
	}
	sort.Strings(names)
	start, end, next, e := s.iamCut(pageBinding("iam:ListRolePolicies", c.caller.account, rs.arn), marker, len(names), maxItems)
	if e != nil {
		return e
	}
	res := listRolePoliciesResult{PolicyNames: append([]string{}, names[start:end]...), IsTruncated: next != "", Marker: next}
	return c.writeQuery(iamXMLNS, "ListRolePolicies", res)
}
