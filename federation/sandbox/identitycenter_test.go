package sandbox

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// icEnv is a sandbox with the Identity Center clients of the broker.
type icEnv struct {
	*env
	admin *ssoadmin.Client
	ids   *identitystore.Client
	org   *organizations.Client
	inst  string // instance ARN
	store string // identity store id
}

func newICEnv(t *testing.T, f Fixture, opt Options) *icEnv {
	t.Helper()
	clock := newClock()
	opt.Now = clock.Now
	sb, err := New(f, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	e := &icEnv{env: &env{sb: sb, url: srv.URL, clock: clock}}
	e.admin, e.ids, e.org = e.icClients(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")
	if f.IdentityCenter != nil {
		out, err := e.admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		if err != nil || len(out.Instances) != 1 {
			t.Fatalf("ListInstances = %+v, %v", out, err)
		}
		e.inst, e.store = aws.ToString(out.Instances[0].InstanceArn), aws.ToString(out.Instances[0].IdentityStoreId)
	}
	return e
}

func (e *icEnv) cfg(akid, secret, token string) aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token)}
}

func (e *icEnv) icClients(akid, secret, token string) (*ssoadmin.Client, *identitystore.Client, *organizations.Client) {
	cfg := e.cfg(akid, secret, token)
	return ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(e.url) }),
		identitystore.NewFromConfig(cfg, func(o *identitystore.Options) { o.BaseEndpoint = aws.String(e.url) }),
		organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(e.url) })
}

// portal is the access portal client (no credentials: bearer tokens).
func (e *icEnv) portal() *sso.Client {
	return sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.url)})
}

// s3Of is an S3 client for portal credentials.
func (e *icEnv) s3Of(rc *sso.GetRoleCredentialsOutput) *s3.Client {
	c := rc.RoleCredentials
	return s3.NewFromConfig(e.cfg(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)),
		func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
}

// permSetARN finds a permission set by name.
func (e *icEnv) permSetARN(t *testing.T, name string) string {
	t.Helper()
	p := ssoadmin.NewListPermissionSetsPaginator(e.admin, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.inst)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, arn := range out.PermissionSets {
			d, err := e.admin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(arn)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(d.PermissionSet.Name) == name {
				return arn
			}
		}
	}
	t.Fatalf("no permission set %s", name)
	return ""
}

// userID resolves a user name with GetUserId.
func (e *icEnv) userID(t *testing.T, name string) string {
	t.Helper()
	out, err := e.ids.GetUserId(ctx, getUserIDInput(e.store, "userName", name))
	if err != nil {
		t.Fatalf("GetUserId(%s): %v", name, err)
	}
	return aws.ToString(out.UserId)
}

func assignmentInput(inst, account, psARN string, ptype ssotypes.PrincipalType, pid string) *ssoadmin.CreateAccountAssignmentInput {
	return &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: aws.String(inst), TargetId: aws.String(account), TargetType: ssotypes.TargetTypeAwsAccount,
		PermissionSetArn: aws.String(psARN), PrincipalType: ptype, PrincipalId: aws.String(pid),
	}
}

func deleteInput(in *ssoadmin.CreateAccountAssignmentInput) *ssoadmin.DeleteAccountAssignmentInput {
	return &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: in.InstanceArn, TargetId: in.TargetId, TargetType: in.TargetType,
		PermissionSetArn: in.PermissionSetArn, PrincipalType: in.PrincipalType, PrincipalId: in.PrincipalId}
}

// pollCreation polls the creation status, advancing the sandbox clock by
// step between polls, and returns every status seen.
func (e *icEnv) pollCreation(t *testing.T, reqID *string, step time.Duration) (seen []ssotypes.StatusValues, last *ssotypes.AccountAssignmentOperationStatus) {
	t.Helper()
	for range 100 {
		out, err := e.admin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: aws.String(e.inst), AccountAssignmentCreationRequestId: reqID})
		if err != nil {
			t.Fatalf("DescribeAccountAssignmentCreationStatus: %v", err)
		}
		st := out.AccountAssignmentCreationStatus
		seen = append(seen, st.Status)
		if st.Status != ssotypes.StatusValuesInProgress {
			return seen, st
		}
		e.clock.Advance(step)
	}
	t.Fatal("assignment creation never completed")
	return nil, nil
}

func (e *icEnv) pollDeletion(t *testing.T, reqID *string) ssotypes.StatusValues {
	t.Helper()
	for range 100 {
		out, err := e.admin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
			InstanceArn: aws.String(e.inst), AccountAssignmentDeletionRequestId: reqID})
		if err != nil {
			t.Fatalf("DescribeAccountAssignmentDeletionStatus: %v", err)
		}
		if s := out.AccountAssignmentDeletionStatus.Status; s != ssotypes.StatusValuesInProgress {
			return s
		}
		e.clock.Advance(time.Second)
	}
	t.Fatal("assignment deletion never completed")
	return ""
}

func (e *icEnv) provision(t *testing.T, psARN, account string) {
	t.Helper()
	out, err := e.admin.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: aws.String(e.inst),
		PermissionSetArn: aws.String(psARN), TargetType: ssotypes.ProvisionTargetTypeAwsAccount, TargetId: aws.String(account)})
	if err != nil {
		t.Fatalf("ProvisionPermissionSet: %v", err)
	}
	if out.PermissionSetProvisioningStatus.Status != ssotypes.StatusValuesInProgress {
		t.Errorf("ProvisionPermissionSet status = %s, want IN_PROGRESS", out.PermissionSetProvisioningStatus.Status)
	}
	for range 100 {
		d, err := e.admin.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: aws.String(e.inst), ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
		if err != nil {
			t.Fatal(err)
		}
		if d.PermissionSetProvisioningStatus.Status == ssotypes.StatusValuesSucceeded {
			return
		}
		e.clock.Advance(time.Second)
	}
	t.Fatal("provisioning never completed")
}

// assign creates an assignment and waits for SUCCEEDED.
func (e *icEnv) assign(t *testing.T, in *ssoadmin.CreateAccountAssignmentInput) {
	t.Helper()
	out, err := e.admin.CreateAccountAssignment(ctx, in)
	if err != nil {
		t.Fatalf("CreateAccountAssignment: %v", err)
	}
	if _, st := e.pollCreation(t, out.AccountAssignmentCreationStatus.RequestId, time.Second); st.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("assignment ended %s (%s)", st.Status, aws.ToString(st.FailureReason))
	}
}

func TestIdentityCenterFixture(t *testing.T) {
	f := DemoFixture()
	ic := f.IdentityCenter
	if ic == nil || len(ic.PermissionSets) != 3 || len(ic.Users) != 4 || len(ic.Groups) != 3 {
		t.Fatalf("DemoFixture().IdentityCenter = %+v", ic)
	}
	for _, ps := range ic.PermissionSets {
		var rolePolicy string
		for _, r := range f.Roles {
			if r.Account == "111111111111" && r.Name == ps.Name {
				rolePolicy = r.Policies[r.Name]
			}
		}
		if ps.InlinePolicy == "" || ps.InlinePolicy != rolePolicy {
			t.Errorf("permission set %s policy = %q, want the demo role's %q", ps.Name, ps.InlinePolicy, rolePolicy)
		}
	}

	write := func(t *testing.T, body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "fixture.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `
accounts:
  - {id: "111111111111", name: dev, email: dev@example.com}
identity_center:
  permission_sets:
    - {name: ReadOnly, session_duration: PT8H, inline_policy: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:List*","Resource":"*"}}'}
  users:
    - {user_name: alice, email: alice@example.com}
  groups:
    - {name: eng, members: [alice]}
`
	got, err := LoadFixture(write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if got.IdentityCenter == nil || got.IdentityCenter.PermissionSets[0].SessionDuration != "PT8H" {
		t.Errorf("LoadFixture identity_center = %+v", got.IdentityCenter)
	}
	sb, err := New(got, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if in := sb.ic.instance; !instanceARNRe.MatchString(in.arn) || !regexpMatch(`^d-[0-9a-f]{10}$`, in.storeID) ||
		!principalIDRe.MatchString(in.users[0].id) || !permissionSetARNRe.MatchString(in.permSets[0].arn) || in.users[0].DisplayName != "alice" {
		t.Errorf("defaults: arn %s store %s user %s ps %s", in.arn, in.storeID, in.users[0].id, in.permSets[0].arn)
	}

	const acct = "accounts: [{id: \"111111111111\"}]\n"
	bad := map[string]struct{ body, field string }{
		"unknown key":    {acct + "identity_center: {users: [{user_name: a, email: a@example.com, mail: x}]}", "mail"},
		"instance arn":   {acct + "identity_center: {instance_arn: arn:aws:sso:::instance/bad}", "identity_center.instance_arn"},
		"store id":       {acct + "identity_center: {identity_store_id: d-XYZ}", "identity_center.identity_store_id"},
		"owner":          {acct + "identity_center: {owner_account: \"222222222222\"}", "identity_center.owner_account"},
		"ps name":        {acct + "identity_center: {permission_sets: [{name: \"bad name\"}]}", "identity_center.permission_sets[0].name"},
		"ps duplicate":   {acct + "identity_center: {permission_sets: [{name: A}, {name: a}]}", "identity_center.permission_sets[1].name"},
		"duration":       {acct + "identity_center: {permission_sets: [{name: A, session_duration: PT13H}]}", "identity_center.permission_sets[0].session_duration"},
		"duration shape": {acct + "identity_center: {permission_sets: [{name: A, session_duration: 8h}]}", "identity_center.permission_sets[0].session_duration"},
		"policy":         {acct + "identity_center: {permission_sets: [{name: A, inline_policy: \"{}\"}]}", "identity_center.permission_sets[0].inline_policy"},
		"email":          {acct + "identity_center: {users: [{user_name: a, email: nope}]}", "identity_center.users[0].email"},
		"user duplicate": {acct + "identity_center: {users: [{user_name: a, email: a@example.com}, {user_name: A, email: b@example.com}]}", "identity_center.users[1].user_name"},
		"member":         {acct + "identity_center: {groups: [{name: g, members: [zed]}]}", "identity_center.groups[0].members[0]"},
		"account email":  {"accounts: [{id: \"111111111111\", email: x}]", "accounts[0].email"},
	}
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFixture(write(t, tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("LoadFixture = %v, want an error naming %s", err, tt.field)
			}
		})
	}
}

func regexpMatch(re, s string) bool { return modelRe(strings.Trim(re, "^$")).MatchString(s) }
