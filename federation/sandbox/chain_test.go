package sandbox

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

const allowAll = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`

// chainFixture is one account whose roles trust it in different ways.
func chainFixture() Fixture {
	f := DemoFixture()
	acct := "111111111111"
	root := "arn:aws:iam::" + acct + ":root"
	f.Roles = append(f.Roles,
		// The first hop: the broker mints it, and the account trusts it.
		Role{Account: acct, Name: "Start", MaxSessionDuration: 43200, Policies: map[string]string{"all": allowAll},
			TrustedPrincipals: []string{brokerARN, root}},
		Role{Account: acct, Name: "AccountTrust", MaxSessionDuration: 43200, TrustedPrincipals: []string{root}, Policies: map[string]string{"all": allowAll}},
		Role{Account: acct, Name: "NoTagSession", TrustedPrincipals: []string{root}, TrustActions: []string{"sts:AssumeRole", "sts:SetSourceIdentity"},
			Policies: map[string]string{"all": allowAll}},
		Role{Account: acct, Name: "NoSourceIdentity", TrustedPrincipals: []string{root}, TrustActions: []string{"sts:AssumeRole", "sts:TagSession"},
			Policies: map[string]string{"all": allowAll}},
		Role{Account: acct, Name: "Revoked", TrustedPrincipals: []string{root}, Policies: map[string]string{
			"all": allowAll, "jit-revocations": fmt.Sprintf(denyTemplate, `"t7"`)}},
		Role{Account: acct, Name: "NamedStart", TrustedPrincipals: []string{"arn:aws:iam::" + acct + ":role/Start"}, Policies: map[string]string{"all": allowAll}},
	)
	return f
}

func chainRole(name string) string { return "arn:aws:iam::111111111111:role/" + name }

// TestRoleChainingTable checks what AWS carries through a chain and what
// it refuses: transitive tags carried and not overridable, other tags and
// the session policy dropped, the source identity kept, the 1-hour cap,
// sts:TagSession and sts:SetSourceIdentity needed in the trust policy,
// the caller's own policies (its session policy included) deciding
// whether it may call sts:AssumeRole, a new aws:TokenIssueTime, and the
// target role's deny entries applying to the chained session.
func TestRoleChainingTable(t *testing.T) {
	const denyChaining = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},` +
		`{"Effect":"Deny","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"*"}]}`
	const denyEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},` +
		`{"Effect":"Deny","Action":"ec2:*","Resource":"*"}]}`
	tests := []struct {
		name string
		// first hop: its role and session policy ("" for none)
		firstRole, firstPolicy string
		hop                    sts.AssumeRoleInput
		code, msg              string                                                // "" for success
		check                  func(t *testing.T, e *env, out *sts.AssumeRoleOutput) // on success
	}{
		{name: "chained into a role trusting the account",
			firstRole: "Start", firstPolicy: denyEC2,
			hop: sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust"))},
			check: func(t *testing.T, e *env, out *sts.AssumeRoleOutput) {
				se := e.sb.sessions[aws.ToString(out.Credentials.AccessKeyId)]
				if len(se.tags) != 1 || se.tags[0] != (tag{"jit-ticket", "t7"}) || len(se.transitive) != 1 {
					t.Errorf("chained tags = %+v transitive %v, want only jit-ticket=t7, transitive", se.tags, se.transitive)
				}
				if got := aws.ToString(out.SourceIdentity); got != "alice" {
					t.Errorf("SourceIdentity = %q, want alice", got)
				}
				if se.hasSessionPolicy {
					t.Errorf("chained session has a session policy %s; want none", se.policyText)
				}
				// The first hop's session policy denied ec2; the chained session is not bound by it.
				if _, err := e.session(out.Credentials).ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
					t.Errorf("DescribeRegions with the chained session: %v; the session policy must not follow", err)
				}
				if want := e.clock.Now().Truncate(time.Second); !se.issued.Equal(want) {
					t.Errorf("aws:TokenIssueTime = %v, want the chain's own time %v", se.issued, want)
				}
				if got, want := aws.ToTime(out.Credentials.Expiration), se.issued.Add(time.Hour); !got.Equal(want) {
					t.Errorf("Expiration = %v, want %v (default 1 hour)", got, want)
				}
			}},
		{name: "over the 1 hour chaining cap", firstRole: "Start",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust")), DurationSeconds: aws.Int32(3601)},
			code: "ValidationError", msg: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{name: "transitive tag overridden", firstRole: "Start",
			hop: sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust")),
				Tags: []ststypes.Tag{{Key: aws.String("jit-ticket"), Value: aws.String("not-revoked")}}},
			code: "ValidationError", msg: "Tag key jit-ticket is a transitive tag of the calling session and cannot be overridden."},
		{name: "source identity changed", firstRole: "Start",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust")), SourceIdentity: aws.String("mallory")},
			code: "ValidationError", msg: "Source identity cannot be changed once it is set: the calling session has source identity alice."},
		{name: "inherited tags need sts:TagSession in the trust", firstRole: "Start",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("NoTagSession"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/Start/hop1 is not authorized to perform: sts:TagSession on resource: " + chainRole("NoTagSession")},
		{name: "inherited source identity needs sts:SetSourceIdentity in the trust", firstRole: "Start",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("NoSourceIdentity"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/Start/hop1 is not authorized to perform: sts:SetSourceIdentity on resource: " + chainRole("NoSourceIdentity")},
		{name: "a role does not trust itself through an account trust", firstRole: "Start",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("Start"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/Start/hop1 is not authorized to perform: sts:AssumeRole on resource: " + chainRole("Start")},
		{name: "a role trusting the caller's role by name", firstRole: "Start",
			hop: sts.AssumeRoleInput{RoleArn: aws.String(chainRole("NamedStart"))}},
		{name: "session policy denies sts:AssumeRole", firstRole: "Start", firstPolicy: denyChaining,
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/Start/hop1 is not authorized to perform: sts:AssumeRole on resource: " + chainRole("AccountTrust")},
		{name: "session policy denies sts:AssumeRole, even for a named trust", firstRole: "Start", firstPolicy: denyChaining,
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("NamedStart"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/Start/hop1 is not authorized to perform: sts:AssumeRole on resource: " + chainRole("NamedStart")},
		{name: "caller's role does not allow sts:AssumeRole", firstRole: "ReadOnlyAccess",
			hop:  sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust"))},
			code: "AccessDenied", msg: "User: arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/hop1 is not authorized to perform: sts:AssumeRole on resource: " + chainRole("AccountTrust")},
		{name: "target role's deny entry matches the carried tag",
			firstRole: "Start",
			hop:       sts.AssumeRoleInput{RoleArn: aws.String(chainRole("Revoked"))},
			check: func(t *testing.T, e *env, out *sts.AssumeRoleOutput) {
				c := e.session(out.Credentials)
				_, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
				wantAPIError(t, err, "AccessDenied", "")
				_, err = c.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(chainRole("AccountTrust")), RoleSessionName: aws.String("hop3")})
				wantAPIError(t, err, "AccessDenied", "User: "+aws.ToString(out.AssumedRoleUser.Arn)+
					" is not authorized to perform: sts:AssumeRole on resource: "+chainRole("AccountTrust"))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, chainFixture())
			var policy *string
			if tt.firstPolicy != "" {
				policy = aws.String(tt.firstPolicy)
			}
			first := assume(t, e.broker(), &sts.AssumeRoleInput{
				RoleArn: aws.String(chainRole(tt.firstRole)), RoleSessionName: aws.String("hop1"), SourceIdentity: aws.String("alice"),
				DurationSeconds: aws.Int32(7200), Policy: policy,
				Tags:              []ststypes.Tag{{Key: aws.String("jit-ticket"), Value: aws.String("t7")}, {Key: aws.String("other"), Value: aws.String("x")}},
				TransitiveTagKeys: []string{"jit-ticket"},
			})
			e.clock.Add(10 * time.Minute)
			hop := tt.hop
			hop.RoleSessionName = aws.String("hop2")
			before := len(e.sb.sessions)
			out, err := e.session(first.Credentials).sts.AssumeRole(ctx, &hop)
			if tt.code != "" {
				wantAPIError(t, err, tt.code, tt.msg)
				if after := len(e.sb.sessions); after != before {
					t.Errorf("sessions = %d after a refused chain, want %d", after, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("chained AssumeRole: %v", err)
			}
			if tt.check != nil {
				tt.check(t, e, out)
			}
		})
	}
}

// TestTagSessionNeedsTrust: passing tags or a source identity without a
// chain needs the same trust actions.
func TestTagSessionNeedsTrust(t *testing.T) {
	// The broker is an admin user: its own policies allow everything, so
	// only the trust policy decides. Start trusts the broker by name.
	f := chainFixture()
	f.Roles = append(f.Roles, Role{Account: "111111111111", Name: "BrokerNoTags", TrustedPrincipals: []string{brokerARN},
		TrustActions: []string{"sts:AssumeRole"}, Policies: map[string]string{"all": allowAll}})
	e := newEnv(t, f)
	in := &sts.AssumeRoleInput{RoleArn: aws.String(chainRole("BrokerNoTags")), RoleSessionName: aws.String("s1")}
	assume(t, e.broker(), in)
	in.Tags = []ststypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}
	_, err := e.broker().sts.AssumeRole(ctx, in)
	wantAPIError(t, err, "AccessDenied", "User: "+brokerARN+" is not authorized to perform: sts:TagSession on resource: "+chainRole("BrokerNoTags"))
	in.Tags, in.SourceIdentity = nil, aws.String("alice")
	_, err = e.broker().sts.AssumeRole(ctx, in)
	wantAPIError(t, err, "AccessDenied", "User: "+brokerARN+" is not authorized to perform: sts:SetSourceIdentity on resource: "+chainRole("BrokerNoTags"))
}
