package sandbox

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/google/go-cmp/cmp"
)

// policyDoc builds a policy document from statements written as JSON objects.
func policyDoc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

const (
	allowAllSt = `{"Effect":"Allow","Action":"*","Resource":"*"}`
	denyAllIf  = `{"Effect":"Deny","Action":"*","Resource":"*","Condition":%s}`
)

func denyIf(cond string) string { return fmt.Sprintf(denyAllIf, cond) }

// decide evaluates req the way authorize does for a minted session:
// org deny list first, then the role's and the session's policies.
func decide(t *testing.T, org, identity []string, session string, req evalRequest) decision {
	t.Helper()
	parse := func(docs []string) []*policy {
		var out []*policy
		for _, d := range docs {
			p, err := parsePolicy(d, false)
			if err != nil {
				t.Fatalf("parse %s: %v", d, err)
			}
			out = append(out, p)
		}
		return out
	}
	if d, denied := orgDenies(parse(org), req); denied {
		return d
	}
	var sp *policy
	if session != "" {
		sp = parse([]string{session})[0]
	}
	return evaluate(parse(identity), sp, req)
}

// TestPolicyTable covers the conditions JIT's revocation relies on,
// evaluated directly.
func TestPolicyTable(t *testing.T) {
	const (
		now    = "2025-06-01T12:00:00Z"
		issued = "2025-06-01T11:00:00Z"
		role   = "arn:aws:iam::111111111111:role/ReadOnlyAccess"
	)
	// sess is the context of a JIT session of ticket t1 for alice, with
	// extra key/value pairs (a value of "" removes the key).
	sess := func(kv ...string) map[string][]string {
		m := map[string][]string{
			"aws:currenttime":             {now},
			"aws:tokenissuetime":          {issued},
			"aws:principaltag/jit-ticket": {"t1"},
			"aws:sourceidentity":          {"alice"},
			"aws:userid":                  {"AROAEXAMPLE:jit-t1-alice"},
			"aws:requestedregion":         {"us-east-1"},
			"aws:principaltype":           {"AssumedRole"},
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = []string{kv[i+1]}
			}
		}
		return m
	}
	allowAll := policyDoc(allowAllSt)
	readOnly := policyDoc(`{"Effect":"Allow","Action":["s3:List*","EC2:describe*","iam:*RolePolicy","s3:GetBucket?cl"],"Resource":"*"}`)
	tagDeny := policyDoc(allowAllSt, denyIf(`{"StringEquals":{"aws:PrincipalTag/jit-ticket":["t0","t1","t7"]}}`))
	tagDenyUpper := policyDoc(allowAllSt, denyIf(`{"StringEquals":{"AWS:PrincipalTag/JIT-TICKET":"t1"}}`))
	capAt := func(op string) string {
		return policyDoc(allowAllSt, denyIf(`{"`+op+`":{"aws:CurrentTime":"`+now+`"}}`))
	}
	revokeOlder := policyDoc(allowAllSt, denyIf(`{"DateLessThan":{"aws:TokenIssueTime":"`+issued+`"}}`))
	siDeny := policyDoc(allowAllSt, denyIf(`{"StringEquals":{"aws:SourceIdentity":"alice"}}`))
	siNotDeny := policyDoc(allowAllSt, denyIf(`{"StringNotEquals":{"aws:SourceIdentity":"alice"}}`))
	useridDeny := policyDoc(allowAllSt, denyIf(`{"StringLike":{"aws:userid":"*:jit-t1-alice"}}`))
	useridTicketDeny := policyDoc(allowAllSt, denyIf(`{"StringLike":{"aws:userid":"*:jit-t1-*"}}`))
	idsDeny := policyDoc(allowAllSt, denyIf(`{"StringEquals":{"identitystore:userId":"906744c8-1111"}}`))
	idsDenyIfExists := policyDoc(allowAllSt, denyIf(`{"StringEqualsIfExists":{"identitystore:userId":"906744c8-1111"}}`))
	roleRes := policyDoc(`{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::111111111111:role/*"}`)
	notRes := policyDoc(`{"Effect":"Allow","Action":"iam:GetRole","NotResource":"arn:aws:iam::111111111111:role/jit-*"}`)
	notIAM := policyDoc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)
	denyNotGCI := policyDoc(allowAllSt, `{"Effect":"Deny","NotAction":["sts:GetCallerIdentity","iam:Get*"],"Resource":"*"}`)
	denyS3 := policyDoc(`{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)
	ec2Only := policyDoc(`{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`)
	denyOnly := policyDoc(`{"Effect":"Deny","Action":"iam:*","Resource":"*"}`)
	scpDenyS3 := policyDoc(`{"Effect":"Deny","Action":"s3:*","Resource":"*"}`)
	scpFull := policyDoc(allowAllSt)
	scpTag := policyDoc(denyIf(`{"StringEquals":{"aws:PrincipalTag/jit-ticket":"t9"}}`))
	scpRegion := policyDoc(`{"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}`)

	allowed := decision{allowed: true}
	implicitID := decision{where: inIdentityPolicy}
	implicitSess := decision{where: inSessionPolicy}
	explicitID := decision{explicit: true, where: inIdentityPolicy}
	explicitSess := decision{explicit: true, where: inSessionPolicy}
	explicitSCP := decision{explicit: true, where: inSCP}
	const list = "s3:ListAllMyBuckets"
	tests := []struct {
		name     string
		org      []string
		identity []string
		session  string
		action   string
		resource string
		ctx      map[string][]string
		want     decision
	}{
		// Deny entries on the session tag jit-ticket.
		{"tag deny: first in list", nil, []string{tagDeny}, "", list, "*", sess("aws:principaltag/jit-ticket", "t0"), explicitID},
		{"tag deny: in list", nil, []string{tagDeny}, "", list, "*", sess(), explicitID},
		{"tag deny: last in list", nil, []string{tagDeny}, "", list, "*", sess("aws:principaltag/jit-ticket", "t7"), explicitID},
		{"tag deny: other ticket", nil, []string{tagDeny}, "", list, "*", sess("aws:principaltag/jit-ticket", "t2"), allowed},
		{"tag deny: untagged session", nil, []string{tagDeny}, "", list, "*", sess("aws:principaltag/jit-ticket", ""), allowed},
		{"tag deny: value case matters", nil, []string{tagDeny}, "", list, "*", sess("aws:principaltag/jit-ticket", "T1"), allowed},
		{"tag deny: key case does not", nil, []string{tagDenyUpper}, "", list, "*", sess(), explicitID},
		// The ticket's end as a cap on aws:CurrentTime.
		{"time cap: before end", nil, []string{capAt("DateGreaterThan")}, "", list, "*", sess("aws:currenttime", "2025-06-01T11:59:59Z"), allowed},
		{"time cap: at end, GreaterThan", nil, []string{capAt("DateGreaterThan")}, "", list, "*", sess(), allowed},
		{"time cap: at end, GreaterThanEquals", nil, []string{capAt("DateGreaterThanEquals")}, "", list, "*", sess(), explicitID},
		{"time cap: after end", nil, []string{capAt("DateGreaterThan")}, "", list, "*", sess("aws:currenttime", "2025-06-01T12:00:01Z"), explicitID},
		{"time cap in session policy", nil, []string{allowAll}, capAt("DateGreaterThan"), list, "*", sess("aws:currenttime", "2025-06-02T00:00:00Z"), explicitSess},
		{"time cap: epoch seconds", nil, []string{capAt("DateGreaterThan")}, "", list, "*", sess("aws:currenttime", "1748779201"), explicitID},
		// Revoke older sessions (aws:TokenIssueTime).
		{"revoke older: issued before", nil, []string{revokeOlder}, "", list, "*", sess("aws:tokenissuetime", "2025-06-01T10:59:59Z"), explicitID},
		{"revoke older: issued at", nil, []string{revokeOlder}, "", list, "*", sess(), allowed},
		{"revoke older: issued after", nil, []string{revokeOlder}, "", list, "*", sess("aws:tokenissuetime", "2025-06-01T11:30:00Z"), allowed},
		{"revoke older: no issue time", nil, []string{revokeOlder}, "", list, "*", sess("aws:tokenissuetime", ""), allowed},
		// aws:SourceIdentity.
		{"source identity: match", nil, []string{siDeny}, "", list, "*", sess(), explicitID},
		{"source identity: other", nil, []string{siDeny}, "", list, "*", sess("aws:sourceidentity", "bob"), allowed},
		{"source identity: absent", nil, []string{siDeny}, "", list, "*", sess("aws:sourceidentity", ""), allowed},
		{"source identity: StringNotEquals, absent", nil, []string{siNotDeny}, "", list, "*", sess("aws:sourceidentity", ""), explicitID},
		// aws:userid StringLike "*:<session>".
		{"userid: session match", nil, []string{useridDeny}, "", list, "*", sess(), explicitID},
		{"userid: longer session name", nil, []string{useridDeny}, "", list, "*", sess("aws:userid", "AROAEXAMPLE:jit-t1-alicex"), allowed},
		{"userid: ticket wildcard", nil, []string{useridTicketDeny}, "", list, "*", sess("aws:userid", "AROAEXAMPLE:jit-t1-bob"), explicitID},
		{"userid: other ticket", nil, []string{useridTicketDeny}, "", list, "*", sess("aws:userid", "AROAEXAMPLE:jit-t10-bob"), allowed},
		// identitystore:userId is absent for plain role sessions.
		{"identitystore:userId absent", nil, []string{idsDeny}, "", list, "*", sess(), allowed},
		{"identitystore:userId match", nil, []string{idsDeny}, "", list, "*", sess("identitystore:userid", "906744c8-1111"), explicitID},
		{"identitystore:userId other", nil, []string{idsDeny}, "", list, "*", sess("identitystore:userid", "906744c8-2222"), allowed},
		{"identitystore:userId IfExists, absent", nil, []string{idsDenyIfExists}, "", list, "*", sess(), explicitID},
		// Action and resource wildcards.
		{"action prefix wildcard", nil, []string{readOnly}, "", list, "*", sess(), allowed},
		{"action outside the wildcard", nil, []string{readOnly}, "", "s3:GetObject", "*", sess(), implicitID},
		{"action case-insensitive", nil, []string{readOnly}, "", "ec2:DescribeRegions", "*", sess(), allowed},
		{"action infix wildcard", nil, []string{readOnly}, "", "iam:PutRolePolicy", "*", sess(), allowed},
		{"action ? wildcard", nil, []string{readOnly}, "", "s3:GetBucketAcl", "*", sess(), allowed},
		{"action ? is one character", nil, []string{readOnly}, "", "s3:GetBucketAccl", "*", sess(), implicitID},
		{"resource wildcard match", nil, []string{roleRes}, "", "iam:GetRole", role, sess(), allowed},
		{"resource other account", nil, []string{roleRes}, "", "iam:GetRole", "arn:aws:iam::222222222222:role/ReadOnlyAccess", sess(), implicitID},
		{"NotResource excludes", nil, []string{notRes}, "", "iam:GetRole", "arn:aws:iam::111111111111:role/jit-broker", sess(), implicitID},
		{"NotResource allows others", nil, []string{notRes}, "", "iam:GetRole", role, sess(), allowed},
		// NotAction.
		{"NotAction allow excludes", nil, []string{notIAM}, "", "iam:GetRole", role, sess(), implicitID},
		{"NotAction allow covers others", nil, []string{notIAM}, "", list, "*", sess(), allowed},
		{"NotAction deny hits others", nil, []string{denyNotGCI}, "", list, "*", sess(), explicitID},
		{"NotAction deny spares listed", nil, []string{denyNotGCI}, "", "iam:GetRole", role, sess(), allowed},
		// Explicit deny wins over allow.
		{"deny beats allow, same policy set", nil, []string{allowAll, denyS3}, "", list, "*", sess(), explicitID},
		{"session deny beats role allow", nil, []string{allowAll}, denyS3, list, "*", sess(), explicitSess},
		{"role deny beats session allow", nil, []string{allowAll, denyS3}, allowAll, list, "*", sess(), explicitID},
		// Session policies only narrow.
		{"session policy does not allow", nil, []string{allowAll}, ec2Only, list, "*", sess(), implicitSess},
		{"session policy allows", nil, []string{allowAll}, ec2Only, "ec2:DescribeRegions", "*", sess(), allowed},
		{"session policy of denies only", nil, []string{allowAll}, denyOnly, list, "*", sess(), implicitSess},
		{"session policy cannot widen", nil, []string{readOnly}, allowAll, "iam:GetRole", role, sess(), implicitID},
		// Organization deny list (SCPs).
		{"org deny", []string{scpDenyS3}, []string{allowAll}, "", list, "*", sess(), explicitSCP},
		{"org deny other service", []string{scpDenyS3}, []string{allowAll}, "", "ec2:DescribeRegions", "*", sess(), allowed},
		{"org allow never grants", []string{scpFull}, []string{readOnly}, "", "iam:GetRole", role, sess(), implicitID},
		{"org deny on tag: other ticket", []string{scpTag}, []string{allowAll}, "", list, "*", sess(), allowed},
		{"org deny on tag: match", []string{scpTag}, []string{allowAll}, "", list, "*", sess("aws:principaltag/jit-ticket", "t9"), explicitSCP},
		{"org region deny", []string{scpRegion}, []string{allowAll}, "", "ec2:DescribeRegions", "*", sess("aws:requestedregion", "ap-south-1"), explicitSCP},
		{"org region deny spares IAM", []string{scpRegion}, []string{allowAll}, "", "iam:GetRole", role, sess("aws:requestedregion", "ap-south-1"), allowed},
		{"org deny beats session allow", []string{scpDenyS3}, []string{allowAll}, allowAll, list, "*", sess(), explicitSCP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(t, tt.org, tt.identity, tt.session, evalRequest{action: tt.action, resource: tt.resource, context: tt.ctx})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(decision{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPolicyTableEndToEnd runs the main revocation patterns through
// minted sessions and real SDK calls: s3:ListBuckets and
// ec2:DescribeRegions after the role, the session policy or the org deny
// list changed.
func TestPolicyTableEndToEnd(t *testing.T) {
	type setup struct {
		rolePolicy string // put on ReadOnlyAccess as jit-revocations; %s is the session's issue time
		session    string // session policy; %s is the ticket's end
		org        []string
		advance    time.Duration // sandbox time between minting and the calls
	}
	tests := []struct {
		name            string
		setup           setup
		ticket, user    string
		wantS3, wantEC2 string // error codes, "" for success
		wantMsg         string // suffix of the S3 message
	}{
		{"no deny", setup{}, "t1", "alice", "", "", ""},
		{"tag deny", setup{rolePolicy: policyDoc(denyIf(`{"StringEquals":{"aws:PrincipalTag/jit-ticket":["t0","t1"]}}`))}, "t1", "alice",
			"AccessDenied", "UnauthorizedOperation", "with an explicit deny in an identity-based policy"},
		{"tag deny, other ticket", setup{rolePolicy: policyDoc(denyIf(`{"StringEquals":{"aws:PrincipalTag/jit-ticket":["t0","t1"]}}`))}, "t2", "alice", "", "", ""},
		{"time cap passed", setup{session: policyDoc(allowAllSt, denyIf(`{"DateGreaterThan":{"aws:CurrentTime":"%s"}}`)), advance: 11 * time.Minute}, "t1", "alice",
			"AccessDenied", "UnauthorizedOperation", "with an explicit deny in a session policy"},
		{"time cap not yet", setup{session: policyDoc(allowAllSt, denyIf(`{"DateGreaterThan":{"aws:CurrentTime":"%s"}}`)), advance: 9 * time.Minute}, "t1", "alice", "", "", ""},
		{"revoke older sessions", setup{rolePolicy: policyDoc(denyIf(`{"DateLessThan":{"aws:TokenIssueTime":"%s"}}`)), advance: time.Minute}, "t1", "alice",
			"AccessDenied", "UnauthorizedOperation", "with an explicit deny in an identity-based policy"},
		{"source identity", setup{rolePolicy: policyDoc(denyIf(`{"StringEquals":{"aws:SourceIdentity":"alice"}}`))}, "t1", "alice",
			"AccessDenied", "UnauthorizedOperation", "with an explicit deny in an identity-based policy"},
		{"source identity, other user", setup{rolePolicy: policyDoc(denyIf(`{"StringEquals":{"aws:SourceIdentity":"alice"}}`))}, "t1", "bob", "", "", ""},
		{"userid session name", setup{rolePolicy: policyDoc(denyIf(`{"StringLike":{"aws:userid":"*:jit-t1-alice"}}`))}, "t1", "alice",
			"AccessDenied", "UnauthorizedOperation", "with an explicit deny in an identity-based policy"},
		{"identitystore:userId absent for role sessions", setup{rolePolicy: policyDoc(denyIf(`{"StringEquals":{"identitystore:userId":"906744c8-1111"}}`))}, "t1", "alice", "", "", ""},
		{"session policy narrows", setup{session: policyDoc(`{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}`)}, "t1", "alice",
			"AccessDenied", "", "because no session policy allows the s3:ListAllMyBuckets action"},
		{"org deny list", setup{org: []string{policyDoc(`{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/jit-ticket":"t1"}}}`)}}, "t1", "alice",
			"AccessDenied", "", "with an explicit deny in a service control policy"},
		{"org allow does not grant", setup{org: []string{policyDoc(allowAllSt)}, session: policyDoc(`{"Effect":"Allow","Action":"ec2:*","Resource":"*"}`)}, "t1", "alice",
			"AccessDenied", "", "because no session policy allows the s3:ListAllMyBuckets action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := DemoFixture()
			f.OrgDenyPolicies = tt.setup.org
			e := newEnv(t, f)
			var sp *string
			if tt.setup.session != "" {
				end := e.clock.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
				sp = aws.String(strings.ReplaceAll(tt.setup.session, "%s", end))
			}
			out := assume(t, e.broker(), &sts.AssumeRoleInput{
				RoleArn: aws.String(devReadOnly), RoleSessionName: aws.String("jit-" + tt.ticket + "-" + tt.user),
				SourceIdentity: aws.String(tt.user), DurationSeconds: aws.Int32(900), Policy: sp,
				Tags: []ststypes.Tag{{Key: aws.String("jit-ticket"), Value: aws.String(tt.ticket)}},
			})
			e.clock.Advance(tt.setup.advance)
			if tt.setup.rolePolicy != "" {
				now := e.clock.Now().UTC().Format(time.RFC3339)
				if err := put(e.broker(), "ReadOnlyAccess", "jit-revocations", strings.ReplaceAll(tt.setup.rolePolicy, "%s", now)); err != nil {
					t.Fatal(err)
				}
			}
			c := e.session(out.Credentials)
			check := func(what string, err error, want string) {
				t.Helper()
				if want == "" {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					return
				}
				wantAPIError(t, err, want, "")
			}
			s3Err := listBuckets(c)
			check("ListBuckets", s3Err, tt.wantS3)
			if tt.wantMsg != "" && s3Err != nil {
				if _, msg := apiCode(t, s3Err); !strings.HasSuffix(msg, tt.wantMsg) {
					t.Errorf("ListBuckets message %q, want suffix %q", msg, tt.wantMsg)
				}
			}
			check("DescribeRegions", describeRegions(c), tt.wantEC2)
			// Never denied, whatever the policies say.
			if _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Errorf("GetCallerIdentity: %v", err)
			}
		})
	}
}
