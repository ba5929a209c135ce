package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// Issue 10 §1: a session derived from a ticket by role chaining must not
// outlive the ticket. The registry of these tests:
//   - PowerUserAccess: grant path both (role PowerUserAccess and the
//     Identity Center permission set), role chaining not allowed;
//   - Chaining: role AdministratorAccess, allow_role_chaining: true.
//
// In the demo fixture every role of the three trusts any principal of
// the organization (the caller's own policies must allow sts:AssumeRole).

// newChainSystem starts JIT (server and worker) on a demo sandbox with
// the given organization-level deny policies (SCPs).
func newChainSystem(t *testing.T, scps ...string) *icSystem {
	t.Helper()
	f := sandbox.DemoFixture()
	f.OrgDenyPolicies = scps
	e := startSandbox(t, f, "PowerUserAccess")
	everyone := broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}
	cfg := &Config{
		Registry: broker.RegistryData{
			// These tests file the same ticket again on purpose (guardrails_test.go tests the limits).
			Limits:   broker.Limits{OverlappingTickets: broker.OverlapAllow},
			Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{
				{Name: "PowerUserAccess", ARN: e.psARN, RoleName: "PowerUserAccess", MaxDuration: time.Hour, GrantPath: broker.GrantBoth, Scope: everyone},
				{Name: "Chaining", RoleName: "AdministratorAccess", MaxDuration: time.Hour, GrantPath: broker.GrantRole, AllowRoleChaining: true, Scope: everyone},
			},
			Admins:           []string{"carol@example.com"},
			RequestForOthers: []string{"carol@example.com"},
		},
		AWS: AWSConfig{Region: "us-east-1", Endpoint: e.url, ManagementRole: sandbox.DemoManagementRole,
			IdentityCenter: IdentityCenterConfig{InstanceARN: e.inst, IdentityStoreID: f.IdentityCenter.IdentityStoreID, RequestsPerSecond: 500, Outstanding: 10, PollInterval: 50 * time.Millisecond}},
		Redis: RedisConfig{URL: fmt.Sprintf("redis://%s/%d", redisAddr, int(nextDB.Add(1)))},
		OIDC:  OIDCConfig{Issuer: "http://127.0.0.1:1", ClientIDs: []string{"x"}},
	}
	cfg.Worker.Concurrency = 20
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := startSystem(context.Background(), deps{cfg: cfg, redisOpt: opt, aws: e.awsCfg, logger: slog.New(slog.DiscardHandler), worker: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.close)
	e.sys = sys
	return e
}

var (
	chainCarol = broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	chainAlice = broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
)

// awsSession is one set of credentials with the clients a test uses.
type awsSession struct {
	name string
	sts  *sts.Client
	s3   *s3.Client
}

func (e *icSystem) sessionOf(name, akid, secret, token string) awsSession {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token)}
	return awsSession{
		name: name,
		sts:  sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) }),
		s3:   s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true }),
	}
}

// fileFor files an active ticket for alice (carol files it; no approval).
func (e *icSystem) fileFor(t *testing.T, permissionSet string, end time.Time) string {
	t.Helper()
	tk, err := e.sys.svc.CreateTicket(chainCarol, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: permissionSet,
		Beneficiaries: []string{"alice@example.com"}, End: end, Reason: "role chaining"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(t, tk.ID, broker.StateActive)
	return tk.ID
}

// mint is alice's `jit credentials` for the ticket.
func (e *icSystem) mint(t *testing.T, id string) awsSession {
	t.Helper()
	c, err := e.sys.svc.Credentials(chainAlice, id)
	if err != nil {
		t.Fatal(err)
	}
	return e.sessionOf("jit session", c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// chain assumes a dev role with s's credentials.
func (e *icSystem) chain(s awsSession, role, name string, tags ...string) (awsSession, error) {
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/" + role), RoleSessionName: aws.String(name)}
	for i := 0; i+1 < len(tags); i += 2 {
		in.Tags = append(in.Tags, ststypes.Tag{Key: aws.String(tags[i]), Value: aws.String(tags[i+1])})
	}
	out, err := s.sts.AssumeRole(context.Background(), in)
	if err != nil {
		return awsSession{}, err
	}
	c := out.Credentials
	return e.sessionOf(name, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), nil
}

func mustWork(t *testing.T, s awsSession) {
	t.Helper()
	if _, err := s.s3.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets with %s: %v", s.name, err)
	}
}

func mustBeDenied(t *testing.T, s awsSession) {
	t.Helper()
	_, err := s.s3.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	wantCode(t, err, "AccessDenied", "ListBuckets with "+s.name)
}

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

// The reproduction of the issue, on a permission set that does not allow
// chaining: alice's session, and her access portal session, try to assume
// a role that trusts the account, passing a forged jit-ticket tag. Both
// are refused with AWS's AccessDenied, before and after the ticket is
// terminated, and before and after a ticket's end, so no chained session
// exists to outlive the ticket.
func TestRoleChainingRefusedByDefault(t *testing.T) {
	e := newChainSystem(t)
	id := e.fileFor(t, "PowerUserAccess", time.Now().Add(time.Hour))

	role := e.mint(t, id)
	mustWork(t, role)
	portal := e.portalSession(t, "alice", "PowerUserAccess")
	mustWork(t, portal)

	for _, s := range []awsSession{role, portal} {
		for _, target := range []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess"} {
			_, err := e.chain(s, target, "escape", "jit-ticket", "not-revoked")
			wantCode(t, err, "AccessDenied", s.name+" chaining into "+target+" with a forged jit-ticket tag")
			if !strings.Contains(err.Error(), "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/"+target) {
				t.Errorf("%s chaining into %s: %v, want AWS's AccessDenied message for sts:AssumeRole", s.name, target, err)
			}
			_, err = e.chain(s, target, "escape")
			wantCode(t, err, "AccessDenied", s.name+" chaining into "+target+" without tags")
		}
	}

	if _, err := e.sys.svc.Terminate(chainCarol, id, "cut"); err != nil {
		t.Fatal(err)
	}
	e.waitUndone(t, id)
	mustBeDenied(t, role)
	mustBeDenied(t, portal)
	for _, s := range []awsSession{role, portal} {
		_, err := e.chain(s, "AdministratorAccess", "escape", "jit-ticket", "not-revoked")
		wantCode(t, err, "AccessDenied", s.name+" chaining after terminate")
	}

	// The same at the ticket's end.
	time.Sleep(1100 * time.Millisecond) // token issue times have whole seconds: a new portal session
	id = e.fileFor(t, "PowerUserAccess", time.Now().Add(4*time.Second))
	role, portal = e.mint(t, id), e.portalSession(t, "alice", "PowerUserAccess")
	mustWork(t, role)
	mustWork(t, portal)
	for _, s := range []awsSession{role, portal} {
		_, err := e.chain(s, "AdministratorAccess", "escape", "jit-ticket", "not-revoked")
		wantCode(t, err, "AccessDenied", s.name+" chaining before the end")
	}
	e.waitState(t, id, broker.StateExpired)
	e.waitUndone(t, id)
	mustBeDenied(t, role)
	mustBeDenied(t, portal)
	for _, s := range []awsSession{role, portal} {
		_, err := e.chain(s, "AdministratorAccess", "escape", "jit-ticket", "not-revoked")
		wantCode(t, err, "AccessDenied", s.name+" chaining after the end")
	}
}

// portalSession signs in to the access portal as user and takes the
// role credentials of a permission set in 111111111111.
func (e *icSystem) portalSession(t *testing.T, user, permissionSet string) awsSession {
	t.Helper()
	tok, err := e.sb.PortalToken(user)
	if err != nil {
		t.Fatal(err)
	}
	portal := sso.NewFromConfig(e.awsCfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(e.url) })
	out, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok),
		AccountId: aws.String("111111111111"), RoleName: aws.String(permissionSet)})
	if err != nil {
		t.Fatalf("portal credentials: %v", err)
	}
	c := out.RoleCredentials
	return e.sessionOf("portal session", aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// chainTwoHops makes, from a session of the Chaining ticket, a session
// of PowerUserAccess and from that one a session of AdministratorAccess;
// both work, and neither can change the ticket tag it carries.
func (e *icSystem) chainTwoHops(t *testing.T, jit awsSession) (hop1, hop2 awsSession) {
	t.Helper()
	hop1, err := e.chain(jit, "PowerUserAccess", "hop1")
	if err != nil {
		t.Fatalf("first hop: %v", err)
	}
	hop2, err = e.chain(hop1, "AdministratorAccess", "hop2")
	if err != nil {
		t.Fatalf("second hop: %v", err)
	}
	mustWork(t, hop1)
	mustWork(t, hop2)
	for _, s := range []awsSession{jit, hop1, hop2} {
		_, err := e.chain(s, "ReadOnlyAccess", "override", "jit-ticket", "not-revoked")
		wantCode(t, err, "ValidationError", s.name+" overriding jit-ticket")
	}
	return hop1, hop2
}

// An opted-in chain of two hops is cut when the ticket is terminated:
// the ticket's deny entry is on every role JIT manages in the account,
// and the chained sessions carry the ticket tag.
func TestOptedInChainCutOnTerminate(t *testing.T) {
	e := newChainSystem(t)
	id := e.fileFor(t, "Chaining", time.Now().Add(time.Hour))
	jit := e.mint(t, id)
	hop1, hop2 := e.chainTwoHops(t, jit)

	if _, err := e.sys.svc.Terminate(chainCarol, id, "cut"); err != nil {
		t.Fatal(err)
	}
	// The deny entries are written before Terminate answers.
	for _, s := range []awsSession{jit, hop1, hop2} {
		mustBeDenied(t, s)
		_, err := e.chain(s, "PowerUserAccess", "again")
		wantCode(t, err, "AccessDenied", s.name+" chaining again after terminate")
	}
	tk, err := e.sys.svc.Ticket(chainCarol, id)
	if err != nil {
		t.Fatal(err)
	}
	var denied []string
	for _, g := range tk.Grants {
		if g.Kind == broker.GrantRoleDeny && g.State == broker.GrantDone {
			denied = append(denied, g.Key)
			if min := time.Now().Add(50 * time.Minute); g.Until.Before(min) {
				t.Errorf("deny entry %s until %s; chained sessions live up to an hour after the cut", g.Key, g.Until)
			}
		}
	}
	if len(denied) != 2 {
		t.Errorf("deny entries %v, want both roles JIT manages in the account", denied)
	}
}

// An opted-in chain of two hops is cut at the ticket's end: the session
// policy's end-time deny does not follow a chained session, so the
// expiry writes the ticket's deny entry on every role JIT manages.
func TestOptedInChainCutAtEnd(t *testing.T) {
	e := newChainSystem(t)
	end := time.Now().Add(4 * time.Second)
	id := e.fileFor(t, "Chaining", end)
	jit := e.mint(t, id)
	hop1, hop2 := e.chainTwoHops(t, jit)

	e.waitState(t, id, broker.StateExpired)
	e.waitUndone(t, id)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tk, err := e.sys.svc.Ticket(chainCarol, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, g := range tk.Grants {
			if g.Kind == broker.GrantRoleDeny && g.State == broker.GrantDone {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deny entries after the end: %+v, want both roles", tk.Grants)
		}
	}
	for _, s := range []awsSession{jit, hop1, hop2} {
		mustBeDenied(t, s)
		_, err := e.chain(s, "PowerUserAccess", "again")
		wantCode(t, err, "AccessDenied", s.name+" chaining again after the end")
	}
}

// jitRolesSCP is the SCP of docs/revocation.md for this registry: a
// session carrying a ticket tag may act only as a role JIT manages.
const jitRolesSCP = `{"Version":"2012-10-17","Statement":[{"Sid":"JitTicketSessionsOnlyOnJitRoles","Effect":"Deny","Action":"*","Resource":"*",` +
	`"Condition":{"Null":{"aws:PrincipalTag/jit-ticket":"false"},` +
	`"ArnNotLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/PowerUserAccess","arn:aws:iam::*:role/AdministratorAccess"]}}}]}`

// With role chaining allowed, a chain into a role JIT does not manage
// (ReadOnlyAccess here) escapes the ticket's deny entries: that is what
// the SCP of docs/revocation.md is for. With it, the chained session can
// do nothing there, while chains between JIT's roles keep working.
func TestOptedInChainOutsideJITRoles(t *testing.T) {
	t.Run("without the SCP the chain outlives the ticket", func(t *testing.T) {
		e := newChainSystem(t)
		id := e.fileFor(t, "Chaining", time.Now().Add(time.Hour))
		out, err := e.chain(e.mint(t, id), "ReadOnlyAccess", "outside")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.sys.svc.Terminate(chainCarol, id, "cut"); err != nil {
			t.Fatal(err)
		}
		mustWork(t, out) // the documented gap
	})
	t.Run("with the SCP", func(t *testing.T) {
		e := newChainSystem(t, jitRolesSCP)
		id := e.fileFor(t, "Chaining", time.Now().Add(time.Hour))
		jit := e.mint(t, id)
		mustWork(t, jit)
		hop1, _ := e.chainTwoHops(t, jit)
		out, err := e.chain(hop1, "ReadOnlyAccess", "outside")
		if err != nil {
			t.Fatal(err)
		}
		mustBeDenied(t, out)
		// Sessions without a ticket tag are not the SCP's business.
		brokerUser := e.sessionOf("the broker user", sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")
		plain, err := e.chain(brokerUser, "ReadOnlyAccess", "plain")
		if err != nil {
			t.Fatal(err)
		}
		mustWork(t, plain)
	})
}

// The reproduction with the real binary and the real AWS CLI, as
// in `jit dev`: alice's PowerUserAccess session (role path) tries to
// assume a role that trusts the account, PowerUserAccess itself among
// them, passing jit-ticket=not-revoked. AWS's AccessDenied refuses it;
// after bob terminates, her session is refused too.
func TestRoleChainingWithAWSCLI(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "PowerUserAccess", "--duration", "1h", "--reason", "chain")
	if out, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil {
		t.Fatalf("jit approve: %v\n%s%s", err, out, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	env := awsEnv(h.credentials("alice@example.com", tk.ID))
	if out, err := h.awsCLI(env, "s3api", "list-buckets"); err != nil {
		t.Fatalf("work action while active: %v\n%s", err, out)
	}
	for _, role := range []string{"AdministratorAccess", "PowerUserAccess"} {
		arn := "arn:aws:iam::111111111111:role/" + role
		out, err := h.awsCLI(env, "sts", "assume-role", "--role-arn", arn, "--role-session-name", "escape",
			"--tags", "Key=jit-ticket,Value=not-revoked")
		if err == nil || !strings.Contains(out, "AccessDenied") || !strings.Contains(out, "sts:AssumeRole on resource: "+arn) {
			t.Fatalf("aws sts assume-role %s from a JIT session: err=%v\n%s\nwant AWS's AccessDenied", role, err, out)
		}
	}
	if out, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done"); err != nil {
		t.Fatalf("jit terminate: %v\n%s%s", err, out, errOut)
	}
	if out, err := h.awsCLI(env, "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Fatalf("work action after terminate: err=%v\n%s, want AccessDenied", err, out)
	}
}
