package sandbox

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEvaluate(t *testing.T) {
	const (
		allowAll = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		readOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:List*","EC2:describe*"],"Resource":"*"}]}`
		notIAM   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`
		denyT1   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":["t1","t2"]}}}]}`
		denyOld  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T00:00:00Z"}}}]}`
		denyUser = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"*:jit-t9-*"}}}]}`
		denyNotT = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"blue"}}}]}`
		denySI   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:SourceIdentity":"mallory"}}}]}`
		twoConds = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":"t1"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`
		roleRes  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*RolePolicy","Resource":"arn:aws:iam::111111111111:role/Read?nly*"}]}`
		nullTag  = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:PrincipalTag/jit-ticket":"true"}}}]}`
	)
	ctxWith := func(kv ...string) map[string][]string {
		m := map[string][]string{"aws:currenttime": {"2025-06-01T12:00:00Z"}, "aws:tokenissuetime": {"2025-06-01T11:00:00Z"}}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = []string{kv[i+1]}
		}
		return m
	}
	t1 := ctxWith("aws:principaltag/jit-ticket", "t1", "aws:userid", "AROAX:jit-t1-alice")
	t3 := ctxWith("aws:principaltag/jit-ticket", "t3", "aws:userid", "AROAX:jit-t3-alice")
	t9 := ctxWith("aws:principaltag/jit-ticket", "t9", "aws:userid", "AROAX:jit-t9-bob", "aws:principaltag/team", "blue")
	allowed := decision{allowed: true}
	implicit := decision{where: inIdentityPolicy}
	explicit := decision{explicit: true, where: inIdentityPolicy}
	tests := []struct {
		name     string
		identity []string
		session  string
		action   string
		resource string
		ctx      map[string][]string
		want     decision
	}{
		{"allow all", []string{allowAll}, "", "s3:ListAllMyBuckets", "*", t1, allowed},
		{"no policies", nil, "", "s3:ListAllMyBuckets", "*", t1, implicit},
		{"action wildcard, case-insensitive", []string{readOnly}, "", "ec2:DescribeRegions", "*", t1, allowed},
		{"action not listed", []string{readOnly}, "", "iam:PutRolePolicy", "*", t1, implicit},
		{"NotAction excludes", []string{notIAM}, "", "iam:GetRole", "*", t1, implicit},
		{"NotAction allows others", []string{notIAM}, "", "s3:ListAllMyBuckets", "*", t1, allowed},
		{"deny by ticket tag", []string{allowAll, denyT1}, "", "s3:ListAllMyBuckets", "*", t1, explicit},
		{"other ticket unaffected", []string{allowAll, denyT1}, "", "s3:ListAllMyBuckets", "*", t3, allowed},
		{"tag key case-insensitive", []string{allowAll, denyT1}, "", "s3:ListAllMyBuckets", "*", ctxWith("aws:principaltag/jit-ticket", "t2"), explicit},
		{"missing tag key: StringEquals false", []string{allowAll, denyT1}, "", "s3:ListAllMyBuckets", "*", ctxWith(), allowed},
		{"missing tag key: StringNotEquals true", []string{allowAll, denyNotT}, "", "s3:ListAllMyBuckets", "*", t1, explicit},
		{"StringNotEquals matching value", []string{allowAll, denyNotT}, "", "s3:ListAllMyBuckets", "*", t9, allowed},
		{"revoke older sessions", []string{allowAll, denyOld}, "", "s3:ListAllMyBuckets", "*", t1, explicit},
		{"StringLike on userid", []string{allowAll, denyUser}, "", "s3:ListAllMyBuckets", "*", t9, explicit},
		{"StringLike no match", []string{allowAll, denyUser}, "", "s3:ListAllMyBuckets", "*", t1, allowed},
		{"IfExists with missing key holds", []string{allowAll, denySI}, "", "s3:ListAllMyBuckets", "*", t1, explicit},
		{"IfExists with other value", []string{allowAll, denySI}, "", "s3:ListAllMyBuckets", "*", ctxWith("aws:sourceidentity", "alice"), allowed},
		{"IfExists with matching key", []string{allowAll, denySI}, "", "s3:ListAllMyBuckets", "*", ctxWith("aws:sourceidentity", "mallory"), explicit},
		{"two operators ANDed: both hold", []string{allowAll, twoConds}, "", "s3:ListAllMyBuckets", "*", t1, explicit},
		{"two operators ANDed: one fails", []string{allowAll, twoConds}, "", "s3:ListAllMyBuckets", "*", t3, allowed},
		{"Null true on missing tag", []string{allowAll, nullTag}, "", "s3:ListAllMyBuckets", "*", ctxWith(), explicit},
		{"Null true on present tag", []string{allowAll, nullTag}, "", "s3:ListAllMyBuckets", "*", t1, allowed},
		{"resource wildcard match", []string{roleRes}, "", "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/ReadOnlyAccess", t1, allowed},
		{"resource wildcard miss", []string{roleRes}, "", "iam:PutRolePolicy", "arn:aws:iam::111111111111:role/AdministratorAccess", t1, implicit},
		{"session policy narrows", []string{allowAll}, readOnly, "iam:GetRole", "*", t1, decision{where: inSessionPolicy}},
		{"session policy allows", []string{allowAll}, readOnly, "s3:ListBuckets", "*", t1, allowed},
		{"session policy deny wins", []string{allowAll}, denyT1, "s3:ListAllMyBuckets", "*", t1, decision{explicit: true, where: inSessionPolicy}},
		{"session policy cannot widen", []string{readOnly}, allowAll, "iam:GetRole", "*", t1, implicit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var identity []*policy
			for _, doc := range tt.identity {
				p, err := parsePolicy(doc, false)
				if err != nil {
					t.Fatalf("parse %s: %v", doc, err)
				}
				identity = append(identity, p)
			}
			var session *policy
			if tt.session != "" {
				var err error
				if session, err = parsePolicy(tt.session, false); err != nil {
					t.Fatal(err)
				}
			}
			got := evaluate(identity, session, evalRequest{action: tt.action, resource: tt.resource, context: tt.ctx})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decision{})); diff != "" {
				t.Errorf("evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := map[string]string{
		`not json`:                 "Syntax errors in policy.",
		`{"Version":"2012-10-17"}`: "Missing required field Statement",
		`{"Version":"2012-10-18","Statement":[]}`:                                                                                                         "The policy failed legacy parsing",
		`{"Version":"2012-10-17","Statement":{"Action":"*","Resource":"*"}}`:                                                                              "Missing required field Effect",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`:                                                                          "Missing required field Action",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`:                                                                            "Missing required field Resource",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`:                                             "Syntax errors in policy. A statement may not have both Action and NotAction.",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`: `Invalid date value "tomorrow" for condition operator DateLessThan.`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"aws:userid":"x"}}}}`: "Invalid Condition type : ForSomeValues:StringLike.",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"bucket"}}`:                                                        `Resource bucket must be in ARN format or "*".`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}}`:                                                   "Syntax errors in policy. Unknown field Extra",
	}
	for doc, want := range tests {
		_, err := parsePolicy(doc, false)
		if err == nil || err.Error() != want {
			t.Errorf("parsePolicy(%s) = %v, want %q", doc, err, want)
		}
	}
}

func TestWildMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"s3:List*", "s3:ListAllMyBuckets", false, true},
		{"s3:list*", "S3:ListAllMyBuckets", true, true},
		{"s3:list*", "S3:ListAllMyBuckets", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"*:jit-t1-*", "AROAX:jit-t1-alice", false, true},
		{"a*b*c", "aXbYbZc", false, true},
		{"a*b*c", "aXbYbZ", false, false},
	}
	for _, tt := range tests {
		if got := wildMatch(tt.pattern, tt.s, tt.fold); got != tt.want {
			t.Errorf("wildMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.fold, got, tt.want)
		}
	}
}
