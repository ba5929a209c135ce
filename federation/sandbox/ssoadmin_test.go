package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpOpts compares SDK output types, which carry unexported fields.
var cmpOpts = cmpopts.IgnoreUnexported(ssotypes.AccountAssignment{})

const (
	devAccount  = "111111111111"
	prodAccount = "333333333333"
)

// TestSSOAdminConformance runs every sso-admin operation through the real
// SDK client, for its result or its error code and message.
func TestSSOAdminConformance(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	inst := aws.String(e.inst)
	psID := ro[strings.LastIndex(ro, "/")+1:]
	unknownPS := strings.Replace(ro, psID, "ps-0000000000000000", 1)
	unknownInst := "arn:aws:sso:::instance/ssoins-0000000000000000"
	const unknownUser = "9067000001-00000000-0000-4000-a000-000000000000"

	// A non-admin session (ReadOnlyAccess allows no sso:* action).
	roSession := ticketSession(t, e.env, devReadOnly, "t1", "alice", nil).Credentials
	roAdmin, _, _ := e.icClients(aws.ToString(roSession.AccessKeyId), aws.ToString(roSession.SecretAccessKey), aws.ToString(roSession.SessionToken))
	// A session in a member account that policy allows: still not the
	// instance's account.
	stagingAdmin := assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/AdministratorAccess"),
		RoleSessionName: aws.String("member")}).Credentials
	memberAdmin, _, _ := e.icClients(aws.ToString(stagingAdmin.AccessKeyId), aws.ToString(stagingAdmin.SecretAccessKey), aws.ToString(stagingAdmin.SessionToken))

	tests := []struct {
		name     string
		call     func() error
		code     string
		contains string
	}{
		{"ListInstances ok", func() error {
			out, err := e.admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
			if err == nil && (len(out.Instances) != 1 || aws.ToString(out.Instances[0].OwnerAccountId) != devAccount ||
				out.Instances[0].Status != ssotypes.InstanceStatusActive || aws.ToString(out.Instances[0].IdentityStoreId) != "d-9067000001") {
				return fmt.Errorf("ListInstances = %+v", out.Instances)
			}
			return err
		}, "", ""},
		{"ListInstances MaxResults 0", func() error {
			_, err := e.admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(0)})
			return err
		}, "ValidationException", "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"ListInstances member account sees none", func() error {
			out, err := memberAdmin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
			if err == nil && len(out.Instances) != 0 {
				return fmt.Errorf("member ListInstances = %+v", out.Instances)
			}
			return err
		}, "", ""},
		{"ListPermissionSets paged", func() error {
			out, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, MaxResults: aws.Int32(2)})
			if err != nil {
				return err
			}
			out2, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, MaxResults: aws.Int32(2), NextToken: out.NextToken})
			if err != nil {
				return err
			}
			if len(out.PermissionSets) != 2 || out.NextToken == nil || len(out2.PermissionSets) != 1 || out2.NextToken != nil || out.PermissionSets[0] != ro {
				return fmt.Errorf("pages %v %v / %v %v", out.PermissionSets, out.NextToken, out2.PermissionSets, out2.NextToken)
			}
			return nil
		}, "", ""},
		{"ListPermissionSets MaxResults 101", func() error {
			_, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, MaxResults: aws.Int32(101)})
			return err
		}, "ValidationException", "Value '101' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"},
		{"ListPermissionSets bad token", func() error {
			_, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, NextToken: aws.String("bm9wZQ==")})
			return err
		}, "ValidationException", "NextToken"},
		{"ListPermissionSets bad instance ARN", func() error {
			_, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String("arn:aws:sso:::instance/x")})
			return err
		}, "ValidationException", "Value 'arn:aws:sso:::instance/x' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}"},
		{"ListPermissionSets unknown instance", func() error {
			_, err := e.admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(unknownInst)})
			return err
		}, "ResourceNotFoundException", unknownInst},
		{"ListPermissionSets denied by policy", func() error {
			_, err := roAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst})
			return err
		}, "AccessDeniedException", "User: arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/jit-t1-alice is not authorized to perform: sso:ListPermissionSets on resource: " + e.inst + " because no identity-based policy allows the sso:ListPermissionSets action"},
		{"ListPermissionSets member account", func() error {
			_, err := memberAdmin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst})
			return err
		}, "AccessDeniedException", "sso:ListPermissionSets"},
		{"DescribePermissionSet ok", func() error {
			out, err := e.admin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ro)})
			if err == nil && (aws.ToString(out.PermissionSet.Name) != "ReadOnlyAccess" || aws.ToString(out.PermissionSet.SessionDuration) != "PT8H" ||
				aws.ToString(out.PermissionSet.Description) == "" || out.PermissionSet.CreatedDate == nil) {
				return fmt.Errorf("DescribePermissionSet = %+v", out.PermissionSet)
			}
			return err
		}, "", ""},
		{"DescribePermissionSet unknown", func() error {
			_, err := e.admin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(unknownPS)})
			return err
		}, "ResourceNotFoundException", unknownPS},
		{"GetInlinePolicy ok", func() error {
			out, err := e.admin.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ro)})
			if err == nil && !strings.Contains(aws.ToString(out.InlinePolicy), `"s3:List*"`) {
				return fmt.Errorf("GetInlinePolicy = %q", aws.ToString(out.InlinePolicy))
			}
			return err
		}, "", ""},
		{"PutInlinePolicy malformed", func() error {
			_, err := e.admin.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ro), InlinePolicy: aws.String(`{"Statement":[]}`)})
			return err
		}, "ValidationException", "malformed"},
		{"Create TargetId 11 digits, TargetType, PrincipalType", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: inst, TargetId: aws.String("11111111111"),
				TargetType: "ACCOUNT", PermissionSetArn: aws.String(ro), PrincipalType: "ROLE", PrincipalId: aws.String(alice)})
			return err
		}, "ValidationException", "4 validation errors detected: Value '11111111111' at 'targetId' failed to satisfy constraint: Member must have length greater than or equal to 12; " +
			"Value '11111111111' at 'targetId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}; " +
			"Value 'ACCOUNT' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]; " +
			"Value 'ROLE' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]"},
		{"Create bad principal id", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, "alice"))
			return err
		}, "ValidationException", "Value 'alice' at 'principalId' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"Create unknown user", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, unknownUser))
			return err
		}, "ResourceNotFoundException", unknownUser},
		{"Create user id as group", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeGroup, alice))
			return err
		}, "ResourceNotFoundException", alice},
		{"Create unknown account", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, "999999999999", ro, ssotypes.PrincipalTypeUser, alice))
			return err
		}, "ResourceNotFoundException", "999999999999"},
		{"Create unknown permission set", func() error {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, unknownPS, ssotypes.PrincipalTypeUser, alice))
			return err
		}, "ResourceNotFoundException", unknownPS},
		{"Create denied by policy", func() error {
			_, err := roAdmin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, alice))
			return err
		}, "AccessDeniedException", "sso:CreateAccountAssignment on resource: " + ro},
		{"Delete missing assignment", func() error {
			_, err := e.admin.DeleteAccountAssignment(ctx, deleteInput(assignmentInput(e.inst, prodAccount, ro, ssotypes.PrincipalTypeUser, alice)))
			return err
		}, "ResourceNotFoundException", "does not exist"},
		{"DescribeCreationStatus unknown request", func() error {
			_, err := e.admin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: inst,
				AccountAssignmentCreationRequestId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "ResourceNotFoundException", "00000000-0000-4000-8000-000000000000"},
		{"DescribeCreationStatus malformed request id", func() error {
			_, err := e.admin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: inst,
				AccountAssignmentCreationRequestId: aws.String("nope")})
			return err
		}, "ValidationException", "at 'accountAssignmentCreationRequestId'"},
		{"DescribeDeletionStatus unknown request", func() error {
			_, err := e.admin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: inst,
				AccountAssignmentDeletionRequestId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "ResourceNotFoundException", ""},
		{"ListAccountAssignments empty", func() error {
			out, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: inst, AccountId: aws.String(prodAccount), PermissionSetArn: aws.String(ro)})
			if err == nil && len(out.AccountAssignments) != 0 {
				return fmt.Errorf("ListAccountAssignments = %+v", out.AccountAssignments)
			}
			return err
		}, "", ""},
		{"ListAccountAssignments bad account", func() error {
			_, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: inst, AccountId: aws.String("12345678901a"), PermissionSetArn: aws.String(ro)})
			return err
		}, "ValidationException", "Value '12345678901a' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}"},
		{"Provision AWS_ACCOUNT without TargetId", func() error {
			_, err := e.admin.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ro), TargetType: ssotypes.ProvisionTargetTypeAwsAccount})
			return err
		}, "ValidationException", "TargetId"},
		{"Provision unknown account", func() error {
			_, err := e.admin.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(ro),
				TargetType: ssotypes.ProvisionTargetTypeAwsAccount, TargetId: aws.String("999999999999")})
			return err
		}, "ResourceNotFoundException", "999999999999"},
		{"DescribeProvisioningStatus unknown", func() error {
			_, err := e.admin.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: inst,
				ProvisionPermissionSetRequestId: aws.String("00000000-0000-4000-8000-000000000000")})
			return err
		}, "ResourceNotFoundException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %s", tt.code)
			}
			code, msg := apiCode(t, err)
			if code != tt.code || !strings.Contains(msg, tt.contains) {
				t.Errorf("got %s %q, want %s containing %q", code, msg, tt.code, tt.contains)
			}
		})
	}
}

// TestAssignmentLifecycle: create -> IN_PROGRESS (polled) -> SUCCEEDED,
// idempotent re-creation, conflict while in progress, list, delete.
func TestAssignmentLifecycle(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	in := assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, alice)

	out, err := e.admin.CreateAccountAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	st := out.AccountAssignmentCreationStatus
	if st.Status != ssotypes.StatusValuesInProgress || !uuidRe.MatchString(aws.ToString(st.RequestId)) || aws.ToString(st.TargetId) != devAccount ||
		st.TargetType != ssotypes.TargetTypeAwsAccount || aws.ToString(st.PrincipalId) != alice || st.CreatedDate == nil {
		t.Errorf("CreateAccountAssignment status = %+v", st)
	}
	// Not listed while in progress; a second write conflicts.
	list := func() []ssotypes.AccountAssignment {
		t.Helper()
		l, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.inst), AccountId: aws.String(devAccount), PermissionSetArn: aws.String(ro)})
		if err != nil {
			t.Fatal(err)
		}
		return l.AccountAssignments
	}
	if l := list(); len(l) != 0 {
		t.Errorf("listed while IN_PROGRESS: %+v", l)
	}
	_, err = e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, e.userID(t, "bob")))
	if code, _ := apiCode(t, err); code != "ConflictException" {
		t.Errorf("overlapping create: %v, want ConflictException", err)
	}
	_, err = e.admin.DeleteAccountAssignment(ctx, deleteInput(in))
	if code, _ := apiCode(t, err); code != "ConflictException" {
		t.Errorf("overlapping delete: %v, want ConflictException", err)
	}
	// Another account or permission set does not conflict.
	e.assign(t, assignmentInput(e.inst, prodAccount, ro, ssotypes.PrincipalTypeUser, alice))

	seen, _ := e.pollCreation(t, st.RequestId, time.Second)
	if diff := cmp.Diff([]ssotypes.StatusValues{"IN_PROGRESS", "SUCCEEDED"}, seen); diff != "" {
		t.Errorf("statuses without a delay (-want +got):\n%s", diff)
	}
	want := []ssotypes.AccountAssignment{{AccountId: aws.String(devAccount), PermissionSetArn: aws.String(ro), PrincipalType: "USER", PrincipalId: aws.String(alice)}}
	if diff := cmp.Diff(want, list(), cmpOpts); diff != "" {
		t.Errorf("ListAccountAssignments (-want +got):\n%s", diff)
	}
	// The role was provisioned, and IAM refuses to change it.
	rs := e.sb.ic.instance.byARN[ro].roles[devAccount]
	if rs == nil || !strings.HasPrefix(rs.Name, "AWSReservedSSO_ReadOnlyAccess_") || rs.Path != "/aws-reserved/sso.amazonaws.com/" {
		t.Fatalf("provisioned role = %+v", rs)
	}
	got, err := e.broker().iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rs.Name)})
	if err != nil || aws.ToString(got.Role.Path) != ssoRolePath {
		t.Errorf("GetRole(%s) = %+v, %v", rs.Name, got, err)
	}
	_, err = e.broker().iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(rs.Name), PolicyName: aws.String("x"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`)})
	wantAPIError(t, err, "UnmodifiableEntity", "Cannot perform the operation on the protected role '"+rs.Name+"' - this role is only modifiable by AWS")

	// Creating it again succeeds (idempotent), with a new request.
	again, err := e.admin.CreateAccountAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, last := e.pollCreation(t, again.AccountAssignmentCreationStatus.RequestId, time.Second); last.Status != ssotypes.StatusValuesSucceeded {
		t.Errorf("re-create ended %s", last.Status)
	}
	if l := list(); len(l) != 1 {
		t.Errorf("after re-create: %+v", l)
	}

	del, err := e.admin.DeleteAccountAssignment(ctx, deleteInput(in))
	if err != nil {
		t.Fatal(err)
	}
	if del.AccountAssignmentDeletionStatus.Status != ssotypes.StatusValuesInProgress {
		t.Errorf("delete status = %s", del.AccountAssignmentDeletionStatus.Status)
	}
	if s := e.pollDeletion(t, del.AccountAssignmentDeletionStatus.RequestId); s != ssotypes.StatusValuesSucceeded {
		t.Errorf("deletion ended %s", s)
	}
	if l := list(); len(l) != 0 {
		t.Errorf("after delete: %+v", l)
	}
	// The creation request is still describable, the deletion request
	// is not a creation request.
	_, err = e.admin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: aws.String(e.inst), AccountAssignmentCreationRequestId: del.AccountAssignmentDeletionStatus.RequestId})
	if code, _ := apiCode(t, err); code != "ResourceNotFoundException" {
		t.Errorf("deletion id as creation id: %v", err)
	}
}

// TestAssignmentDelay: with a delay the status is IN_PROGRESS until it has
// passed on the sandbox clock; a configured failure ends FAILED.
func TestAssignmentDelay(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{AssignmentDelay: 10 * time.Second})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	out, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, alice))
	if err != nil {
		t.Fatal(err)
	}
	seen, _ := e.pollCreation(t, out.AccountAssignmentCreationStatus.RequestId, 4*time.Second)
	if diff := cmp.Diff([]ssotypes.StatusValues{"IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"}, seen); diff != "" {
		t.Errorf("statuses with a 10 s delay polled every 4 s (-want +got):\n%s", diff)
	}

	e.sb.SetAssignmentBehaviour(5*time.Second, "FAILED")
	pu := e.permSetARN(t, "PowerUserAccess")
	out, err = e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, pu, ssotypes.PrincipalTypeUser, alice))
	if err != nil {
		t.Fatal(err)
	}
	seen, last := e.pollCreation(t, out.AccountAssignmentCreationStatus.RequestId, 2*time.Second)
	if len(seen) < 3 || last.Status != ssotypes.StatusValuesFailed || aws.ToString(last.FailureReason) == "" {
		t.Errorf("failing assignment: %v, %+v", seen, last)
	}
	l, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.inst), AccountId: aws.String(devAccount), PermissionSetArn: aws.String(pu)})
	if err != nil || len(l.AccountAssignments) != 0 {
		t.Errorf("after FAILED: %+v, %v", l, err)
	}
}

// TestAssignmentThrottling: at most 10 outstanding operations per instance.
func TestAssignmentThrottling(t *testing.T) {
	f := DemoFixture()
	f.Accounts = append(f.Accounts, Account{ID: "444444444444", Name: "sandbox"})
	e := newICEnv(t, f, Options{AssignmentDelay: time.Minute})
	// The SDK retries ThrottlingException; one attempt shows it at once.
	e.admin = ssoadmin.NewFromConfig(e.cfg(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, ""), func(o *ssoadmin.Options) {
		o.BaseEndpoint, o.RetryMaxAttempts = aws.String(e.url), 1
	})
	alice := e.userID(t, "alice")
	var sets []string
	for _, n := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
		sets = append(sets, e.permSetARN(t, n))
	}
	n := 0
	for _, a := range f.Accounts {
		for _, ps := range sets {
			_, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, a.ID, ps, ssotypes.PrincipalTypeUser, alice))
			n++
			if n <= 10 && err != nil {
				t.Fatalf("operation %d: %v", n, err)
			}
			if n > 10 {
				if code, _ := apiCode(t, err); code != "ThrottlingException" {
					t.Fatalf("operation %d: %v, want ThrottlingException", n, err)
				}
			}
		}
	}
	// Once they complete, new operations are accepted.
	e.clock.Advance(time.Minute)
	if _, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, "444444444444", sets[2], ssotypes.PrincipalTypeUser, alice)); err != nil {
		t.Errorf("after completion: %v", err)
	}
}

// TestSSOAdminCLI lists permission sets with the real AWS CLI.
func TestSSOAdminCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	e := newICEnv(t, DemoFixture(), Options{})
	out, err := runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "sso-admin", "list-permission-sets", "--instance-arn", e.inst)
	if err != nil {
		t.Fatalf("sso-admin list-permission-sets: %v\n%s", err, out)
	}
	var got struct{ PermissionSets []string }
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.PermissionSets) != 3 || got.PermissionSets[0] != e.permSetARN(t, "ReadOnlyAccess") {
		t.Errorf("list-permission-sets = %s (%v)", out, err)
	}
	out, err = runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "sso-admin", "list-permission-sets", "--instance-arn", "arn:aws:sso:::instance/ssoins-0000000000000000")
	if err == nil || !strings.Contains(out, "ResourceNotFoundException") {
		t.Errorf("unknown instance: %v\n%s", err, out)
	}

	// The access portal through `aws sso get-role-credentials`.
	e.assign(t, assignmentInput(e.inst, devAccount, e.permSetARN(t, "ReadOnlyAccess"), ssotypes.PrincipalTypeUser, e.userID(t, "alice")))
	tok, err := e.sb.PortalToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, e.env, "", "", "", "sso", "get-role-credentials", "--role-name", "ReadOnlyAccess", "--account-id", devAccount, "--access-token", tok)
	var rc struct {
		RoleCredentials struct {
			AccessKeyID string `json:"accessKeyId"`
			Expiration  int64  `json:"expiration"`
		} `json:"roleCredentials"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rc) != nil || !strings.HasPrefix(rc.RoleCredentials.AccessKeyID, "ASIA") || rc.RoleCredentials.Expiration == 0 {
		t.Errorf("sso get-role-credentials: %v\n%s", err, out)
	}
	out, err = runCLI(t, e.env, "", "", "", "sso", "get-role-credentials", "--role-name", "AdministratorAccess", "--account-id", devAccount, "--access-token", tok)
	if err == nil || !strings.Contains(out, "ForbiddenException") {
		t.Errorf("sso get-role-credentials without assignment: %v\n%s", err, out)
	}
}

// An operation nobody describes (its client lost the answer, or gave up
// polling) still finishes on its own, as in AWS: it must not stay
// IN_PROGRESS for ever and block every later operation on its permission
// set and account with ConflictException.
func TestUndescribedAssignmentFinishes(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	if _, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, alice)); err != nil {
		t.Fatal(err)
	}
	bob := assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeUser, e.userID(t, "bob"))
	if _, err := e.admin.CreateAccountAssignment(ctx, bob); err == nil {
		t.Fatal("a second write while the first is IN_PROGRESS: no ConflictException")
	}
	e.clock.Advance(selfSettle)
	if _, err := e.admin.CreateAccountAssignment(ctx, bob); err != nil {
		t.Fatalf("a write after the undescribed one had its time: %v", err)
	}
	l, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.inst), AccountId: aws.String(devAccount), PermissionSetArn: aws.String(ro)})
	if err != nil || len(l.AccountAssignments) != 1 || aws.ToString(l.AccountAssignments[0].PrincipalId) != alice {
		t.Fatalf("assignments %+v, %v; want alice's, finished without being described", l, err)
	}
}
