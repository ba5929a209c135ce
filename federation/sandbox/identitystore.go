package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Identity Store, awsJson1.1 with the target prefix AWSIdentityStore,
// signed for "identitystore".

const identityStoreTarget = "AWSIdentityStore"

var (
	resourceIDRe    = principalIDRe
	attributePathRe = modelRe(`(?:\p{L}+:\p{L}+:\p{L}+(?:\.\p{L}+){0,3}|\p{L}+(?:\.\p{L}+){0,2})`)
	isNextTokenRe   = modelRe(`[-a-zA-Z0-9+=/:_]*`)
)

func (s *Sandbox) identityStoreService() *service {
	ops := map[string]jsonHandler{
		"GetUserId":                     s.getUserID,
		"DescribeUser":                  s.describeUser,
		"ListGroupMembershipsForMember": s.listGroupMembershipsForMember,
	}
	return &service{
		name:  "identitystore",
		proto: jsonProtocol{},
		serve: func(c *call) *apiError { return c.dispatchJSON(identityStoreTarget, ops) },
	}
}

// notFound is Identity Store's ResourceNotFoundException.
func (c *call) notFound(resourceType, id, msg string) *apiError {
	e := errorf(400, "ResourceNotFoundException", "%s", msg)
	e.Fields = map[string]string{"ResourceType": resourceType, "ResourceId": id, "RequestId": c.reqID}
	return e
}

// identityStore authorizes action and finds the store the request names:
// it lives in the fixture's region, in the instance's owner account.
func (s *Sandbox) identityStore(c *call, storeID string) (*icInstance, *apiError) {
	in := s.ic.instance
	owner := s.ic.org.mgmt
	if in != nil {
		owner = in.owner
	}
	resource := fmt.Sprintf("arn:%s:identitystore::%s:identitystore/%s", s.partition, owner, storeID)
	action := "identitystore:" + c.action
	if e := c.accessDenied(action, resource); e != nil {
		return nil, e
	}
	if in == nil || storeID != in.storeID || c.auth.region != s.region {
		return nil, c.notFound("IDENTITY_STORE", storeID, "Identity store "+storeID+" not found.") // UNCONFIRMED wording
	}
	if c.caller.account != in.owner {
		// UNCONFIRMED: the stricter reading, as for sso-admin.
		return nil, errorf(400, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s", c.caller.arn, action, resource)
	}
	s.settle(c.now)
	return in, nil
}

func (s *Sandbox) getUserID(c *call) (any, *apiError) {
	var in struct {
		IdentityStoreId     *string
		AlternateIdentifier *struct {
			ExternalId *struct {
				Issuer *string
				Id     *string
			}
			UniqueAttribute *struct {
				AttributePath  *string
				AttributeValue json.RawMessage
			}
		}
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	storeID := vstr(&v, in.IdentityStoreId, true, "identityStoreId", 1, 36, identityStoreIDRe)
	var path, value string
	alt := in.AlternateIdentifier
	switch {
	case alt == nil:
		v.add(nil, "alternateIdentifier", "Member must not be null")
	case alt.ExternalId != nil && alt.UniqueAttribute != nil, alt.ExternalId == nil && alt.UniqueAttribute == nil:
		return nil, errorf(400, "ValidationException", "AlternateIdentifier must have exactly one member set.") // UNCONFIRMED wording
	case alt.ExternalId != nil:
		// The sandbox's users come from no external identity provider.
		return nil, errorf(400, "ValidationException", "ExternalId is not supported by this identity store.")
	default:
		u := alt.UniqueAttribute
		path = vstr(&v, u.AttributePath, true, "alternateIdentifier.uniqueAttribute.attributePath", 1, 255, attributePathRe)
		if len(u.AttributeValue) == 0 || bytes.Equal(u.AttributeValue, []byte("null")) {
			v.add(nil, "alternateIdentifier.uniqueAttribute.attributeValue", "Member must not be null")
		} else if err := json.Unmarshal(u.AttributeValue, &value); err != nil {
			return nil, errorf(400, "ValidationException", "AttributeValue for %s must be a string.", path) // UNCONFIRMED wording
		}
	}
	if e := v.jsonErr(); e != nil {
		return nil, e
	}
	if path != "userName" && path != "emails.value" {
		return nil, errorf(400, "ValidationException", "Invalid attribute path %s: GetUserId supports userName and emails.value.", path) // UNCONFIRMED wording
	}
	inst, e := s.identityStore(c, storeID)
	if e != nil {
		return nil, e
	}
	for _, u := range inst.users {
		// Exact match: the stricter reading (AWS may ignore case).
		if (path == "userName" && u.UserName == value) || (path == "emails.value" && u.Email == value) {
			return struct{ IdentityStoreId, UserId string }{inst.storeID, u.id}, nil
		}
	}
	return nil, c.notFound("USER", "", "USER not found.") // UNCONFIRMED wording
}

// isUserReq finds the user of a request's IdentityStoreId and user id.
func (s *Sandbox) isUser(c *call, storeID *string, userID *string, member string) (*icInstance, *idUser, *apiError) {
	var v validation
	sid := vstr(&v, storeID, true, "identityStoreId", 1, 36, identityStoreIDRe)
	uid := vstr(&v, userID, true, member, 1, 47, resourceIDRe)
	if e := v.jsonErr(); e != nil {
		return nil, nil, e
	}
	inst, e := s.identityStore(c, sid)
	if e != nil {
		return nil, nil, e
	}
	u := inst.usersByID[uid]
	if u == nil {
		return nil, nil, c.notFound("USER", uid, "USER not found.")
	}
	return inst, u, nil
}

func (s *Sandbox) describeUser(c *call) (any, *apiError) {
	var in struct {
		IdentityStoreId *string
		UserId          *string
		Extensions      []string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	if len(in.Extensions) > 0 {
		return nil, errorf(400, "ValidationException", "Extensions are not supported by this identity store.")
	}
	inst, u, e := s.isUser(c, in.IdentityStoreId, in.UserId, "userId")
	if e != nil {
		return nil, e
	}
	type email struct {
		Value   string
		Type    string
		Primary bool
	}
	return struct {
		IdentityStoreId string
		UserId          string
		UserName        string
		DisplayName     string
		Emails          []email
		UserStatus      string
		CreatedAt       float64
		UpdatedAt       float64
	}{inst.storeID, u.id, u.UserName, u.DisplayName, []email{{u.Email, "work", true}}, "ENABLED", epoch(inst.created), epoch(inst.created)}, nil
}

func (s *Sandbox) listGroupMembershipsForMember(c *call) (any, *apiError) {
	var in struct {
		IdentityStoreId *string
		MemberId        *struct{ UserId *string }
		MaxResults      *int
		NextToken       *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	vstr(&v, in.NextToken, false, "nextToken", 1, 65535, isNextTokenRe)
	if in.MemberId == nil {
		v.add(nil, "memberId", "Member must not be null")
	}
	if e := v.jsonErr(); e != nil {
		return nil, e
	}
	if in.MemberId.UserId == nil {
		return nil, errorf(400, "ValidationException", "MemberId must have exactly one member set.") // UNCONFIRMED wording
	}
	inst, u, e := s.isUser(c, in.IdentityStoreId, in.MemberId.UserId, "memberId.userId")
	if e != nil {
		return nil, e
	}
	start, end, next, e := s.page(pageBinding("identitystore:ListGroupMembershipsForMember", c.caller.account, c.auth.region, inst.storeID, u.id), in.NextToken, len(u.groups), maxResults)
	if e != nil {
		return nil, e
	}
	type membership struct {
		IdentityStoreId string
		MembershipId    string
		GroupId         string
		MemberId        struct{ UserId string }
	}
	out := []membership{}
	for _, g := range u.groups[start:end] {
		m := membership{IdentityStoreId: inst.storeID, MembershipId: inst.resourceID("membership:" + g.name + "/" + u.UserName), GroupId: g.id}
		m.MemberId.UserId = u.id
		out = append(out, m)
	}
	return struct {
		GroupMemberships []membership
		NextToken        string `json:",omitempty"`
	}{out, next}, nil
}
