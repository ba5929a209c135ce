package sandbox

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// IAM listing and managed policy reads: ListRoles, ListAttachedRolePolicies,
// GetPolicy and GetPolicyVersion.

var (
	iamPathPrefixRe    = modelRe(`\x{002F}[\x{0021}-\x{007F}]*`)
	iamPolicyPathRe    = modelRe(`((/[A-Za-z0-9\.,\+@=_-]+)*)/`)
	iamPolicyVersionRe = modelRe(`v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
)

// iamPage reads an IAM list call's Marker (an opaque token bound to the
// request, see iamCut) and MaxItems (1..1000, default 100), validating
// into v; the caller checks v.err().
func (s *Sandbox) iamPage(c *call, v *validation) (marker string, maxItems int) {
	marker, ok := formValue(c.form, "Marker")
	v.str(marker, ok, false, "marker", 1, 320, iamMarkerRe)
	raw, ok := formValue(c.form, "MaxItems")
	maxItems, _ = v.intRange(raw, ok, "maxItems", 1, 1000, 100)
	return marker, maxItems
}

// iamCut returns [start, end) of n items after marker and the next
// marker ("" on the last page).
func (s *Sandbox) iamCut(binding, marker string, n, maxItems int) (start, end int, next string, e *apiError) {
	start, end, next, ok := s.cut(binding, marker, n, maxItems)
	if !ok {
		return 0, 0, "", errorf(400, "ValidationError", "Invalid Marker.") // UNCONFIRMED wording
	}
	return start, end, next, nil
}

type listRolesResult struct {
	Roles       []iamRoleXML `xml:"Roles>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

// listRoles lists the caller's account's roles whose path starts with
// PathPrefix, ordered by path and name.
func (s *Sandbox) listRoles(c *call) *apiError {
	var v validation
	prefix, pok := formValue(c.form, "PathPrefix")
	v.str(prefix, pok, false, "pathPrefix", 1, 512, iamPathPrefixRe)
	marker, maxItems := s.iamPage(c, &v)
	if e := v.err(); e != nil {
		return e
	}
	acct := c.caller.account
	// UNCONFIRMED resource of the message: the account's role/ prefix.
	resource := fmt.Sprintf("arn:%s:iam::%s:role/", s.partition, acct)
	if d := c.authorize("iam:ListRoles", resource); !d.allowed {
		return errorf(403, "AccessDenied", "User: %s is not authorized to perform: iam:ListRoles on resource: %s %s", c.caller.arn, resource, d.reason("iam:ListRoles"))
	}
	var roles []*role
	for _, rs := range s.roles {
		if rs.Account == acct && strings.HasPrefix(rs.Path, prefix) {
			roles = append(roles, rs)
		}
	}
	sort.Slice(roles, func(i, j int) bool {
		a, b := roles[i], roles[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	start, end, next, e := s.iamCut(pageBinding("iam:ListRoles", acct, prefix), marker, len(roles), maxItems)
	if e != nil {
		return e
	}
	res := listRolesResult{Roles: []iamRoleXML{}, IsTruncated: next != "", Marker: next}
	for _, rs := range roles[start:end] {
		res.Roles = append(res.Roles, s.roleXML(rs))
	}
	return c.writeQuery(iamXMLNS, "ListRoles", res)
}

type attachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

type listAttachedResult struct {
	AttachedPolicies []attachedPolicy `xml:"AttachedPolicies>member"`
	IsTruncated      bool
	Marker           string `xml:",omitempty"`
}

func (s *Sandbox) listAttachedRolePolicies(c *call) *apiError {
	var v validation
	prefix, pok := formValue(c.form, "PathPrefix")
	v.str(prefix, pok, false, "pathPrefix", 1, 512, iamPolicyPathRe)
	marker, maxItems := s.iamPage(c, &v)
	rs, e := s.iamRole(c, &v)
	if e != nil {
		return e
	}
	var all []attachedPolicy
	for _, arn := range rs.ManagedPolicyArns {
		if mp := s.managed[arn]; mp != nil && strings.HasPrefix(mp.path, prefix) {
			all = append(all, attachedPolicy{mp.name, mp.arn})
		}
	}
	start, end, next, e := s.iamCut(pageBinding("iam:ListAttachedRolePolicies", c.caller.account, rs.arn, prefix), marker, len(all), maxItems)
	if e != nil {
		return e
	}
	return c.writeQuery(iamXMLNS, "ListAttachedRolePolicies", listAttachedResult{
		AttachedPolicies: append([]attachedPolicy{}, all[start:end]...), IsTruncated: next != "", Marker: next})
}

// managedPolicyOf validates PolicyArn, authorizes action on it and finds
// a managed policy the caller can see: AWS managed ones and its own
// account's.
func (s *Sandbox) managedPolicyOf(c *call, v *validation) (*managedPolicy, *apiError) {
	arn, ok := formValue(c.form, "PolicyArn")
	v.str(arn, ok, true, "policyArn", 20, 2048, nil)
	if e := v.err(); e != nil {
		return nil, e
	}
	action := "iam:" + c.action
	if d := c.authorize(action, arn); !d.allowed {
		return nil, errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s on resource: policy %s %s", c.caller.arn, action, arn, d.reason(action))
	}
	mp := s.managed[arn]
	if mp == nil || !attachableIn(arn, c.caller.account) {
		if !strings.HasPrefix(arn, "arn:") || strings.Count(arn, ":") < 5 {
			return nil, errorf(400, "InvalidInput", "ARN %s is not valid.", arn) // UNCONFIRMED wording
		}
		return nil, errorf(404, "NoSuchEntity", "Policy %s was not found.", arn) // UNCONFIRMED wording
	}
	return mp, nil
}

type policyXML struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    string
	UpdateDate                    string
}

func (s *Sandbox) getPolicy(c *call) *apiError {
	mp, e := s.managedPolicyOf(c, &validation{})
	if e != nil {
		return e
	}
	// Counts are of the caller's account, as IAM reports them.
	attached, bounded := 0, 0
	for _, rs := range s.roles {
		if rs.Account != c.caller.account {
			continue
		}
		for _, a := range rs.ManagedPolicyArns {
			if a == mp.arn {
				attached++
			}
		}
		if rs.PermissionsBoundary == mp.arn {
			bounded++
		}
	}
	created := mp.created.UTC().Format(time.RFC3339)
	return c.writeQuery(iamXMLNS, "GetPolicy", struct{ Policy policyXML }{policyXML{
		PolicyName: mp.name, PolicyId: mp.id, Arn: mp.arn, Path: mp.path, DefaultVersionId: "v1",
		AttachmentCount: attached, PermissionsBoundaryUsageCount: bounded, IsAttachable: true,
		Description: mp.description, CreateDate: created, UpdateDate: created,
	}})
}

func (s *Sandbox) getPolicyVersion(c *call) *apiError {
	var v validation
	version, ok := formValue(c.form, "VersionId")
	v.str(version, ok, true, "versionId", 0, 0, iamPolicyVersionRe)
	mp, e := s.managedPolicyOf(c, &v)
	if e != nil {
		return e
	}
	if version != "v1" {
		return errorf(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", mp.arn, version) // UNCONFIRMED wording
	}
	return c.writeQuery(iamXMLNS, "GetPolicyVersion", struct {
		PolicyVersion struct {
			Document         string
			VersionId        string
			IsDefaultVersion bool
			CreateDate       string
		}
	}{struct {
		Document         string
		VersionId        string
		IsDefaultVersion bool
		CreateDate       string
	}{uriEncode(mp.document, true), "v1", true, mp.created.UTC().Format(time.RFC3339)}})
}
