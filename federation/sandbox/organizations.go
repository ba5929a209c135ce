package sandbox

import (
	"fmt"
)

// Organizations, awsJson1.1 with the target prefix
// AWSOrganizationsV20161128, signed for "organizations" in the
// partition's global region. The organization holds every fixture
// account; the first one is its management account.

const organizationsTarget = "AWSOrganizationsV20161128"

// orgGlobalRegion is the region Organizations requests are signed for.
var orgGlobalRegion = map[string]string{"aws": "us-east-1", "aws-cn": "cn-northwest-1", "aws-us-gov": "us-gov-west-1"}

func (s *Sandbox) organizationsService() *service {
	ops := map[string]jsonHandler{
		"ListAccounts":    s.listAccounts,
		"DescribeAccount": s.describeAccount,
	}
	return &service{
		name:         "organizations",
		proto:        jsonProtocol{},
		globalRegion: orgGlobalRegion[s.partition],
		serve:        func(c *call) *apiError { return c.dispatchJSON(organizationsTarget, ops) },
	}
}

// invalidInput is Organizations' InvalidInputException with its Reason.
// The messages are UNCONFIRMED, modelled on AWS's documented reasons.
func invalidInput(reason, msg string) *apiError {
	e := errorf(400, "InvalidInputException", "%s", msg)
	e.Fields = map[string]string{"Reason": reason}
	return e
}

// inOrganization reports whether account is one of the organization's.
func (s *Sandbox) inOrganization(account string) bool {
	_, ok := s.accounts[account]
	return ok
}

// orgCaller authorizes action on resource; only the management account
// may call Organizations' read operations (there is no delegated
// administrator in the sandbox).
func (s *Sandbox) orgCaller(c *call, action, resource string) *apiError {
	if d := c.authorize(action, resource); !d.allowed {
		return errorf(400, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s %s",
			c.caller.arn, action, resource, d.reason(action))
	}
	if c.caller.account != s.ic.org.mgmt {
		return errorf(400, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return nil
}

type orgAccount struct {
	Id              string
	Arn             string
	Email           string
	Name            string
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp float64
}

func (s *Sandbox) orgAccount(a Account) orgAccount {
	org := s.ic.org
	email := a.Email
	if email == "" {
		email = "aws+" + a.ID + "@example.com"
	}
	name := a.Name
	if name == "" {
		name = a.ID
	}
	method := "CREATED"
	if a.ID == org.mgmt {
		// The management account created the organization; AWS reports
		// it as INVITED. UNCONFIRMED.
		method = "INVITED"
	}
	return orgAccount{
		Id: a.ID, Arn: fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", s.partition, org.mgmt, org.id, a.ID),
		Email: email, Name: name, Status: "ACTIVE", State: "ACTIVE", JoinedMethod: method,
		JoinedTimestamp: epoch(s.started),
	}
}

// listAccounts pages through the accounts. Like AWS, a page may come back
// empty with a NextToken: the sandbox always answers the first page so
// when there are more than two accounts, so that callers keep paging.
func (s *Sandbox) listAccounts(c *call) (any, *apiError) {
	var in struct {
		NextToken  *string
		MaxResults *int
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	maxResults := 20
	if in.MaxResults != nil {
		switch n := *in.MaxResults; {
		case n < 1:
			return nil, invalidInput("MIN_VALUE_EXCEEDED", "You provided a value that is lower than the minimum allowed value for MaxResults.")
		case n > 20:
			return nil, invalidInput("MAX_VALUE_EXCEEDED", "You provided a value that exceeds the maximum allowed value for MaxResults.")
		default:
			maxResults = n
		}
	}
	if e := s.orgCaller(c, "organizations:ListAccounts", "*"); e != nil {
		return nil, e
	}
	accounts := s.ic.org.accounts
	type result struct {
		Accounts  []orgAccount
		NextToken string `json:",omitempty"`
	}
	binding := pageBinding("organizations:ListAccounts", c.caller.account)
	if in.NextToken == nil && len(accounts) > 2 {
		return result{Accounts: []orgAccount{}, NextToken: s.pageToken(binding, 0)}, nil
	}
	start := 0
	if in.NextToken != nil {
		off, ok := s.pageOffset(binding, *in.NextToken, len(accounts))
		if !ok {
			return nil, invalidInput("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken.")
		}
		start = off
	}
	end := min(start+maxResults, len(accounts))
	res := result{Accounts: []orgAccount{}}
	for _, a := range accounts[start:end] {
		res.Accounts = append(res.Accounts, s.orgAccount(a))
	}
	if end < len(accounts) {
		res.NextToken = s.pageToken(binding, int64(end))
	}
	return res, nil
}

func (s *Sandbox) describeAccount(c *call) (any, *apiError) {
	var in struct{ AccountId *string }
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	if in.AccountId == nil {
		return nil, invalidInput("INPUT_REQUIRED", "You must specify a value for AccountId.")
	}
	id := *in.AccountId
	if len(id) > 12 {
		return nil, invalidInput("MAX_LENGTH_EXCEEDED", "You provided a value that exceeds the maximum length for AccountId.")
	}
	if !accountIDRe.MatchString(id) {
		return nil, invalidInput("INVALID_PATTERN", "You provided a value that does not match the required pattern.")
	}
	arn := fmt.Sprintf("arn:%s:organizations::%s:account/%s/%s", s.partition, s.ic.org.mgmt, s.ic.org.id, id)
	if e := s.orgCaller(c, "organizations:DescribeAccount", arn); e != nil {
		return nil, e
	}
	a, ok := s.accounts[id]
	if !ok {
		return nil, errorf(400, "AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	return struct{ Account orgAccount }{s.orgAccount(a)}, nil
}
