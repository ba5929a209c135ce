package sandbox

import "sort"

// Provisioning statuses of ListAccountsForProvisionedPermissionSet.
const (
	provLatest    = "LATEST_PERMISSION_SET_PROVISIONED"
	provNotLatest = "LATEST_PERMISSION_SET_NOT_PROVISIONED"
)

// listAccountsForProvisioned answers ListAccountsForProvisionedPermissionSet:
// the accounts where the permission set is provisioned, sorted, paged with
// request-bound tokens, optionally only those whose role holds (or does not
// hold) the permission set's current inline policy. The sandbox compares
// the inline policy only: managed policies and boundaries are provisioned
// with it and not changed apart.
func (s *Sandbox) listAccountsForProvisioned(c *call) (any, *apiError) {
	var in struct {
		permSetRequest
		ProvisioningStatus *string
		MaxResults         *int
		NextToken          *string
	}
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	var v validation
	status := venum(&v, in.ProvisioningStatus, false, "provisioningStatus", provLatest, provNotLatest)
	maxResults := vint(&v, in.MaxResults, "maxResults", 1, 100, 100)
	vstr(&v, in.NextToken, false, "nextToken", 0, 2048, ssoTokenRe)
	inst, ps, e := s.permSetOp(c, &in.permSetRequest, &v)
	if e != nil {
		return nil, e
	}
	accounts := []string{}
	for acct, r := range ps.roles {
		latest := r.policies[ssoInlinePolicyName] == ps.policy
		if status == "" || (status == provLatest) == latest {
			accounts = append(accounts, acct)
		}
	}
	sort.Strings(accounts)
	start, end, next, e := s.page(pageBinding("sso:"+c.action, c.caller.account, c.auth.region, inst.arn, ps.arn, status), in.NextToken, len(accounts), maxResults)
	if e != nil {
		return nil, e
	}
	return struct {
		AccountIds []string
		NextToken  string `json:",omitempty"`
	}{accounts[start:end], next}, nil
}
