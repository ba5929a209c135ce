package sandbox

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// sso-admin (IAM Identity Center administration), awsJson1.1 with the
// target prefix SWBExternalService, signed for "sso".

const ssoAdminTarget = "SWBExternalService"

var (
	permissionSetARNRe = modelRe(`arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}`)
	targetIDRe         = modelRe(`\d{12}`)
	principalIDRe      = modelRe(`([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}`)
	uuidRe             = modelRe(`\b[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}\b`)
	ssoTokenRe         = modelRe(`[-a-zA-Z0-9+=/_]*`)
	permSetPolicyRe    = modelRe(`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+`)
)

func (s *Sandbox) ssoAdminService() *service {
	ops := map[string]jsonHandler{
		"ListInstances":                                      s.listInstances,
		"ListPermissionSets":                                 s.listPermissionSets,
		"DescribePermissionSet":                              s.describePermissionSet,
		"CreateAccountAssignment":                            s.createAccountAssignment,
		"DescribeAccountAssignmentCreationStatus":            s.describeAssignmentCreation,
		"DeleteAccountAssignment":                            s.deleteAccountAssignment,
		"DescribeAccountAssignmentDeletionStatus":            s.describeAssignmentDeletion,
		"ListAccountAssignments":                             s.listAccountAssignments,
		"ListAccountAssignmentCreationStatus":                s.listAssignmentCreation,
		"ListAccountAssignmentDeletionStatus":                s.listAssignmentDeletion,
		"PutInlinePolicyToPermissionSet":                     s.putInlinePolicy,
		"GetInlinePolicyForPermissionSet":                    s.getInlinePolicy,
		"ListManagedPoliciesInPermissionSet":                 s.listManagedPolicies,
		"ListCustomerManagedPolicyReferencesInPermissionSet": s.listCustomerManagedPolicyReferences,
		"DeleteInlinePolicyFromPermissionSet":                s.deleteInlinePolicy,
		"ProvisionPermissionSet":                             s.provisionPermissionSet,
		"DescribePermissionSetProvisioningStatus":            s.describeProvisioning,
		"ListAccountsForProvisionedPermissionSet":            s.listAccountsForProvisioned,
	}
	return &service{
		name:  "sso",
		proto: jsonProtocol{},
		serve: func(c *call) *apiError { return c.dispatchJSON(ssoAdminTarget, ops) },
	}
}

// JSON-service validation helpers: members are pointers, so that a
// missing member is told apart from an empty one.

func vstr(v *validation, p *string, required bool, member string, min, max int, re *lazyRe) string {
	if p == nil {
		v.str("", false, required, member, min, max, re)
		return ""
	}
	v.str(*p, true, required, member, min, max, re)
	return *p
}

func venum(v *validation, p *string, required bool, member string, allowed ...string) string {
	if p == nil {
		if required {
			v.add(nil, member, "Member must not be null")
		}
		return ""
	}
	for _, a := range allowed {
		if *p == a {
			return *p
		}
	}
	v.add(*p, member, "Member must satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
	return *p
}

func vint(v *validation, p *int, member string, min, max, def int) int {
	if p == nil {
		return def
	}
	n, _ := v.intRange(strconv.Itoa(*p), true, member, min, max, def)
	return n
}

// jsonErr is the collected violations as sso-admin and identitystore
// report them: ValidationException with the Query services' message.
func (v *validation) jsonErr() *apiError {
	e := v.err()
	if e != nil {
		e.Code = "ValidationException"
	}
	return e
}

// accessDenied authorizes action on resource for the caller.
func (c *call) accessDenied(action, resource string) *apiError {
	if d := c.authorize(action, resource); !d.allowed {
		return errorf(400, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s %s",
			c.caller.arn, action, resource, d.reason(action))
	}
	return nil
}

// page cuts [off, off+max) out of n items; next is "" on the last page.
// binding names the request the tokens belong to (pagetoken.go).
func (s *Sandbox) page(binding string, tok *string, n, maxResults int) (start, end int, next string, e *apiError) {
	start, end, next, ok := s.cut(binding, deref(tok), n, maxResults)
	if !ok {
		// UNCONFIRMED wording.
		return 0, 0, "", errorf(400, "ValidationException", "The NextToken is invalid or has expired.")
	}
	return start, end, next, nil
}

// ssoInstance authorizes action on resource (the instance ARN when
// empty) and finds the instance the request names. The instance lives in
// the fixture's region and answers only principals of its own account.
func (s *Sandbox) ssoInstance(c *call, arn, action, resource string) (*icInstance, *apiError) {
	if resource == "" {
		resource = arn
	}
	if e := c.accessDenied(action, resource); e != nil {
		return nil, e
	}
	in := s.ic.instance
	if in == nil || arn != in.arn || c.auth.region != s.region {
		return nil, errorf(400, "ResourceNotFoundException", "Instance %s doesn't exist.", arn) // UNCONFIRMED wording
	}
	if c.caller.account != in.owner {
		// UNCONFIRMED: AWS answers member accounts' calls on the
		// organization instance with an error; the sandbox denies.
		return nil, errorf(400, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s", c.caller.arn, action, resource)
	}
	s.settle(c.now)
	return in, nil
}

// permSet finds a permission set of the instance.
func (in *icInstance) permSet(arn string) (*permSet, *apiError) {
	if ps := in.byARN[arn]; ps != nil {
		return ps, nil
	}
	return nil, errorf(400, "ResourceNotFoundException", "Could not find PermissionSet with PermissionSetArn %s.", arn) // UNCONFIRMED wording
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

type instanceMetadata struct {
	InstanceArn     string
	IdentityStoreId string
	OwnerAccountId  string
	Status          string
	CreatedDate     float64
}

func (s *Sandbox) listInstances(c *call) (any, *apiError) {
	var in struct {
		MaxResults *int
		NextToken  *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	if e := v.jsonErr(); e != nil {
		return nil, e
	}
	if e := c.accessDenied("sso:ListInstances", "*"); e != nil {
		return nil, e
	}
	var list []instanceMetadata
	if inst := s.ic.instance; inst != nil && inst.owner == c.caller.account && c.auth.region == s.region {
		list = append(list, instanceMetadata{InstanceArn: inst.arn, IdentityStoreId: inst.storeID, OwnerAccountId: inst.owner,
			Status: "ACTIVE", CreatedDate: epoch(inst.created)})
	}
	start, end, next, e := s.page(pageBinding("sso:ListInstances", c.caller.account, c.auth.region), in.NextToken, len(list), maxResults)
	if e != nil {
		return nil, e
	}
	return struct {
		Instances []instanceMetadata
		NextToken string `json:",omitempty"`
	}{append([]instanceMetadata{}, list[start:end]...), next}, nil
}

func (s *Sandbox) listPermissionSets(c *call) (any, *apiError) {
	var in struct {
		InstanceArn *string
		NextToken   *string
		MaxResults  *int
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	arn := vstr(&v, in.InstanceArn, true, "instanceArn", 10, 1224, instanceARNRe)
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	if e := v.jsonErr(); e != nil {
		return nil, e
	}
	inst, e := s.ssoInstance(c, arn, "sso:ListPermissionSets", "")
	if e != nil {
		return nil, e
	}
	start, end, next, e := s.page(pageBinding("sso:ListPermissionSets", c.caller.account, c.auth.region, inst.arn), in.NextToken, len(inst.permSets), maxResults)
	if e != nil {
		return nil, e
	}
	arns := []string{}
	for _, ps := range inst.permSets[start:end] {
		arns = append(arns, ps.arn)
	}
	return struct {
		PermissionSets []string
		NextToken      string `json:",omitempty"`
	}{arns, next}, nil
}

// permSetRequest is the input of the operations on one permission set.
type permSetRequest struct {
	InstanceArn      *string
	PermissionSetArn *string
}

// permSetOp decodes a permission set request (into in, which embeds
// permSetRequest's members), validates it with the extra checks in v, and
// finds the permission set.
func (s *Sandbox) permSetOp(c *call, req *permSetRequest, v *validation) (*icInstance, *permSet, *apiError) {
	arn := vstr(v, req.InstanceArn, true, "instanceArn", 10, 1224, instanceARNRe)
	psARN := vstr(v, req.PermissionSetArn, true, "permissionSetArn", 10, 1224, permissionSetARNRe)
	if e := v.jsonErr(); e != nil {
		return nil, nil, e
	}
	inst, e := s.ssoInstance(c, arn, "sso:"+c.action, psARN)
	if e != nil {
		return nil, nil, e
	}
	ps, e := inst.permSet(psARN)
	if e != nil {
		return nil, nil, e
	}
	return inst, ps, nil
}

func (s *Sandbox) describePermissionSet(c *call) (any, *apiError) {
	var in permSetRequest
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	_, ps, e := s.permSetOp(c, &in, &validation{})
	if e != nil {
		return nil, e
	}
	type permissionSet struct {
		Name             string
		PermissionSetArn string
		Description      string `json:",omitempty"`
		CreatedDate      float64
		SessionDuration  string
	}
	return struct{ PermissionSet permissionSet }{permissionSet{
		Name: ps.name, PermissionSetArn: ps.arn, Description: ps.description,
		CreatedDate: epoch(ps.created), SessionDuration: ps.sessionDuration,
	}}, nil
}

func (s *Sandbox) putInlinePolicy(c *call) (any, *apiError) {
	var in struct {
		InstanceArn      *string
		PermissionSetArn *string
		InlinePolicy     *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	doc := vstr(&v, in.InlinePolicy, true, "inlinePolicy", 1, 32768, permSetPolicyRe)
	inst, ps, e := s.permSetOp(c, &permSetRequest{in.InstanceArn, in.PermissionSetArn}, &v)
	if e != nil {
		return nil, e
	}
	if op := inst.conflicting("", ps.arn); op != nil && op.kind == "provision" {
		return nil, errorf(400, "ConflictException", "Permission set %s is being provisioned (request %s); retry later.", ps.arn, op.requestID) // UNCONFIRMED
	}
	if _, err := parsePolicy(doc, false); err != nil {
		// UNCONFIRMED: AWS checks the document when it is put; code and
		// wording of its answer are not documented.
		return nil, errorf(400, "ValidationException", "The policy document is malformed: %s", err.Error())
	}
	if n := policySize(doc); n > maxRolePolicyBytes {
		// Stricter than the model's 32,768: the document must fit the
		// role's inline policy budget once provisioned.
		return nil, errorf(400, "ServiceQuotaExceededException", "The inline policy is %d characters (whitespace not counted); the limit is %d.", n, maxRolePolicyBytes)
	}
	ps.policy = doc
	return struct{}{}, nil
}

func (s *Sandbox) getInlinePolicy(c *call) (any, *apiError) {
	var in permSetRequest
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	_, ps, e := s.permSetOp(c, &in, &validation{})
	if e != nil {
		return nil, e
	}
	return struct {
		InlinePolicy string `json:",omitempty"`
	}{ps.policy}, nil
}

func (s *Sandbox) deleteInlinePolicy(c *call) (any, *apiError) {
	var in permSetRequest
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	inst, ps, e := s.permSetOp(c, &in, &validation{})
	if e != nil {
		return nil, e
	}
	if op := inst.conflicting("", ps.arn); op != nil && op.kind == "provision" {
		return nil, errorf(400, "ConflictException", "Permission set %s is being provisioned (request %s); retry later.", ps.arn, op.requestID) // UNCONFIRMED
	}
	ps.policy = ""
	return struct{}{}, nil
}

// assignmentStatus is AccountAssignmentOperationStatus.
type assignmentStatus struct {
	Status           string
	RequestId        string
	FailureReason    string `json:",omitempty"`
	TargetId         string
	TargetType       string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
	CreatedDate      float64
}

func opStatus(op *icOp) assignmentStatus {
	return assignmentStatus{
		Status: op.status, RequestId: op.requestID, FailureReason: op.failure,
		TargetId: op.key.account, TargetType: "AWS_ACCOUNT", PermissionSetArn: op.key.permSetARN,
		PrincipalType: op.key.principalType, PrincipalId: op.key.principalID, CreatedDate: epoch(op.created),
	}
}

// assignmentOp validates and starts a create or delete of an assignment.
// Nothing is recorded unless every check passes.
func (s *Sandbox) assignmentOp(c *call, kind string) (*icOp, *apiError) {
	var in struct {
		InstanceArn      *string
		TargetId         *string
		TargetType       *string
		PermissionSetArn *string
		PrincipalType    *string
		PrincipalId      *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	target := vstr(&v, in.TargetId, true, "targetId", 12, 12, targetIDRe)
	venum(&v, in.TargetType, true, "targetType", "AWS_ACCOUNT")
	ptype := venum(&v, in.PrincipalType, true, "principalType", "USER", "GROUP")
	pid := vstr(&v, in.PrincipalId, true, "principalId", 1, 47, principalIDRe)
	inst, ps, e := s.permSetOp(c, &permSetRequest{in.InstanceArn, in.PermissionSetArn}, &v)
	if e != nil {
		return nil, e
	}
	if !s.inOrganization(target) {
		// UNCONFIRMED code and wording for an account outside the organization.
		return nil, errorf(400, "ResourceNotFoundException", "Account %s is not part of the organization.", target)
	}
	if (ptype == "USER" && inst.usersByID[pid] == nil) || (ptype == "GROUP" && inst.groupsByID[pid] == nil) {
		return nil, errorf(400, "ResourceNotFoundException", "Principal %s of type %s does not exist in identity store %s.", pid, ptype, inst.storeID) // UNCONFIRMED wording
	}
	key := assignmentKey{target, ps.arn, ptype, pid}
	if inst.outstanding() >= maxOutstandingAssignments {
		return nil, errorf(400, "ThrottlingException", "Too many account assignment operations are in progress for this instance (limit %d); retry with backoff.", maxOutstandingAssignments)
	}
	if op := inst.conflicting(target, ps.arn); op != nil {
		return nil, errorf(400, "ConflictException", "An operation on permission set %s in account %s is already in progress (request %s); retry with backoff.", ps.arn, target, op.requestID) // UNCONFIRMED wording
	}
	if kind == "delete" && !inst.assignments[key] {
		// UNCONFIRMED: the stricter reading, an error up front rather
		// than a FAILED deletion.
		return nil, errorf(400, "ResourceNotFoundException", "The account assignment of %s %s to %s in account %s does not exist.", ptype, pid, ps.arn, target)
	}
	return s.startOp(&icOp{kind: kind, key: key}, c.now), nil
}

func (s *Sandbox) createAccountAssignment(c *call) (any, *apiError) {
	op, e := s.assignmentOp(c, "create")
	if e != nil {
		return nil, e
	}
	return struct{ AccountAssignmentCreationStatus assignmentStatus }{opStatus(op)}, nil
}

func (s *Sandbox) deleteAccountAssignment(c *call) (any, *apiError) {
	op, e := s.assignmentOp(c, "delete")
	if e != nil {
		return nil, e
	}
	return struct{ AccountAssignmentDeletionStatus assignmentStatus }{opStatus(op)}, nil
}

// describeOp finds an operation of kind by its request id; a first look
// at an operation without a delay lets it complete afterwards.
func (s *Sandbox) describeOp(c *call, instanceArn, requestID *string, idMember, kind string) (*icOp, *apiError) {
	var v validation
	arn := vstr(&v, instanceArn, true, "instanceArn", 10, 1224, instanceARNRe)
	id := vstr(&v, requestID, true, idMember, 36, 36, uuidRe)
	if e := v.jsonErr(); e != nil {
		return nil, e
	}
	inst, e := s.ssoInstance(c, arn, "sso:"+c.action, "")
	if e != nil {
		return nil, e
	}
	op := inst.ops[id]
	if op == nil || op.kind != kind {
		return nil, errorf(400, "ResourceNotFoundException", "Could not find the request with id %s.", id) // UNCONFIRMED wording
	}
	// Copy before marking: this answer still says IN_PROGRESS.
	cp := *op
	op.described = true
	return &cp, nil
}

func (s *Sandbox) describeAssignmentCreation(c *call) (any, *apiError) {
	var in struct {
		InstanceArn                        *string
		AccountAssignmentCreationRequestId *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	op, e := s.describeOp(c, in.InstanceArn, in.AccountAssignmentCreationRequestId, "accountAssignmentCreationRequestId", "create")
	if e != nil {
		return nil, e
	}
	return struct{ AccountAssignmentCreationStatus assignmentStatus }{opStatus(op)}, nil
}

func (s *Sandbox) describeAssignmentDeletion(c *call) (any, *apiError) {
	var in struct {
		InstanceArn                        *string
		AccountAssignmentDeletionRequestId *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	op, e := s.describeOp(c, in.InstanceArn, in.AccountAssignmentDeletionRequestId, "accountAssignmentDeletionRequestId", "delete")
	if e != nil {
		return nil, e
	}
	return struct{ AccountAssignmentDeletionStatus assignmentStatus }{opStatus(op)}, nil
}

// opMetadata is AccountAssignmentOperationStatusMetadata.
type opMetadata struct {
	Status      string
	RequestId   string
	CreatedDate float64
}

// listOps lists the instance's assignment operations of kind, oldest
// first, optionally only those of one status: what a caller that lost a
// request ID (a crash between the call and its record) recovers it from.
// Listing does not count as describing: an operation without a delay
// still settles on its own time.
func (s *Sandbox) listOps(c *call, kind string) ([]opMetadata, string, *apiError) {
	var in struct {
		InstanceArn *string
		MaxResults  *int
		NextToken   *string
		Filter      *struct{ Status *string }
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, "", e
	}
	var v validation
	arn := vstr(&v, in.InstanceArn, true, "instanceArn", 10, 1224, instanceARNRe)
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	status := ""
	if in.Filter != nil {
		status = venum(&v, in.Filter.Status, false, "filter.status", statusInProgress, statusFailed, statusSucceeded)
	}
	if e := v.jsonErr(); e != nil {
		return nil, "", e
	}
	inst, e := s.ssoInstance(c, arn, "sso:"+c.action, "")
	if e != nil {
		return nil, "", e
	}
	var ops []*icOp
	for _, op := range inst.ops {
		if op.kind == kind && (status == "" || op.status == status) {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if !ops[i].created.Equal(ops[j].created) {
			return ops[i].created.Before(ops[j].created)
		}
		return ops[i].requestID < ops[j].requestID
	})
	start, end, next, e := s.page(pageBinding("sso:"+c.action, c.caller.account, c.auth.region, inst.arn, status), in.NextToken, len(ops), maxResults)
	if e != nil {
		return nil, "", e
	}
	out := make([]opMetadata, 0, end-start)
	for _, op := range ops[start:end] {
		out = append(out, opMetadata{Status: op.status, RequestId: op.requestID, CreatedDate: epoch(op.created)})
	}
	return out, next, nil
}

func (s *Sandbox) listAssignmentCreation(c *call) (any, *apiError) {
	ops, next, e := s.listOps(c, "create")
	if e != nil {
		return nil, e
	}
	return struct {
		AccountAssignmentsCreationStatus []opMetadata
		NextToken                        string `json:",omitempty"`
	}{ops, next}, nil
}

func (s *Sandbox) listAssignmentDeletion(c *call) (any, *apiError) {
	ops, next, e := s.listOps(c, "delete")
	if e != nil {
		return nil, e
	}
	return struct {
		AccountAssignmentsDeletionStatus []opMetadata
		NextToken                        string `json:",omitempty"`
	}{ops, next}, nil
}

type accountAssignment struct {
	AccountId        string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

func (s *Sandbox) listAccountAssignments(c *call) (any, *apiError) {
	var in struct {
		InstanceArn      *string
		AccountId        *string
		PermissionSetArn *string
		MaxResults       *int
		NextToken        *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	account := vstr(&v, in.AccountId, true, "accountId", 12, 12, targetIDRe)
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	inst, ps, e := s.permSetOp(c, &permSetRequest{in.InstanceArn, in.PermissionSetArn}, &v)
	if e != nil {
		return nil, e
	}
	var all []accountAssignment
	// Users first, then groups, each in fixture order: a stable order
	// for the page tokens.
	for _, u := range inst.users {
		if inst.assignments[assignmentKey{account, ps.arn, "USER", u.id}] {
			all = append(all, accountAssignment{account, ps.arn, "USER", u.id})
		}
	}
	for _, g := range inst.groups {
		if inst.assignments[assignmentKey{account, ps.arn, "GROUP", g.id}] {
			all = append(all, accountAssignment{account, ps.arn, "GROUP", g.id})
		}
	}
	start, end, next, e := s.page(pageBinding("sso:ListAccountAssignments", c.caller.account, c.auth.region, inst.arn, account, ps.arn), in.NextToken, len(all), maxResults)
	if e != nil {
		return nil, e
	}
	return struct {
		AccountAssignments []accountAssignment
		NextToken          string `json:",omitempty"`
	}{append([]accountAssignment{}, all[start:end]...), next}, nil
}

type provisioningStatus struct {
	Status        string
	RequestId     string
	AccountId     string `json:",omitempty"`
	FailureReason string `json:",omitempty"`
	CreatedDate   float64
}

func provStatus(op *icOp) provisioningStatus {
	return provisioningStatus{Status: op.status, RequestId: op.requestID, AccountId: op.key.account,
		FailureReason: op.failure, CreatedDate: epoch(op.created)}
}

func (s *Sandbox) provisionPermissionSet(c *call) (any, *apiError) {
	var in struct {
		InstanceArn      *string
		PermissionSetArn *string
		TargetId         *string
		TargetType       *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	target := vstr(&v, in.TargetId, false, "targetId", 12, 12, targetIDRe)
	ttype := venum(&v, in.TargetType, true, "targetType", "AWS_ACCOUNT", "ALL_PROVISIONED_ACCOUNTS")
	inst, ps, e := s.permSetOp(c, &permSetRequest{in.InstanceArn, in.PermissionSetArn}, &v)
	if e != nil {
		return nil, e
	}
	switch {
	case ttype == "AWS_ACCOUNT" && in.TargetId == nil:
		return nil, errorf(400, "ValidationException", "TargetId is required when TargetType is AWS_ACCOUNT.") // UNCONFIRMED wording
	case ttype == "ALL_PROVISIONED_ACCOUNTS" && in.TargetId != nil:
		return nil, errorf(400, "ValidationException", "TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS.") // UNCONFIRMED wording
	case ttype == "AWS_ACCOUNT" && !s.inOrganization(target):
		return nil, errorf(400, "ResourceNotFoundException", "Account %s is not part of the organization.", target)
	}
	if op := inst.conflicting(target, ps.arn); op != nil {
		return nil, errorf(400, "ConflictException", "An operation on permission set %s is already in progress (request %s); retry with backoff.", ps.arn, op.requestID) // UNCONFIRMED wording
	}
	op := s.startOp(&icOp{kind: "provision", key: assignmentKey{account: target, permSetARN: ps.arn}}, c.now)
	return struct{ PermissionSetProvisioningStatus provisioningStatus }{provStatus(op)}, nil
}

func (s *Sandbox) describeProvisioning(c *call) (any, *apiError) {
	var in struct {
		InstanceArn                     *string
		ProvisionPermissionSetRequestId *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	op, e := s.describeOp(c, in.InstanceArn, in.ProvisionPermissionSetRequestId, "provisionPermissionSetRequestId", "provision")
	if e != nil {
		return nil, e
	}
	return struct{ PermissionSetProvisioningStatus provisioningStatus }{provStatus(op)}, nil
}
