package sandbox

// The read side of a permission set's managed policies, as in the
// sso-admin model: ListManagedPoliciesInPermissionSet and
// ListCustomerManagedPolicyReferencesInPermissionSet, both paged by
// MaxResults (1-100) and NextToken.

// permSetListRequest is the input of both list operations.
type permSetListRequest struct {
	InstanceArn      *string
	PermissionSetArn *string
	MaxResults       *int
	NextToken        *string
}

// permSetList decodes and validates a list request and finds its
// permission set; it returns the page size.
func (s *Sandbox) permSetList(c *call) (*permSet, *permSetListRequest, int, *apiError) {
	var in permSetListRequest
	if e := c.decodeJSON(&in); e != nil {
		return nil, nil, 0, e
	}
	var v validation
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	_, ps, e := s.permSetOp(c, &permSetRequest{in.InstanceArn, in.PermissionSetArn}, &v)
	if e != nil {
		return nil, nil, 0, e
	}
	return ps, &in, maxResults, nil
}

func (s *Sandbox) listManagedPolicies(c *call) (any, *apiError) {
	ps, in, maxResults, e := s.permSetList(c)
	if e != nil {
		return nil, e
	}
	start, end, next, e := s.page(pageBinding("sso:"+c.action, c.caller.account, c.auth.region, ps.arn), in.NextToken, len(ps.managed), maxResults)
	if e != nil {
		return nil, e
	}
	type attached struct{ Name, Arn string }
	out := []attached{}
	for _, arn := range ps.managed[start:end] {
		name := arn
		if m := s.managed[arn]; m != nil {
			name = m.name
		}
		out = append(out, attached{Name: name, Arn: arn})
	}
	return struct {
		AttachedManagedPolicies []attached
		NextToken               string `json:",omitempty"`
	}{out, next}, nil
}

func (s *Sandbox) listCustomerManagedPolicyReferences(c *call) (any, *apiError) {
	ps, in, maxResults, e := s.permSetList(c)
	if e != nil {
		return nil, e
	}
	start, end, next, e := s.page(pageBinding("sso:"+c.action, c.caller.account, c.auth.region, ps.arn), in.NextToken, len(ps.customer), maxResults)
	if e != nil {
		return nil, e
	}
	type reference struct{ Name, Path string }
	out := []reference{}
	for _, ref := range ps.customer[start:end] {
		path, name := splitPolicyRef(ref)
		out = append(out, reference{Name: name, Path: path})
	}
	return struct {
		CustomerManagedPolicyReferences []reference
		NextToken                       string `json:",omitempty"`
	}{out, next}, nil
}
