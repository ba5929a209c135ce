package sandbox

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Fuzz tests of the IAM policy parser and evaluator. `make fuzz` runs
// each for a few seconds; crashers found are kept in testdata/fuzz/<Name>/.

// policySeeds are real documents: the demo fixture's role, permission set
// and org policies, the documents JIT writes (session policy, deny
// entries), the examples of AWS's IAM user guide that the sandbox
// evaluates, and a few malformed ones.
func policySeeds() []string {
	seeds := []string{
		// JIT's session policy (federation/minter.go).
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"JitTicketEnd","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}]}`,
		// JIT's role deny entries (federation/revoker.go) and Identity Center deny.
		`{"Version":"2012-10-17","Statement":[{"Sid":"JitDeny2030010100","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":["t1","t2"]}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"JitIssuedBefore2030010100","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T00:00:01Z"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"JitPortalDeny2030010100T20300101000000A111111111111","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:userId":"9067d2b4-1234-5678-9abc-def012345678"}}}]}`,
		// IAM console's "Revoke active sessions".
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2014-05-07T23:47:00Z"}}}]}`,
		// IAM user guide examples.
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllOutsideRequestedRegions","Effect":"Deny","NotAction":["cloudfront:*","iam:*","route53:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]},"ForAnyValue:StringLike":{"aws:PrincipalTag/team":"blue*"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::examplebucket","arn:aws:s3:::examplebucket/*"],"Condition":{"Null":{"aws:MultiFactorAuthAge":true},"NumericGreaterThanIfExists":{"aws:MultiFactorAuthAge":3600}}}]}`,
		`{"Version":"2008-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":"iam:*RolePolicy","Resource":"arn:aws:iam::111111111111:role/Read?nly*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/jit-*"},"StringEqualsIgnoreCase":{"aws:userid":"AROAX:JIT-T1-ALICE"},"DateGreaterThan":{"aws:CurrentTime":"1700000000"}}}]}`,
		// Malformed.
		`{"Statement":[]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","NotAction":"s3:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:x":"true"}}}]}`,
		`{"Version":2012,"Statement":{"Effect":["Allow"],"Action":{},"Resource":null}}`,
		`{} {}`,
		``,
	}
	f := DemoFixture()
	for _, r := range f.Roles {
		for _, doc := range r.Policies {
			seeds = append(seeds, doc)
		}
	}
	seeds = append(seeds, f.OrgDenyPolicies...)
	for _, ps := range f.IdentityCenter.PermissionSets {
		if ps.InlinePolicy != "" {
			seeds = append(seeds, ps.InlinePolicy)
		}
	}
	return seeds
}

// FuzzParsePolicy: parsing never panics, and a document that parses
// re-parses to the same policy after being written out again.
func FuzzParsePolicy(f *testing.F) {
	for _, doc := range policySeeds() {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		parsePolicy(doc, true)
		p, err := parsePolicy(doc, false)
		if err != nil {
			if p != nil {
				t.Fatalf("parsePolicy returned a policy with error %v", err)
			}
			return
		}
		if len(p.statements) == 0 {
			t.Fatalf("parsed policy has no statements: %q", doc)
		}
		out, ok := marshalPolicy(p)
		if !ok {
			return // two condition keys that differ only in case: no JSON form
		}
		q, err := parsePolicy(out, false)
		if err != nil {
			t.Fatalf("re-parse of %s (from %q): %v", out, doc, err)
		}
		if diff := cmp.Diff(normalized(p), normalized(q), cmp.AllowUnexported(policy{}, statement{}, condition{})); diff != "" {
			t.Fatalf("re-parse of %s (from %q) differs (-first +second):\n%s", out, doc, diff)
		}
	})
}

// marshalPolicy writes p as a policy document. ok is false when p cannot
// be written as JSON: two conditions of one statement with the same
// operator and a key that differs only in case (JSON object keys of one
// operator must differ, and the parser folds their case).
func marshalPolicy(p *policy) (string, bool) {
	type stmt map[string]any
	var sts []stmt
	for _, st := range p.statements {
		s := stmt{"Effect": "Allow"}
		if st.deny {
			s["Effect"] = "Deny"
		}
		if st.sid != "" {
			s["Sid"] = st.sid
		}
		if st.notAction {
			s["NotAction"] = st.actions
		} else {
			s["Action"] = st.actions
		}
		if st.notResource {
			s["NotResource"] = st.resources
		} else {
			s["Resource"] = st.resources
		}
		if len(st.conditions) > 0 {
			block := map[string]map[string][]string{}
			for _, c := range st.conditions {
				op := c.op
				if c.ifExists {
					op += "IfExists"
				}
				if c.set != "" {
					op = c.set + ":" + op
				}
				if block[op] == nil {
					block[op] = map[string][]string{}
				}
				if _, dup := block[op][c.key]; dup {
					return "", false
				}
				block[op][c.key] = c.values
			}
			s["Condition"] = block
		}
		sts = append(sts, s)
	}
	version := "2008-10-17" // ${...} is literal text there, as in a policy without Version
	if len(p.statements) > 0 && p.statements[0].vars {
		version = "2012-10-17"
	}
	b, err := json.Marshal(map[string]any{"Version": version, "Statement": sts})
	if err != nil {
		panic(err)
	}
	return string(b), true
}

// normalized sorts each statement's conditions: they are ANDed, and the
// parser's order of keys within one operator follows Go's map order.
func normalized(p *policy) *policy {
	out := &policy{}
	for _, st := range p.statements {
		st.conditions = slices.Clone(st.conditions)
		slices.SortFunc(st.conditions, func(a, b condition) int {
			if c := strings.Compare(a.set+"|"+a.op+"|"+a.key, b.set+"|"+b.op+"|"+b.key); c != 0 {
				return c
			}
			return boolCmp(a.ifExists, b.ifExists)
		})
		out.statements = append(out.statements, st)
	}
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

var allowAllPolicy = mustParsePolicy(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)

func mustParsePolicy(doc string) *policy {
	p, err := parsePolicy(doc, false)
	if err != nil {
		panic(err)
	}
	return p
}

// FuzzEvaluatePolicy evaluates a fuzzed policy against fuzzed requests.
// Evaluation never panics, and an explicit Deny that matches wins
// wherever the policy sits (identity, session, organization) and whatever
// else allows. The request context is built from the policy's own
// condition keys (present or not as bits of keys says, with the policy's
// first value or with value) plus key=value lines of extra, so that
// conditions both hold and fail.
func FuzzEvaluatePolicy(f *testing.F) {
	for i, doc := range policySeeds() {
		f.Add(doc, "s3:ListAllMyBuckets", "*", uint16(i*2654435761), "2030-01-01T00:00:01Z", "aws:principaltag/jit-ticket=t1\naws:currenttime=2025-06-01T12:00:00Z")
		f.Add(doc, "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/ReadOnlyAccess", uint16(0xffff), "t2", "")
	}
	f.Fuzz(func(t *testing.T, doc, action, resource string, keys uint16, value, extra string) {
		p, err := parsePolicy(doc, false)
		if err != nil {
			return
		}
		ctx := map[string][]string{}
		for line := range strings.SplitSeq(extra, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				ctx[strings.ToLower(k)] = append(ctx[strings.ToLower(k)], v)
			}
		}
		i := 0
		for _, st := range p.statements {
			for _, c := range st.conditions {
				bit := keys >> (i % 8 * 2) & 3
				i++
				switch bit {
				case 1:
					ctx[c.key] = []string{c.values[0]}
				case 2:
					ctx[c.key] = []string{value}
				case 3:
					ctx[c.key] = append(slices.Clone(c.values), value)
				}
			}
		}
		req := evalRequest{action: action, resource: resource, context: ctx}

		allow, deny := p.match(req)
		for name, got := range map[string]decision{
			"identity":           evaluate([]*policy{allowAllPolicy, p}, nil, req),
			"identity, reversed": evaluate([]*policy{p, allowAllPolicy}, allowAllPolicy, req),
			"session":            evaluate([]*policy{allowAllPolicy}, p, req),
		} {
			got.reason(action)
			switch {
			case deny && (got.allowed || !got.explicit):
				t.Fatalf("%s: a matching Deny did not win: %+v\npolicy %s\nrequest %+v", name, got, doc, req)
			case !deny && got.explicit:
				t.Fatalf("%s: explicit deny %+v without a matching Deny\npolicy %s\nrequest %+v", name, got, doc, req)
			case !deny && name != "session" && !got.allowed:
				t.Fatalf("%s: allow-all identity policy did not allow: %+v", name, got)
			case !deny && name == "session" && got.allowed != allow:
				t.Fatalf("session: allowed = %v, want the session policy's allow %v", got.allowed, allow)
			}
		}
		if d, denied := orgDenies([]*policy{p}, req); denied != deny || (denied && !d.explicit) {
			t.Fatalf("orgDenies = %+v, %v; want denied %v", d, denied, deny)
		}
		// A Deny of everything appended to the policy always wins.
		withDeny := &policy{statements: append(slices.Clone(p.statements), statement{deny: true, actions: []string{"*"}, resources: []string{"*"}})}
		if got := evaluate([]*policy{allowAllPolicy, withDeny}, nil, req); got.allowed || !got.explicit {
			t.Fatalf("deny-all statement did not win: %+v", got)
		}
		// Patterns match themselves: a literal action or resource matches.
		if !wildMatch(action, action, true) || !wildMatch(resource, resource, false) || !wildMatch("*", resource, false) {
			t.Fatalf("wildMatch does not match %q / %q against itself", action, resource)
		}
	})
}

// TestWildMatchLiteralStar is the case FuzzEvaluatePolicy found: a '*' in
// the matched string must not use up a '*' of the pattern, or a Deny on
// "arn:aws:s3:::bucket/*" misses the object "bucket/*x".
func TestWildMatchLiteralStar(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "*0", true},
		{"arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/*x", true},
		{"a*b", "a*xb", true},
		{"a*b", "a*x", false},
		{"a?c", "a*c", true},
		{"abc", "a*c", false},
	}
	for _, tt := range tests {
		if got := wildMatch(tt.pattern, tt.s, false); got != tt.want {
			t.Errorf("wildMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
