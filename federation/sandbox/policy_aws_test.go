package sandbox

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// evaluate is the decision for a role session with identity policies and
// at most one session policy, under FullAWSAccess.
func evaluate(identity []*policy, session *policy, req evalRequest) decision {
	ps := policySet{fullAccess: true, identity: identity}
	if session != nil {
		ps.session, ps.hasSession = []*policy{session}, true
	}
	return ps.evaluate(req)
}

// orgDenies reports an explicit deny by one of the SCPs org.
func orgDenies(org []*policy, req evalRequest) (decision, bool) {
	for _, p := range org {
		if _, deny := p.match(req); deny {
			return decision{explicit: true, where: inSCP}, true
		}
	}
	return decision{}, false
}

// The documented rules the cases of TestPolicyAWSDocumented cite, from
// AWS's IAM User Guide (IAM) and Organizations User Guide (Orgs).
const (
	ruleVars        = "IAM, IAM policy elements: Variables and tags: ${key} is replaced by the request context's value, in Resource and in condition values"
	ruleVarsNoValue = "IAM, Variables and tags, Policy variables with no value: an entry whose variable has no value matches nothing"
	ruleVarsDefault = "IAM, Variables and tags, Specifying default values: ${key, 'default'} uses default when the key has no value"
	ruleVarsSpecial = "IAM, Variables and tags, Special characters: ${*}, ${?} and ${$} stand for the literal characters"
	ruleVarsVersion = "IAM, IAM JSON policy elements: Version: variables are replaced only in Version 2012-10-17; otherwise (or with no Version, i.e. 2008-10-17) they are literal text"
	ruleVarsCase    = "IAM, Variables and tags: condition key names (and so variable names) are case-insensitive"
	ruleResource    = "IAM, IAM JSON policy elements: Resource: wildcards in an ARN match within a segment and do not span the colons between segments"
	ruleArnOps      = "IAM, Condition operators, ARN condition operators: each of the six colon-delimited components of the ARN is checked separately; ArnEquals and ArnLike both take * and ?"
	ruleArnNotArn   = "IAM, Condition operators, ARN condition operators: a value that is not an ARN does not match"
	ruleForAny      = "IAM, Set operators for multivalued context keys: ForAnyValue returns false when the key is missing or its value set is empty, whatever the operator, negated ones included"
	ruleForAll      = "IAM, Set operators for multivalued context keys: ForAllValues returns true when the key is missing or its value set is empty"
	ruleForValues   = "IAM, Set operators for multivalued context keys: ForAnyValue needs one request value to match; ForAllValues needs every request value to match"
	ruleMissing     = "IAM, Condition element: a condition on a key missing from the request context is false, except for negated operators, which are true"
	ruleIfExists    = "IAM, Condition operators, ...IfExists: true when the key is missing"
	ruleNull        = "IAM, Condition operators, Null: true tests that the key is absent, false that it is present"
	ruleSCPAllow    = "Orgs, SCP evaluation: SCPs are allow lists; an action must be allowed by an SCP (FullAWSAccess or another), else it is implicitly denied"
	ruleSCPDeny     = "Orgs, SCP evaluation: a Deny statement in an SCP overrides any Allow"
	ruleSCPFull     = "Orgs, SCP evaluation: with FullAWSAccess attached, other SCPs' Allow statements add nothing and only their Deny statements restrict"
	ruleManaged     = "IAM, Managed policies and inline policies: a role's inline and attached managed policies are its identity-based policies, evaluated together"
	ruleAWSManaged  = "IAM, AWS managed policies for job functions: AdministratorAccess allows *, PowerUserAccess all but iam/organizations/account management, ReadOnlyAccess read actions"
	ruleBoundary    = "IAM, Permissions boundaries for IAM entities: the effective permissions are the intersection of the identity-based policies and the boundary"
	ruleBoundaryNo  = "IAM, Permissions boundaries for IAM entities: a boundary grants nothing by itself"
	ruleSession     = "IAM, Session policies: a session's permissions are the intersection of the role's identity-based policies and its session policies (inline and PolicyArns managed)"
	ruleDeny        = "IAM, Policy evaluation logic: an explicit deny in any policy overrides any allow"
	ruleImplicit    = "IAM, Policy evaluation logic: a request no applicable policy allows is implicitly denied"
)

// TestPolicyAWSDocumented checks the sandbox's decisions against AWS's
// documented evaluation logic, one documented rule per case.
func TestPolicyAWSDocumented(t *testing.T) {
	const (
		acct    = "111111111111"
		roleArn = "arn:aws:iam::111111111111:role/ReadOnlyAccess"
		sessArn = "arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/jit-t1-alice"
		list    = "s3:ListAllMyBuckets"
	)
	// ctx builds a request context: a role session of alice (roleCtx) or
	// the IAM user bob (userCtx), with extra keys ("" removes a key; a key
	// given twice becomes multivalued; "[]" makes it empty).
	build := func(base map[string][]string, kv ...string) map[string][]string {
		m := map[string][]string{}
		for k, v := range base {
			m[k] = v
		}
		seen := map[string]bool{}
		for i := 0; i < len(kv); i += 2 {
			k, v := kv[i], kv[i+1]
			switch {
			case v == "":
				delete(m, k)
			case v == "[]":
				m[k] = []string{}
			case seen[k]:
				m[k] = append(m[k], v)
			default:
				m[k] = []string{v}
			}
			seen[k] = true
		}
		return m
	}
	roleBase := map[string][]string{
		"aws:currenttime": {"2025-06-01T12:00:00Z"}, "aws:principalaccount": {acct},
		"aws:principalarn": {roleArn}, "aws:principaltype": {"AssumedRole"},
		"aws:userid": {"AROAEXAMPLE:jit-t1-alice"}, "aws:sourceidentity": {"alice"},
		"aws:principaltag/jit-ticket": {"t1"}, "aws:principaltag/jit-user": {"alice"},
		"aws:principaltag/team": {"blue"}, "aws:requestedregion": {"us-east-1"},
	}
	userBase := map[string][]string{
		"aws:currenttime": {"2025-06-01T12:00:00Z"}, "aws:principalaccount": {acct},
		"aws:principalarn": {"arn:aws:iam::111111111111:user/bob"}, "aws:principaltype": {"User"},
		"aws:userid": {"AIDAEXAMPLE"}, "aws:username": {"bob"}, "aws:principaltag/owner": {"bob"},
		"aws:requestedregion": {"us-east-1"},
	}
	roleCtx := func(kv ...string) map[string][]string { return build(roleBase, kv...) }
	userCtx := func(kv ...string) map[string][]string { return build(userBase, kv...) }

	allowRes := func(res string) string {
		return policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"` + res + `"}`)
	}
	allowIf := func(cond string) string {
		return policyDoc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}`)
	}
	v2008 := func(doc string) string { return `{"Version":"2008-10-17",` + doc[len(`{"Version":"2012-10-17",`):] }
	noVersion := func(doc string) string { return `{` + doc[len(`{"Version":"2012-10-17",`):] }
	allowAll := policyDoc(allowAllSt)
	denyIf := func(cond string) string { return policyDoc(fmt.Sprintf(denyAllIf, cond)) }
	managed := func(name string) string { return awsManagedPolicies[name].document }
	allowOnly := func(actions string) string {
		return policyDoc(`{"Effect":"Allow","Action":` + actions + `,"Resource":"*"}`)
	}
	denyOnly := func(actions string) string {
		return policyDoc(`{"Effect":"Deny","Action":` + actions + `,"Resource":"*"}`)
	}

	allowed := decision{allowed: true}
	implicitID := decision{where: inIdentityPolicy}
	implicitSCP := decision{where: inSCP}
	implicitBoundary := decision{where: inBoundary}
	implicitSess := decision{where: inSessionPolicy}
	explicitID := decision{explicit: true, where: inIdentityPolicy}
	explicitSCP := decision{explicit: true, where: inSCP}
	explicitBoundary := decision{explicit: true, where: inBoundary}
	explicitSess := decision{explicit: true, where: inSessionPolicy}

	type set struct {
		scps     []string // allow-list SCPs
		full     bool     // FullAWSAccess attached beside them
		identity []string
		boundary string
		session  []string
	}
	id := func(docs ...string) set { return set{full: true, identity: docs} }
	type tc struct {
		rule     string
		name     string
		set      set
		action   string
		resource string
		ctx      map[string][]string
		want     decision
	}
	const obj = "s3:GetObject"
	tests := []tc{
		// Policy variables in Resource.
		{ruleVars, "username in resource: own home", id(allowRes("arn:aws:s3:::home/${aws:username}/*")), obj, "arn:aws:s3:::home/bob/notes", userCtx(), allowed},
		{ruleVars, "username in resource: other home", id(allowRes("arn:aws:s3:::home/${aws:username}/*")), obj, "arn:aws:s3:::home/alice/notes", userCtx(), implicitID},
		{ruleVars, "username in resource: literal text does not match", id(allowRes("arn:aws:s3:::home/${aws:username}/*")), obj, "arn:aws:s3:::home/${aws:username}/notes", userCtx(), implicitID},
		{ruleVarsNoValue, "username in resource: role session has no username", id(allowRes("arn:aws:s3:::home/${aws:username}/*")), obj, "arn:aws:s3:::home/alice/notes", roleCtx(), implicitID},
		{ruleVarsNoValue, "username in resource: nor the empty segment", id(allowRes("arn:aws:s3:::home/${aws:username}/*")), obj, "arn:aws:s3:::home//notes", roleCtx(), implicitID},
		{ruleVarsDefault, "default used without username", id(allowRes("arn:aws:s3:::home/${aws:username, 'shared'}/*")), obj, "arn:aws:s3:::home/shared/notes", roleCtx(), allowed},
		{ruleVarsDefault, "default unused with username", id(allowRes("arn:aws:s3:::home/${aws:username, 'shared'}/*")), obj, "arn:aws:s3:::home/shared/notes", userCtx(), implicitID},
		{ruleVarsDefault, "value used over default", id(allowRes("arn:aws:s3:::home/${aws:username, 'shared'}/*")), obj, "arn:aws:s3:::home/bob/notes", userCtx(), allowed},
		{ruleVars, "principal tag in resource", id(allowRes("arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")), obj, "arn:aws:s3:::teams/blue/x", roleCtx(), allowed},
		{ruleVars, "principal tag in resource: other team", id(allowRes("arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")), obj, "arn:aws:s3:::teams/red/x", roleCtx(), implicitID},
		{ruleVarsNoValue, "principal tag in resource: untagged", id(allowRes("arn:aws:s3:::teams/${aws:PrincipalTag/team}/*")), obj, "arn:aws:s3:::teams/blue/x", roleCtx("aws:principaltag/team", ""), implicitID},
		{ruleVarsDefault, "principal tag default", id(allowRes("arn:aws:s3:::teams/${aws:PrincipalTag/team, 'none'}/*")), obj, "arn:aws:s3:::teams/none/x", roleCtx("aws:principaltag/team", ""), allowed},
		{ruleVarsCase, "variable name case-insensitive", id(allowRes("arn:aws:s3:::teams/${AWS:principaltag/TEAM}/*")), obj, "arn:aws:s3:::teams/blue/x", roleCtx(), allowed},
		{ruleVars, "source identity in resource", id(allowRes("arn:aws:s3:::audit/${aws:SourceIdentity}")), obj, "arn:aws:s3:::audit/alice", roleCtx(), allowed},
		{ruleVars, "source identity in resource: other user", id(allowRes("arn:aws:s3:::audit/${aws:SourceIdentity}")), obj, "arn:aws:s3:::audit/bob", roleCtx(), implicitID},
		{ruleVars, "userid in resource", id(allowRes("arn:aws:s3:::sessions/${aws:userid}/*")), obj, "arn:aws:s3:::sessions/AROAEXAMPLE:jit-t1-alice/log", roleCtx(), allowed},
		{ruleVars, "userid in resource: other session", id(allowRes("arn:aws:s3:::sessions/${aws:userid}/*")), obj, "arn:aws:s3:::sessions/AROAEXAMPLE:jit-t2-bob/log", roleCtx(), implicitID},
		{ruleVars, "variable in the account segment", id(allowRes("arn:aws:s3:us-east-1:${aws:PrincipalAccount}:x/*")), obj, "arn:aws:s3:us-east-1:111111111111:x/y", roleCtx(), allowed},
		{ruleVarsSpecial, "${*} is a literal star", id(allowRes("arn:aws:s3:::b/${*}")), obj, "arn:aws:s3:::b/*", roleCtx(), allowed},
		{ruleVarsSpecial, "${*} is not a wildcard", id(allowRes("arn:aws:s3:::b/${*}")), obj, "arn:aws:s3:::b/x", roleCtx(), implicitID},
		{ruleVarsSpecial, "${?} is a literal question mark", id(allowRes("arn:aws:s3:::b/${?}")), obj, "arn:aws:s3:::b/?", roleCtx(), allowed},
		{ruleVarsSpecial, "${?} is not a wildcard", id(allowRes("arn:aws:s3:::b/${?}")), obj, "arn:aws:s3:::b/x", roleCtx(), implicitID},
		{ruleVarsSpecial, "${$} is a literal dollar", id(allowRes("arn:aws:s3:::b/${$}{x}")), obj, "arn:aws:s3:::b/${x}", roleCtx(), allowed},
		{ruleVarsVersion, "2008-10-17: variable is literal", id(v2008(allowRes("arn:aws:s3:::home/${aws:username}/*"))), obj, "arn:aws:s3:::home/bob/notes", userCtx(), implicitID},
		{ruleVarsVersion, "2008-10-17: literal text matches", id(v2008(allowRes("arn:aws:s3:::home/${aws:username}/*"))), obj, "arn:aws:s3:::home/${aws:username}/notes", userCtx(), allowed},
		{ruleVarsVersion, "no Version: variable is literal", id(noVersion(allowRes("arn:aws:s3:::home/${aws:username}/*"))), obj, "arn:aws:s3:::home/bob/notes", userCtx(), implicitID},
		// Policy variables in condition values.
		{ruleVars, "StringEquals tag = ${aws:username}", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}`)), list, "*", userCtx(), allowed},
		{ruleVars, "StringEquals tag = ${aws:username}: mismatch", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}`)), list, "*", userCtx("aws:principaltag/owner", "carol"), implicitID},
		{ruleVars, "StringLike prefix ${aws:username}/*", id(allowIf(`{"StringLike":{"s3:prefix":"${aws:username}/*"}}`)), list, "*", userCtx("s3:prefix", "bob/docs"), allowed},
		{ruleVars, "StringLike prefix ${aws:username}/*: other", id(allowIf(`{"StringLike":{"s3:prefix":"${aws:username}/*"}}`)), list, "*", userCtx("s3:prefix", "alice/docs"), implicitID},
		{ruleVars, "source identity equals a tag", id(allowIf(`{"StringEquals":{"aws:SourceIdentity":"${aws:PrincipalTag/jit-user}"}}`)), list, "*", roleCtx(), allowed},
		{ruleVars, "source identity differs from the tag: deny", id(allowAll, denyIf(`{"StringNotEquals":{"aws:SourceIdentity":"${aws:PrincipalTag/jit-user}"}}`)), list, "*", roleCtx("aws:sourceidentity", "mallory"), explicitID},
		{ruleVars, "source identity equals the tag: no deny", id(allowAll, denyIf(`{"StringNotEquals":{"aws:SourceIdentity":"${aws:PrincipalTag/jit-user}"}}`)), list, "*", roleCtx(), allowed},
		{ruleVars, "userid variable in StringEquals", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/jit-user":"${aws:SourceIdentity}"}}`)), list, "*", roleCtx(), allowed},
		{ruleVars, "deny on own ticket via variable", id(allowAll, denyIf(`{"StringLike":{"aws:userid":"*:jit-${aws:PrincipalTag/jit-ticket}-*"}}`)), list, "*", roleCtx(), explicitID},
		{ruleVars, "deny on own ticket via variable: other ticket", id(allowAll, denyIf(`{"StringLike":{"aws:userid":"*:jit-${aws:PrincipalTag/jit-ticket}-*"}}`)), list, "*", roleCtx("aws:principaltag/jit-ticket", "t9"), allowed},
		{ruleVarsDefault, "default in condition value", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/dept, 'blue'}"}}`)), list, "*", roleCtx(), allowed},
		{ruleVarsDefault, "default not used when the key has a value", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/dept, 'blue'}"}}`)), list, "*", roleCtx("aws:principaltag/dept", "ops"), implicitID},
		{ruleVarsNoValue, "condition value without value matches nothing", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"${aws:PrincipalTag/dept}"}}`)), list, "*", roleCtx(), implicitID},
		{ruleVarsNoValue, "other values of the condition still match", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/team":["${aws:PrincipalTag/dept}","blue"]}}`)), list, "*", roleCtx(), allowed},
		{ruleVars, "ArnLike with ${aws:PrincipalAccount}", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`)), list, "*", roleCtx(), allowed},
		{ruleVars, "ArnLike with ${aws:PrincipalAccount}: other account", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:role/*"}}`)), list, "*", roleCtx("aws:principalarn", "arn:aws:iam::222222222222:role/ReadOnlyAccess"), implicitID},
		{ruleVarsSpecial, "StringLike ${*} is literal", id(allowIf(`{"StringLike":{"aws:PrincipalTag/team":"${*}"}}`)), list, "*", roleCtx(), implicitID},
		{ruleVarsSpecial, "StringLike ${*} matches a star", id(allowIf(`{"StringLike":{"aws:PrincipalTag/team":"${*}"}}`)), list, "*", roleCtx("aws:principaltag/team", "*"), allowed},
		{ruleVarsSpecial, "StringLike ${?} is literal", id(allowIf(`{"StringLike":{"aws:PrincipalTag/team":"blu${?}"}}`)), list, "*", roleCtx(), implicitID},
		{ruleVarsSpecial, "StringEquals ${$}", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"${$}blue"}}`)), list, "*", roleCtx("aws:principaltag/team", "$blue"), allowed},
		{ruleVarsVersion, "2008-10-17 condition variable is literal", id(v2008(allowIf(`{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}`))), list, "*", userCtx(), implicitID},
		{ruleVars, "StringEqualsIgnoreCase with variable", id(allowIf(`{"StringEqualsIgnoreCase":{"aws:PrincipalTag/owner":"${aws:username}"}}`)), list, "*", userCtx("aws:principaltag/owner", "BOB"), allowed},
		// ARN matching in Resource, segment by segment.
		{ruleResource, "star does not cross segments", id(allowRes("arn:aws:iam::*ReadOnlyAccess")), obj, roleArn, roleCtx(), implicitID},
		{ruleResource, "star in the account segment", id(allowRes("arn:aws:iam::*:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "stars in account and resource", id(allowRes("arn:aws:iam::*:role/*")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "star per segment, empty region", id(allowRes("arn:aws:*:*:*:*")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "too few segments never match", id(allowRes("arn:aws:iam:*")), obj, roleArn, roleCtx(), implicitID},
		{ruleResource, "resource segment keeps its colons", id(allowRes("arn:aws:s3:::bucket/*")), obj, "arn:aws:s3:::bucket/a:b:c", roleCtx(), allowed},
		{ruleResource, "bucket wildcard", id(allowRes("arn:aws:s3:::*")), obj, "arn:aws:s3:::bucket", roleCtx(), allowed},
		{ruleResource, "partition wildcard", id(allowRes("arn:*:iam::111111111111:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "account prefix", id(allowRes("arn:aws:iam::1111*:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "star at the end of account does not reach the resource", id(allowRes("arn:aws:iam::111111111111*")), obj, roleArn, roleCtx(), implicitID},
		{ruleResource, "? matches one character of a segment", id(allowRes("arn:aws:iam::?11111111111:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), allowed},
		{ruleResource, "? does not match the colon", id(allowRes("arn:aws:iam:?111111111111:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), implicitID},
		{ruleResource, "service segment must match", id(allowRes("arn:aws:s3::111111111111:role/ReadOnlyAccess")), obj, roleArn, roleCtx(), implicitID},
		{ruleResource, "star spans slashes within the resource", id(allowRes("arn:aws:iam::111111111111:role/*")), obj, "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/X", roleCtx(), allowed},
		{ruleResource, "NotResource across segments excludes nothing", id(policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:iam::*jit-*"}`)), obj, "arn:aws:iam::111111111111:role/jit-broker", roleCtx(), allowed},
		{ruleResource, "NotResource in segment excludes", id(policyDoc(`{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:iam::*:role/jit-*"}`)), obj, "arn:aws:iam::111111111111:role/jit-broker", roleCtx(), implicitID},
		{ruleResource, "Resource * matches anything", id(allowRes("*")), obj, roleArn, roleCtx(), allowed},
		// ARN condition operators.
		{ruleArnOps, "ArnLike within segments", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ReadOnly*"}}`)), list, "*", roleCtx(), allowed},
		{ruleArnOps, "ArnLike across segments does not match", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*ReadOnlyAccess"}}`)), list, "*", roleCtx(), implicitID},
		{ruleArnOps, "ArnEquals exact", id(allowIf(`{"ArnEquals":{"aws:PrincipalArn":"` + roleArn + `"}}`)), list, "*", roleCtx(), allowed},
		{ruleArnOps, "ArnEquals takes wildcards", id(allowIf(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*:role/ReadOnlyAccess"}}`)), list, "*", roleCtx(), allowed},
		{ruleArnOps, "ArnEquals across segments does not match", id(allowIf(`{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::*role/ReadOnlyAccess"}}`)), list, "*", roleCtx(), implicitID},
		{ruleArnOps, "ArnNotLike with a cross-segment pattern always holds", id(allowAll, denyIf(`{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*role/ReadOnlyAccess"}}`)), list, "*", roleCtx(), explicitID},
		{ruleArnOps, "ArnNotEquals on the same ARN", id(allowAll, denyIf(`{"ArnNotEquals":{"aws:PrincipalArn":"`+roleArn+`"}}`)), list, "*", roleCtx(), allowed},
		{ruleArnOps, "ArnLike is case-sensitive", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/readonlyaccess"}}`)), list, "*", roleCtx(), implicitID},
		{ruleArnOps, "ArnLike on a session ARN", id(allowIf(`{"ArnLike":{"aws:userarn":"arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/*"}}`)), list, "*", roleCtx("aws:userarn", sessArn), allowed},
		{ruleArnOps, "ArnLike ? within a segment", id(allowIf(`{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::11111111111?:role/ReadOnlyAccess"}}`)), list, "*", roleCtx(), allowed},
		{ruleArnNotArn, "ArnLike on a value that is not an ARN", id(allowIf(`{"ArnLike":{"aws:PrincipalTag/team":"*"}}`)), list, "*", roleCtx(), implicitID},
		{ruleMissing, "ArnLike on a missing key", id(allowIf(`{"ArnLike":{"aws:SourceArn":"arn:aws:*:*:*:*"}}`)), list, "*", roleCtx(), implicitID},
		{ruleMissing, "ArnNotLike on a missing key holds", id(allowAll, denyIf(`{"ArnNotLike":{"aws:SourceArn":"arn:aws:*:*:*:*"}}`)), list, "*", roleCtx(), explicitID},
		// ForAnyValue / ForAllValues and missing keys.
		{ruleForAny, "ForAnyValue:StringNotEquals, key missing", id(allowAll, denyIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx(), allowed},
		{ruleForAny, "ForAnyValue:StringNotEquals, key empty", id(allowAll, denyIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx("aws:tagkeys", "[]"), allowed},
		{ruleForAny, "ForAnyValue:StringNotEquals allows where AWS does not", id(policyDoc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}}`)), list, "*", roleCtx(), implicitID},
		{ruleForValues, "ForAnyValue:StringNotEquals, other value", id(allowAll, denyIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx("aws:tagkeys", "b"), explicitID},
		{ruleForValues, "ForAnyValue:StringNotEquals, only the value", id(allowAll, denyIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx("aws:tagkeys", "a"), allowed},
		{ruleForValues, "ForAnyValue:StringNotEquals, one other value among several", id(allowAll, denyIf(`{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx("aws:tagkeys", "a", "aws:tagkeys", "b"), explicitID},
		{ruleForAny, "ForAnyValue:StringNotLike, key missing", id(allowAll, denyIf(`{"ForAnyValue:StringNotLike":{"aws:TagKeys":"jit-*"}}`)), list, "*", roleCtx(), allowed},
		{ruleForAny, "ForAnyValue:ArnNotLike, key missing", id(allowAll, denyIf(`{"ForAnyValue:ArnNotLike":{"aws:SourceArn":"arn:aws:*:*:*:*"}}`)), list, "*", roleCtx(), allowed},
		{ruleForAny, "ForAnyValue:StringEquals, key missing", id(allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx(), implicitID},
		{ruleForValues, "ForAnyValue:StringEquals, one value matches", id(allowIf(`{"ForAnyValue:StringEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx("aws:tagkeys", "x", "aws:tagkeys", "a"), allowed},
		{ruleForAll, "ForAllValues:StringEquals, key missing", id(allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`)), list, "*", roleCtx(), allowed},
		{ruleForAll, "ForAllValues:StringEquals, key empty", id(allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`)), list, "*", roleCtx("aws:tagkeys", "[]"), allowed},
		{ruleForValues, "ForAllValues:StringEquals, one value outside", id(allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`)), list, "*", roleCtx("aws:tagkeys", "a", "aws:tagkeys", "z"), implicitID},
		{ruleForValues, "ForAllValues:StringEquals, all inside", id(allowIf(`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`)), list, "*", roleCtx("aws:tagkeys", "b", "aws:tagkeys", "a"), allowed},
		{ruleForAll, "ForAllValues:StringNotEquals, key missing", id(allowAll, denyIf(`{"ForAllValues:StringNotEquals":{"aws:TagKeys":"a"}}`)), list, "*", roleCtx(), explicitID},
		{ruleMissing, "StringNotEquals, key missing", id(allowAll, denyIf(`{"StringNotEquals":{"aws:PrincipalTag/dept":"ops"}}`)), list, "*", roleCtx(), explicitID},
		{ruleMissing, "StringEquals, key missing", id(allowIf(`{"StringEquals":{"aws:PrincipalTag/dept":"ops"}}`)), list, "*", roleCtx(), implicitID},
		{ruleMissing, "StringNotLike, key missing", id(allowAll, denyIf(`{"StringNotLike":{"aws:PrincipalTag/dept":"o*"}}`)), list, "*", roleCtx(), explicitID},
		{ruleIfExists, "StringEqualsIfExists, key missing", id(allowIf(`{"StringEqualsIfExists":{"aws:PrincipalTag/dept":"ops"}}`)), list, "*", roleCtx(), allowed},
		{ruleIfExists, "StringEqualsIfExists, other value", id(allowIf(`{"StringEqualsIfExists":{"aws:PrincipalTag/dept":"ops"}}`)), list, "*", roleCtx("aws:principaltag/dept", "hr"), implicitID},
		{ruleNull, "Null true, key missing", id(allowIf(`{"Null":{"aws:PrincipalTag/dept":"true"}}`)), list, "*", roleCtx(), allowed},
		{ruleNull, "Null true, key present", id(allowIf(`{"Null":{"aws:PrincipalTag/team":"true"}}`)), list, "*", roleCtx(), implicitID},
		{ruleNull, "Null false, key present", id(allowIf(`{"Null":{"aws:PrincipalTag/team":"false"}}`)), list, "*", roleCtx(), allowed},
		{ruleNull, "Null false, key missing", id(allowIf(`{"Null":{"aws:PrincipalTag/dept":"false"}}`)), list, "*", roleCtx(), implicitID},
		// SCPs as allow lists.
		{ruleSCPAllow, "SCP allowing only s3:* denies ec2", set{scps: []string{allowOnly(`"s3:*"`)}, identity: []string{allowAll}}, "ec2:DescribeInstances", "*", roleCtx(), implicitSCP},
		{ruleSCPAllow, "SCP allowing only s3:* allows s3", set{scps: []string{allowOnly(`"s3:*"`)}, identity: []string{allowAll}}, list, "*", roleCtx(), allowed},
		{ruleSCPAllow, "two SCPs at one level: either allows", set{scps: []string{allowOnly(`"s3:*"`), allowOnly(`"ec2:*"`)}, identity: []string{allowAll}}, "ec2:DescribeInstances", "*", roleCtx(), allowed},
		{ruleSCPAllow, "SCP allow does not grant", set{scps: []string{allowOnly(`"*"`)}, identity: []string{allowOnly(`"ec2:*"`)}}, list, "*", roleCtx(), implicitID},
		{ruleSCPAllow, "SCP allow with a region condition", set{scps: []string{policyDoc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}`)}, identity: []string{allowAll}}, "ec2:DescribeInstances", "*", roleCtx("aws:requestedregion", "eu-west-1"), implicitSCP},
		{ruleSCPAllow, "SCP of denies only allows nothing", set{scps: []string{denyOnly(`"iam:*"`)}, identity: []string{allowAll}}, list, "*", roleCtx(), implicitSCP},
		{ruleSCPAllow, "SCP implicit deny comes before the session policy", set{scps: []string{allowOnly(`"s3:*"`)}, identity: []string{allowAll}, session: []string{allowOnly(`"ec2:*"`)}}, "ec2:DescribeInstances", "*", roleCtx(), implicitSCP},
		{ruleDeny, "identity deny beats the SCP's implicit deny", set{scps: []string{allowOnly(`"s3:*"`)}, identity: []string{allowAll, denyOnly(`"ec2:*"`)}}, "ec2:DescribeInstances", "*", roleCtx(), explicitID},
		{ruleSCPDeny, "SCP deny beats SCP allow", set{scps: []string{allowOnly(`"*"`), denyOnly(`"s3:*"`)}, identity: []string{allowAll}}, list, "*", roleCtx(), explicitSCP},
		{ruleSCPFull, "FullAWSAccess beside an s3-only SCP allows ec2", set{scps: []string{allowOnly(`"s3:*"`)}, full: true, identity: []string{allowAll}}, "ec2:DescribeInstances", "*", roleCtx(), allowed},
		{ruleSCPFull, "FullAWSAccess beside a deny SCP", set{scps: []string{denyOnly(`"s3:*"`)}, full: true, identity: []string{allowAll}}, list, "*", roleCtx(), explicitSCP},
		{ruleSCPDeny, "SCP deny on a tag", set{scps: []string{denyIf(`{"StringEquals":{"aws:PrincipalTag/jit-ticket":"t1"}}`)}, full: true, identity: []string{allowAll}}, list, "*", roleCtx(), explicitSCP},
		// Managed policies.
		{ruleAWSManaged, "ReadOnlyAccess allows s3 listing", id(managed("ReadOnlyAccess")), list, "*", roleCtx(), allowed},
		{ruleAWSManaged, "ReadOnlyAccess allows ec2 describe", id(managed("ReadOnlyAccess")), "ec2:DescribeInstances", "*", roleCtx(), allowed},
		{ruleAWSManaged, "ReadOnlyAccess does not allow RunInstances", id(managed("ReadOnlyAccess")), "ec2:RunInstances", "*", roleCtx(), implicitID},
		{ruleAWSManaged, "ReadOnlyAccess does not allow PutRolePolicy", id(managed("ReadOnlyAccess")), "iam:PutRolePolicy", roleArn, roleCtx(), implicitID},
		{ruleAWSManaged, "PowerUserAccess allows RunInstances", id(managed("PowerUserAccess")), "ec2:RunInstances", "*", roleCtx(), allowed},
		{ruleAWSManaged, "PowerUserAccess does not allow PutRolePolicy", id(managed("PowerUserAccess")), "iam:PutRolePolicy", roleArn, roleCtx(), implicitID},
		{ruleAWSManaged, "PowerUserAccess allows iam:ListRoles", id(managed("PowerUserAccess")), "iam:ListRoles", "*", roleCtx(), allowed},
		{ruleAWSManaged, "PowerUserAccess does not allow organizations:ListAccounts", id(managed("PowerUserAccess")), "organizations:ListAccounts", "*", roleCtx(), implicitID},
		{ruleAWSManaged, "PowerUserAccess allows organizations:DescribeOrganization", id(managed("PowerUserAccess")), "organizations:DescribeOrganization", "*", roleCtx(), allowed},
		{ruleAWSManaged, "AdministratorAccess allows PutRolePolicy", id(managed("AdministratorAccess")), "iam:PutRolePolicy", roleArn, roleCtx(), allowed},
		{ruleManaged, "customer managed deny beside AdministratorAccess", id(managed("AdministratorAccess"), denyOnly(`"s3:*"`)), list, "*", roleCtx(), explicitID},
		{ruleManaged, "inline and managed policies add up", id(allowOnly(`"iam:GetRole"`), managed("ReadOnlyAccess")), "ec2:DescribeRegions", "*", roleCtx(), allowed},
		// Permissions boundaries.
		{ruleBoundary, "boundary allows what identity allows", set{full: true, identity: []string{managed("AdministratorAccess")}, boundary: managed("ReadOnlyAccess")}, list, "*", roleCtx(), allowed},
		{ruleBoundary, "boundary caps identity", set{full: true, identity: []string{managed("AdministratorAccess")}, boundary: managed("ReadOnlyAccess")}, "ec2:RunInstances", "*", roleCtx(), implicitBoundary},
		{ruleBoundaryNo, "boundary grants nothing", set{full: true, identity: []string{managed("ReadOnlyAccess")}, boundary: managed("AdministratorAccess")}, "ec2:RunInstances", "*", roleCtx(), implicitID},
		{ruleBoundaryNo, "boundary alone grants nothing", set{full: true, boundary: managed("AdministratorAccess")}, list, "*", roleCtx(), implicitID},
		{ruleDeny, "deny in the boundary", set{full: true, identity: []string{allowAll}, boundary: policyDoc(allowAllSt, `{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)}, list, "*", roleCtx(), explicitBoundary},
		// Session policies, inline and managed.
		{ruleSession, "managed session policy narrows", set{full: true, identity: []string{allowAll}, session: []string{managed("ReadOnlyAccess")}}, "ec2:RunInstances", "*", roleCtx(), implicitSess},
		{ruleSession, "managed session policy allows", set{full: true, identity: []string{allowAll}, session: []string{managed("ReadOnlyAccess")}}, list, "*", roleCtx(), allowed},
		{ruleSession, "inline and managed session policies add up", set{full: true, identity: []string{allowAll}, session: []string{allowOnly(`"ec2:RunInstances"`), managed("ReadOnlyAccess")}}, "ec2:RunInstances", "*", roleCtx(), allowed},
		{ruleSession, "session policy cannot widen", set{full: true, identity: []string{managed("ReadOnlyAccess")}, session: []string{managed("AdministratorAccess")}}, "ec2:RunInstances", "*", roleCtx(), implicitID},
		{ruleDeny, "deny in a managed session policy", set{full: true, identity: []string{allowAll}, session: []string{managed("AdministratorAccess"), denyOnly(`"s3:*"`)}}, list, "*", roleCtx(), explicitSess},
		{ruleSession, "identity, boundary and session all allow", set{full: true, identity: []string{allowAll}, boundary: managed("ReadOnlyAccess"), session: []string{allowOnly(`"s3:*"`)}}, list, "*", roleCtx(), allowed},
		{ruleImplicit, "no policies at all", set{full: true}, list, "*", roleCtx(), implicitID},
	}
	if len(tests) < 100 {
		t.Fatalf("%d cases; the table must keep at least 100", len(tests))
	}
	parse := func(t *testing.T, doc string) *policy {
		p, err := parsePolicy(doc, false)
		if err != nil {
			t.Fatalf("parse %s: %v", doc, err)
		}
		return p
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := policySet{fullAccess: tt.set.full}
			for _, d := range tt.set.scps {
				ps.scps = append(ps.scps, parse(t, d))
			}
			for _, d := range tt.set.identity {
				ps.identity = append(ps.identity, parse(t, d))
			}
			if tt.set.boundary != "" {
				ps.boundary = parse(t, tt.set.boundary)
			}
			for _, d := range tt.set.session {
				ps.session = append(ps.session, parse(t, d))
			}
			ps.hasSession = len(ps.session) > 0
			got := ps.evaluate(evalRequest{action: tt.action, resource: tt.resource, context: tt.ctx})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decision{})); diff != "" {
				t.Errorf("rule: %s\n(-want +got):\n%s", tt.rule, diff)
			}
		})
	}
}
