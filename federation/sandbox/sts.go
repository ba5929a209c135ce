package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

const (
	stsVersion = "2011-06-15"
	stsXMLNS   = "https://sts.amazonaws.com/doc/2011-06-15/"
	// chainedMaxDuration caps sessions minted by an assumed-role session.
	chainedMaxDuration = 3600
	// packedBudget is the modelled size of AWS's packed session policy and
	// tags. AWS packs (compresses) them into an undisclosed binary limit;
	// the sandbox counts the whitespace-free session policy at half its
	// length (compression), each session tag as len(key)+len(value)+2 and
	// each transitive tag key as len(key)+1, against 2048 units.
	// PackedPolicySize is that total as a percentage, rounded up.
	packedBudget = 2048
	// maxSessionPolicy is the plain-text limit of inline session policy
	// plus managed policy ARNs.
	maxSessionPolicy = 2048
)

var (
	roleArnRe         = modelRe(`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{007E}\x{0085}\x{00A0}-\x{D7FF}\x{E000}-\x{FFFD}\x{10000}-\x{10FFFF}]+`)
	roleSessionNameRe = modelRe(`[\w+=,.@-]*`)
	sessionPolicyRe   = modelRe(`[\x{0009}\x{000A}\x{000D}\x{0020}-\x{00FF}]+`)
	tagKeyRe          = modelRe(`[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	tagValueRe        = modelRe(`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
	sourceIdentityRe  = modelRe(`[\w+=,.@-]*`)
	externalIDRe      = modelRe(`[\w+=,.@:\/-]*`)
)

func (s *Sandbox) stsService() *service {
	actions := map[string]queryHandler{
		"AssumeRole":        s.assumeRole,
		"GetCallerIdentity": s.getCallerIdentity,
	}
	return &service{
		name:  "sts",
		proto: queryProtocol{xmlns: stsXMLNS},
		serve: func(c *call) *apiError { return c.dispatchQuery(stsVersion, actions) },
	}
}

type getCallerIdentityResult struct {
	Arn     string
	UserId  string
	Account string
}

// getCallerIdentity answers for any authenticated caller; AWS never
// denies it by policy, not even with an explicit Deny.
func (s *Sandbox) getCallerIdentity(c *call) *apiError {
	p := c.caller
	return c.writeQuery(stsXMLNS, "GetCallerIdentity", getCallerIdentityResult{Arn: p.arn, UserId: p.userID, Account: p.account})
}

type assumeRoleResult struct {
	SourceIdentity  string `xml:",omitempty"`
	AssumedRoleUser struct {
		Arn           string
		AssumedRoleId string
	}
	Credentials struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      string
	}
	PackedPolicySize *int `xml:",omitempty"`
}

// assumeRoleInput is AssumeRole's form, parsed and constraint-checked.
type assumeRoleInput struct {
	roleARN, sessionName string
	duration             int
	durationSet          bool
	policy               string
	policyArns           []string
	tags                 []tag
	transitive           []string
	sourceIdentity       string
}

func parseAssumeRole(f map[string][]string) (assumeRoleInput, *apiError) {
	var in assumeRoleInput
	var v validation
	var ok bool
	in.roleARN, ok = formValue(f, "RoleArn")
	v.str(in.roleARN, ok, true, "roleArn", 20, 2048, roleArnRe)
	in.sessionName, ok = formValue(f, "RoleSessionName")
	v.str(in.sessionName, ok, true, "roleSessionName", 2, 64, roleSessionNameRe)
	arns, _ := formList(f, "PolicyArns")
	for i, m := range arns {
		a, ok := m["arn"]
		v.str(a, ok, true, fmt.Sprintf("policyArns.%d.member.arn", i+1), 20, 2048, roleArnRe)
		in.policyArns = append(in.policyArns, a)
	}
	in.policy, ok = formValue(f, "Policy")
	v.str(in.policy, ok, false, "policy", 1, maxSessionPolicy, sessionPolicyRe)
	raw, ok := formValue(f, "DurationSeconds")
	in.duration, _ = v.intRange(raw, ok, "durationSeconds", 900, 43200, 3600)
	in.durationSet = ok
	tags, _ := formList(f, "Tags")
	if len(tags) > 50 {
		v.add(fmt.Sprintf("[%d tags]", len(tags)), "tags", "Member must have length less than or equal to 50")
	}
	for i, m := range tags {
		k, kok := m["Key"]
		val, vok := m["Value"]
		v.str(k, kok, true, fmt.Sprintf("tags.%d.member.key", i+1), 1, 128, tagKeyRe)
		v.str(val, vok, true, fmt.Sprintf("tags.%d.member.value", i+1), 0, 256, tagValueRe)
		in.tags = append(in.tags, tag{key: k, value: val})
	}
	keys, _ := formList(f, "TransitiveTagKeys")
	if len(keys) > 50 {
		v.add(fmt.Sprintf("[%d keys]", len(keys)), "transitiveTagKeys", "Member must have length less than or equal to 50")
	}
	for i, m := range keys {
		v.str(m[""], true, true, fmt.Sprintf("transitiveTagKeys.%d.member", i+1), 1, 128, tagKeyRe)
		in.transitive = append(in.transitive, m[""])
	}
	ext, ok := formValue(f, "ExternalId")
	v.str(ext, ok, false, "externalId", 2, 1224, externalIDRe)
	in.sourceIdentity, ok = formValue(f, "SourceIdentity")
	v.str(in.sourceIdentity, ok, false, "sourceIdentity", 2, 64, sourceIdentityRe)
	if e := v.err(); e != nil {
		return in, e
	}
	if n := len(in.policy) + len(strings.Join(in.policyArns, "")); n > maxSessionPolicy {
		return in, errorf(400, "ValidationError", "1 validation error detected: Value at 'policy' failed to satisfy constraint: "+
			"the session policy and policy ARNs together must have length less than or equal to %d", maxSessionPolicy)
	}
	seen := map[string]bool{}
	for _, t := range in.tags {
		lk := strings.ToLower(t.key)
		if strings.HasPrefix(lk, "aws:") {
			// UNCONFIRMED wording; the rule itself is documented.
			return in, errorf(400, "ValidationError", "Tag keys cannot start with 'aws:'. This prefix is reserved for AWS use.")
		}
		if seen[lk] {
			return in, errorf(400, "ValidationError", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
	}
	for _, k := range in.transitive {
		if !seen[strings.ToLower(k)] {
			return in, errorf(400, "ValidationError", "The specified transitive tag key %s must be included in the requested tags.", k)
		}
	}
	// A SourceIdentity starting with "aws:" is already refused by the
	// model pattern, which has no ':'.
	return in, nil
}

// assumeRole mints a session for a role, after every check AWS makes.
// Nothing is stored unless all of them pass.
func (s *Sandbox) assumeRole(c *call) *apiError {
	in, e := parseAssumeRole(c.form)
	if e != nil {
		return e
	}
	var sp []*policy
	if in.policy != "" {
		p, err := parsePolicy(in.policy, false)
		if err != nil {
			return errorf(400, "MalformedPolicyDocument", "%s", err.Error())
		}
		sp = append(sp, p)
	}
	for _, arn := range in.policyArns {
		// Managed session policies: AWS managed ones, or customer managed
		// ones of the role's account (checked below).
		mp := s.managed[arn]
		if mp == nil {
			return errorf(400, "MalformedPolicyDocument", "Policy %s does not exist or is not attachable.", arn)
		}
		sp = append(sp, mp.parsed)
	}
	caller := c.caller
	tags, transitive := in.tags, in.transitive
	sourceIdentity := in.sourceIdentity
	chained := caller.session != nil
	if chained {
		// Transitive tags and the source identity persist through chaining.
		prev := caller.session
		for _, k := range prev.transitive {
			for _, t := range in.tags {
				if strings.EqualFold(t.key, k) {
					return errorf(400, "ValidationError", "Tag key %s is a transitive tag of the calling session and cannot be overridden.", t.key)
				}
			}
			for _, t := range prev.tags {
				if strings.EqualFold(t.key, k) {
					tags = append(tags, t)
					transitive = append(transitive, t.key)
				}
			}
		}
		if prev.sourceIdentity != "" {
			if sourceIdentity != "" && sourceIdentity != prev.sourceIdentity {
				// UNCONFIRMED code and wording; AWS documents that a source
				// identity cannot be changed once set.
				return errorf(400, "ValidationError", "Source identity cannot be changed once it is set: the calling session has source identity %s.", prev.sourceIdentity)
			}
			sourceIdentity = prev.sourceIdentity
		}
	}
	rs, invalid := s.roleByARN(in.roleARN)
	if invalid {
		return errorf(400, "ValidationError", "%s is not a valid role ARN", in.roleARN)
	}
	denied := func(action string) *apiError {
		return errorf(403, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", caller.arn, action, in.roleARN)
	}
	if rs == nil || !s.trusts(c, rs, "sts:AssumeRole") {
		return denied("sts:AssumeRole")
	}
	for _, arn := range in.policyArns {
		if !attachableIn(arn, rs.Account) {
			return errorf(400, "MalformedPolicyDocument", "Policy %s does not exist or is not attachable.", arn)
		}
	}
	// Passing tags needs sts:TagSession, and setting a source identity
	// sts:SetSourceIdentity, in the trust policy and for the caller. Tags
	// and a source identity inherited through a chain are passed too:
	// AWS documents this for the source identity; for transitive tags it
	// is UNCONFIRMED, and the sandbox takes the stricter reading.
	if len(tags) > 0 && !s.trusts(c, rs, "sts:TagSession") {
		return denied("sts:TagSession")
	}
	if sourceIdentity != "" && !s.trusts(c, rs, "sts:SetSourceIdentity") {
		return denied("sts:SetSourceIdentity")
	}
	maxDur := rs.MaxSessionDuration
	if in.duration > maxDur {
		return errorf(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if chained && in.duration > chainedMaxDuration {
		return errorf(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	var packed *int
	if in.policy != "" || len(tags) > 0 {
		units := policySize(in.policy) / 2
		for _, t := range tags {
			units += len(t.key) + len(t.value) + 2
		}
		for _, k := range transitive {
			units += len(k) + 1
		}
		pct := int(math.Ceil(float64(units) * 100 / packedBudget))
		if pct > 100 {
			return errorf(400, "PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use smaller policy.", pct)
		}
		packed = &pct
	}

	issued := c.now.Truncate(time.Second)
	se := &session{
		accessKeyID:      "ASIA" + randomKeyID(16),
		secret:           randomB64(30),
		token:            "IQoJb3JpZ2luX2VjE" + randomB64(240),
		account:          rs.Account,
		roleKey:          roleKey(rs.Account, rs.Name),
		roleARN:          rs.arn,
		arn:              fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.partition, rs.Account, rs.Name, in.sessionName),
		userID:           rs.id + ":" + in.sessionName,
		sessionName:      in.sessionName,
		tags:             tags,
		transitive:       transitive,
		sourceIdentity:   sourceIdentity,
		policyText:       in.policy,
		policyArns:       in.policyArns,
		policies:         sp,
		hasSessionPolicy: len(sp) > 0,
		issued:           issued,
		expires:          issued.Add(time.Duration(in.duration) * time.Second),
	}
	var res assumeRoleResult
	res.SourceIdentity = sourceIdentity
	res.AssumedRoleUser.Arn, res.AssumedRoleUser.AssumedRoleId = se.arn, se.userID
	res.Credentials.AccessKeyId, res.Credentials.SecretAccessKey = se.accessKeyID, se.secret
	res.Credentials.SessionToken = se.token
	res.Credentials.Expiration = se.expires.UTC().Format(time.RFC3339)
	res.PackedPolicySize = packed
	if e := c.writeQuery(stsXMLNS, "AssumeRole", res); e != nil {
		return e
	}
	s.sessions[se.accessKeyID] = se
	c.minted = se
	return nil
}

// roleByARN finds the role an ARN names; invalid reports an ARN that is
// not a role ARN of this partition at all.
func (s *Sandbox) roleByARN(arn string) (rs *role, invalid bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != s.partition || parts[2] != "iam" || parts[3] != "" ||
		!accountIDRe.MatchString(parts[4]) || !strings.HasPrefix(parts[5], "role/") {
		return nil, true
	}
	res := parts[5][len("role"):]
	i := strings.LastIndex(res, "/")
	path, name := res[:i+1], res[i+1:]
	rs = s.roles[roleKey(parts[4], name)]
	// Names match exactly here (IAM lookups ignore case, the ARN check of
	// STS is assumed not to: the stricter reading).
	if rs == nil || rs.Name != name || rs.Path != path {
		return nil, false
	}
	return rs, false
}

// trusts applies the role's trust policy and the caller's own policies to
// action (sts:AssumeRole, sts:TagSession or sts:SetSourceIdentity) on the
// role. A trust entry naming the caller (its user or session ARN, or its
// role) lets it in unless its policies explicitly deny the action; an
// entry naming its account ("*", account id, root ARN, or an empty trust
// list) also requires its identity policies (for a session: the role's
// policies intersected with its session policy) to allow it, as in AWS.
// A role's own sessions are let in only by an entry naming the role: an
// account entry does not make a role trust itself (AWS since 2022).
func (s *Sandbox) trusts(c *call, rs *role, action string) bool {
	if rs.samlProvider != "" || !slices.Contains(rs.TrustActions, action) {
		return false // only SAML federation (the access portal) gets into Identity Center roles
	}
	p := c.caller
	self := p.session != nil && p.session.roleKey == roleKey(rs.Account, rs.Name)
	named, account := false, len(rs.TrustedPrincipals) == 0 && !self
	for _, t := range rs.TrustedPrincipals {
		switch {
		case t == p.arn, p.session != nil && t == p.session.roleARN:
			named = true
		case self:
			// An account entry does not cover the role's own sessions.
		case t == "*", t == p.account, t == fmt.Sprintf("arn:%s:iam::%s:root", s.partition, p.account):
			account = true
		}
	}
	if !named && !account {
		return false
	}
	d := c.authorize(action, rs.arn)
	if named {
		return d.allowed || !d.explicit
	}
	return d.allowed
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func randomKeyID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
