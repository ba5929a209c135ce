package federation_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/internal/fake"
)

func (e *icEnv) portalDeny(ic *federation.IdentityCenter) *federation.PortalDeny {
	return &federation.PortalDeny{
		SSOAdmin: e.sso, Users: ic, InstanceARN: e.inst, Clock: e.clock,
		Limiter: federation.NewLocalLimiter(1000, 10), PollInterval: time.Millisecond, Timeout: 20 * time.Second,
	}
}

// portalS3 signs in to the access portal as user, takes credentials for
// the permission set in the account and returns an S3 client using them.
func (e *icEnv) portalS3(t *testing.T, user, ps, account string) *s3.Client {
	t.Helper()
	ctx := context.Background()
	tok, err := e.sb.PortalToken(user)
	if err != nil {
		t.Fatal(err)
	}
	portal := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url), Retryer: aws.NopRetryer{}})
	out, err := portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(tok), AccountId: aws.String(account), RoleName: aws.String(ps),
	})
	if err != nil {
		t.Fatalf("portal credentials for %s: %v", user, err)
	}
	c := out.RoleCredentials
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
}

func listBuckets(c *s3.Client) error {
	_, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	return err
}

// inlinePolicy returns the permission set's inline policy as the sandbox holds it.
func (e *icEnv) inlinePolicy(t *testing.T, ps string) string {
	t.Helper()
	out, err := e.admin.GetInlinePolicyForPermissionSet(context.Background(), &ssoadmin.GetInlinePolicyForPermissionSetInput{
		InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(e.ps[ps]),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.InlinePolicy)
}

func (e *icEnv) putInlinePolicy(t *testing.T, ps, doc string) {
	t.Helper()
	_, err := e.admin.PutInlinePolicyToPermissionSet(context.Background(), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(e.ps[ps]), InlinePolicy: aws.String(doc),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// statements returns the policy's statements by Sid ("" for those without),
// each compacted.
func statements(t *testing.T, doc string) (sids []string, raw []string) {
	t.Helper()
	var p struct{ Statement []json.RawMessage }
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	for _, st := range p.Statement {
		var s struct{ Sid string }
		json.Unmarshal(st, &s)
		sids = append(sids, s.Sid)
		raw = append(raw, string(st))
	}
	return sids, raw
}

func jitSids(sids []string) []string {
	var out []string
	for _, s := range sids {
		if strings.HasPrefix(s, federation.PortalDenySidPrefix) {
			out = append(out, s)
		}
	}
	return out
}

// A portal session works, is refused once CutPortal returns (no
// propagation delay), and a session issued after the cut works; another
// user's session of the same permission set is untouched.
func TestCutPortalSessions(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetPropagationDelay(0)
	ic := e.ic()
	const acct = "222222222222"
	for _, u := range []string{"alice@example.com", "bob@example.com"} {
		if err := ic.Assign(ctx, e.assignment(u, "ReadOnlyAccess", acct)); err != nil {
			t.Fatal(err)
		}
	}
	old := e.portalS3(t, "alice", "ReadOnlyAccess", acct)
	bob := e.portalS3(t, "bob", "ReadOnlyAccess", acct)
	if err := listBuckets(old); err != nil {
		t.Fatalf("portal session before the cut: %v", err)
	}
	e.clock.Advance(time.Second)
	cut := broker.PortalCut{
		Assignment: e.assignment("alice@example.com", "ReadOnlyAccess", acct),
		TicketID:   "tkt1",
		Before:     e.clock.Now(),
		Until:      e.clock.Now().Add(8 * time.Hour),
	}
	pd := e.portalDeny(ic)
	if err := pd.CutPortal(ctx, cut); err != nil {
		t.Fatal(err)
	}
	if err := pd.CutPortal(ctx, cut); err != nil { // repeating is harmless
		t.Fatalf("repeated CutPortal: %v", err)
	}
	if err := listBuckets(old); apiErrCode(err) != "AccessDenied" {
		t.Fatalf("session issued before the cut: got %v, want AccessDenied", err)
	}
	if err := listBuckets(bob); err != nil {
		t.Errorf("another user's session was cut too: %v", err)
	}
	e.clock.Advance(time.Second)
	if err := listBuckets(e.portalS3(t, "alice", "ReadOnlyAccess", acct)); err != nil {
		t.Errorf("session issued after the cut: %v", err)
	}
	sids, _ := statements(t, e.inlinePolicy(t, "ReadOnlyAccess"))
	if got := jitSids(sids); len(got) != 1 {
		t.Errorf("JIT statements %v, want exactly one after a repeated cut", got)
	}
}

// The deny names the account: the same user's sessions of the permission
// set in another account keep working.
func TestCutPortalOneAccountOnly(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	ic := e.ic()
	for _, acct := range []string{"111111111111", "333333333333"} {
		if err := ic.Assign(ctx, e.assignment("carol@example.com", "PowerUserAccess", acct)); err != nil {
			t.Fatal(err)
		}
	}
	here := e.portalS3(t, "carol", "PowerUserAccess", "111111111111")
	there := e.portalS3(t, "carol", "PowerUserAccess", "333333333333")
	e.clock.Advance(time.Second)
	pd := e.portalDeny(ic)
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: e.assignment("carol@example.com", "PowerUserAccess", "111111111111"),
		Before: e.clock.Now(), Until: e.clock.Now().Add(4 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Provisioning the permission set to the other account as well (an
	// administrator's "provision all") must not cut carol there.
	prov, err := e.admin.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{
		InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(e.ps["PowerUserAccess"]),
		TargetType: ssotypes.ProvisionTargetTypeAwsAccount, TargetId: aws.String("333333333333"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for st := prov.PermissionSetProvisioningStatus; st.Status != ssotypes.StatusValuesSucceeded; {
		out, err := e.admin.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: aws.String(e.inst), ProvisionPermissionSetRequestId: st.RequestId,
		})
		if err != nil {
			t.Fatal(err)
		}
		st = out.PermissionSetProvisioningStatus
	}
	if err := listBuckets(here); apiErrCode(err) != "AccessDenied" {
		t.Errorf("cut account: got %v, want AccessDenied", err)
	}
	if err := listBuckets(there); err != nil {
		t.Errorf("other account: %v", err)
	}
}

// What administrators wrote in the inline policy survives every change,
// byte for byte (compacted), including characters JSON encoders like to
// escape; a single statement not wrapped in a list is read too.
func TestCutPortalKeepsAdminStatements(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	ic := e.ic()
	admin := `{"Version":"2012-10-17","Id":"team-policy","Statement":{"Sid":"AdminNoDelete","Effect":"Deny",` +
		`"Action":["s3:DeleteObject"],"Resource":"arn:aws:s3:::logs/<team>&*","Condition":{"StringLike":{"aws:userid":"*:ops+<x>"}}}}`
	e.putInlinePolicy(t, "AdministratorAccess", admin)
	pd := e.portalDeny(ic)
	for i, u := range []string{"alice@example.com", "bob@example.com"} {
		e.clock.Advance(time.Second)
		c := broker.PortalCut{Assignment: e.assignment(u, "AdministratorAccess", "111111111111"),
			Before: e.clock.Now(), Until: e.clock.Now().Add(time.Duration(i+1) * time.Hour)}
		if err := pd.CutPortal(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	doc := e.inlinePolicy(t, "AdministratorAccess")
	sids, raw := statements(t, doc)
	if sids[0] != "AdminNoDelete" || !strings.Contains(raw[0], `"arn:aws:s3:::logs/<team>&*"`) || !strings.Contains(raw[0], `"*:ops+<x>"`) {
		t.Errorf("administrator's statement changed: %s", raw[0])
	}
	if !strings.Contains(doc, `"Id":"team-policy"`) {
		t.Errorf("policy Id lost: %s", doc)
	}
	if got := jitSids(sids); len(got) != 2 {
		t.Errorf("JIT statements %v, want 2 (different cut times)", got)
	}
	if n := federation.PolicyChars(doc); n > federation.MaxInlinePolicyChars {
		t.Errorf("policy is %d characters", n)
	}
}

// A second cut of the same user replaces the first entry: one statement,
// with the later cut time.
func TestCutPortalMergesSameUser(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	pd := e.portalDeny(e.ic())
	a := e.assignment("dave@example.com", "ReadOnlyAccess", "333333333333")
	first := e.clock.Now()
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, Before: first, Until: first.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	second := e.clock.Now()
	if err := pd.CutPortal(ctx, broker.PortalCut{Assignment: a, Before: second, Until: second.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	doc := e.inlinePolicy(t, "ReadOnlyAccess")
	sids, _ := statements(t, doc)
	got := jitSids(sids)
	if len(got) != 1 || !strings.Contains(got[0], second.UTC().Format("20060102150405")) {
		t.Errorf("JIT statements %v, want one with the second cut time %s", got, second.UTC().Format(time.RFC3339))
	}
	if !strings.Contains(doc, `"aws:TokenIssueTime":"`+second.UTC().Format(time.RFC3339)+`"`) {
		t.Errorf("policy %s does not deny sessions before %s", doc, second.UTC().Format(time.RFC3339))
	}
}

// Prune removes JIT statements whose sessions have all expired, keeps the
// others and every administrator's statement, and does nothing at all
// when nothing has expired.
func TestPortalDenyPrune(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	pd := e.portalDeny(e.ic())
	start := e.clock.Now()
	for i, u := range []string{"alice@example.com", "bob@example.com"} {
		c := broker.PortalCut{Assignment: e.assignment(u, "PowerUserAccess", "222222222222"),
			Before: start, Until: start.Add(time.Duration(1+3*i) * time.Hour)} // 1 h and 4 h
		if err := pd.CutPortal(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	before := e.inlinePolicy(t, "PowerUserAccess")
	sids, _ := statements(t, before)
	if got := jitSids(sids); len(got) != 2 {
		t.Fatalf("JIT statements %v, want 2 (different expiry hours)", got)
	}
	_, adminRaw := statements(t, `{"Statement":`+mustStatements(t, before, false)+`}`)

	// Nothing has expired yet: no write, no provisioning.
	puts, provs := e.sso.count("PutInlinePolicyToPermissionSet"), e.sso.count("ProvisionPermissionSet")
	if _, err := pd.Prune(ctx, e.ps["PowerUserAccess"], "222222222222"); err != nil {
		t.Fatal(err)
	}
	if e.sso.count("PutInlinePolicyToPermissionSet") != puts || e.sso.count("ProvisionPermissionSet") != provs {
		t.Error("Prune with nothing expired changed the policy")
	}

	// Three hours later (for PortalDeny; the sandbox keeps its clock so
	// the SDK's signatures stay within its skew window).
	pd.Clock = fake.NewClock(start.Add(3 * time.Hour))
	if _, err := pd.Prune(ctx, e.ps["PowerUserAccess"], "222222222222"); err != nil {
		t.Fatal(err)
	}
	after := e.inlinePolicy(t, "PowerUserAccess")
	sids, raw := statements(t, after)
	jit := jitSids(sids)
	// The Sid names the whole hour from which the statement may go.
	hour := start.Add(4 * time.Hour).UTC()
	if hour.Truncate(time.Hour) != hour {
		hour = hour.Truncate(time.Hour).Add(time.Hour)
	}
	if len(jit) != 1 || !strings.HasPrefix(jit[0], federation.PortalDenySidPrefix+hour.Format("2006010215")) {
		t.Errorf("after pruning, JIT statements %v; want only the one that may go at %s", jit, hour)
	}
	if got := len(raw) - len(jit); got != len(adminRaw) {
		t.Errorf("%d administrator statements after pruning, want %d", got, len(adminRaw))
	}
	for i, r := range adminRaw {
		if raw[i] != r {
			t.Errorf("administrator statement %d changed:\n got %s\nwant %s", i, raw[i], r)
		}
	}

	// Everything expired and no administrator statement: only JIT's
	// chaining deny stays (JIT keeps it for the permission sets it manages).
	e.putInlinePolicy(t, "PowerUserAccess", `{"Version":"2012-10-17","Statement":`+mustStatements(t, after, true)+`}`)
	pd.Clock = fake.NewClock(start.Add(6 * time.Hour))
	if _, err := pd.Prune(ctx, e.ps["PowerUserAccess"], "222222222222"); err != nil {
		t.Fatal(err)
	}
	if sids, _ := statements(t, e.inlinePolicy(t, "PowerUserAccess")); len(sids) != 1 || sids[0] != federation.NoChainingSid {
		t.Errorf("statements after pruning everything: %v, want only %s", sids, federation.NoChainingSid)
	}
}

// mustStatements returns the JSON list of doc's statements that are
// (jit) or are not (!jit) JIT's.
func mustStatements(t *testing.T, doc string, jit bool) string {
	t.Helper()
	sids, raw := statements(t, doc)
	var keep []string
	for i, s := range sids {
		if strings.HasPrefix(s, federation.PortalDenySidPrefix) == jit {
			keep = append(keep, raw[i])
		}
	}
	return "[" + strings.Join(keep, ",") + "]"
}

// A cut that would take the inline policy over its budget fails clearly
// and changes nothing.
func TestCutPortalTooLarge(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	// An administrator's policy just under the budget.
	var actions []string
	for i := 0; len(strings.Join(actions, `","`)) < 10000; i++ {
		actions = append(actions, "s3:GetObjectVersionTagging"+strings.Repeat("x", i%10))
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Deny","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
	if n := federation.PolicyChars(doc); n > federation.MaxInlinePolicyChars {
		t.Fatalf("fixture policy is %d characters, over the budget", n)
	}
	e.putInlinePolicy(t, "ReadOnlyAccess", doc)
	pd := e.portalDeny(e.ic())
	err := pd.CutPortal(ctx, broker.PortalCut{Assignment: e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111"),
		Before: e.clock.Now(), Until: e.clock.Now().Add(time.Hour)})
	if broker.ErrorCode(err) != broker.ETOOLARGE {
		t.Fatalf("got %v, want code %s", err, broker.ETOOLARGE)
	}
	if !strings.Contains(broker.ErrorMessage(err), "10240") {
		t.Errorf("message %q does not name the budget", broker.ErrorMessage(err))
	}
	if got := e.inlinePolicy(t, "ReadOnlyAccess"); got != doc {
		t.Error("the inline policy changed")
	}
}

func TestCutPortalUnknownUser(t *testing.T) {
	e := newICEnv(t)
	err := e.portalDeny(e.ic()).CutPortal(context.Background(), broker.PortalCut{
		Assignment: e.assignment("nobody@example.com", "ReadOnlyAccess", "111111111111"), Before: e.clock.Now()})
	if broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("got %v, want code %s", err, broker.ENOTFOUND)
	}
}
