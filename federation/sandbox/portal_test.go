package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func (e *icEnv) roleCredentials(token, account, role string) (*sso.GetRoleCredentialsOutput, error) {
	return e.portal().GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(token), AccountId: aws.String(account), RoleName: aws.String(role)})
}

// TestPortalCredentials is the Identity Center path end to end: an
// assignment (through a group) gives portal credentials that work; a
// Deny on identitystore:userId cuts them once it is provisioned, and not
// before; deleting the assignment stops new credentials but leaves the
// open session alone.
func TestPortalCredentials(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	aliceTok, err := e.sb.PortalToken("alice")
	if err != nil {
		t.Fatal(err)
	}
	bobTok, _ := e.sb.PortalToken("bob")
	if _, err := e.sb.PortalToken("mallory"); err == nil {
		t.Error("PortalToken(mallory) succeeded")
	}

	// Nothing assigned yet.
	_, err = e.roleCredentials(aliceTok, devAccount, "ReadOnlyAccess")
	wantAPIError(t, err, "ForbiddenException", "No access")

	// engineers (alice, dave) get ReadOnlyAccess in dev.
	engineers := e.sb.ic.instance.groups[0]
	in := assignmentInput(e.inst, devAccount, ro, ssotypes.PrincipalTypeGroup, engineers.id)
	e.assign(t, in)

	rc, err := e.roleCredentials(aliceTok, devAccount, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	c := rc.RoleCredentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || c.Expiration != e.clock.Now().Truncate(time.Second).Add(8*time.Hour).UnixMilli() {
		t.Errorf("credentials %s expiring %d", aws.ToString(c.AccessKeyId), c.Expiration)
	}
	aliceS3 := e.s3Of(rc)
	if _, err := aliceS3.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets with portal credentials: %v", err)
	}
	id, err := e.clients(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasPrefix(aws.ToString(id.Arn), "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_ReadOnlyAccess_") ||
		!strings.HasSuffix(aws.ToString(id.Arn), "/alice") {
		t.Errorf("GetCallerIdentity = %+v, %v", id, err)
	}

	// Refusals: bob is not an engineer; the wrong account; an unknown
	// permission set; a bad token.
	for _, tt := range []struct {
		name, tok, account, role, code string
	}{
		{"unassigned user", bobTok, devAccount, "ReadOnlyAccess", "ForbiddenException"},
		{"other account", aliceTok, prodAccount, "ReadOnlyAccess", "ForbiddenException"},
		{"other permission set", aliceTok, devAccount, "AdministratorAccess", "ForbiddenException"},
		{"role name, not permission set name", aliceTok, devAccount, e.sb.ic.instance.byARN[ro].roles[devAccount].Name, "ForbiddenException"},
		{"bad token", aliceTok + "x", devAccount, "ReadOnlyAccess", "UnauthorizedException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.roleCredentials(tt.tok, tt.account, tt.role)
			if code, _ := apiCode(t, err); code != tt.code {
				t.Errorf("got %v, want %s", err, tt.code)
			}
		})
	}

	// The documented instant cut: a Deny on identitystore:userId in the
	// permission set's inline policy, effective once provisioned.
	pol, err := e.admin.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(ro)})
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.TrimSuffix(aws.ToString(pol.InlinePolicy), "]}") +
		fmt.Sprintf(`,{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:userId":%q}}}]}`, alice)
	if _, err := e.admin.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: aws.String(e.inst),
		PermissionSetArn: aws.String(ro), InlinePolicy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceS3.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("ListBuckets after the put, before provisioning: %v", err)
	}
	e.provision(t, ro, devAccount)
	_, err = aliceS3.ListBuckets(ctx, &s3.ListBucketsInput{})
	wantAPIError(t, err, "AccessDenied", "")
	// dave, the other engineer, is not cut.
	daveTok, _ := e.sb.PortalToken("dave")
	drc, err := e.roleCredentials(daveTok, devAccount, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s3Of(drc).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("dave's ListBuckets: %v", err)
	}

	// Deleting the assignment: no new credentials, the open session of
	// dave keeps working (as in AWS) until it expires.
	del, err := e.admin.DeleteAccountAssignment(ctx, deleteInput(in))
	if err != nil {
		t.Fatal(err)
	}
	if s := e.pollDeletion(t, del.AccountAssignmentDeletionStatus.RequestId); s != ssotypes.StatusValuesSucceeded {
		t.Fatalf("deletion ended %s", s)
	}
	_, err = e.roleCredentials(daveTok, devAccount, "ReadOnlyAccess")
	wantAPIError(t, err, "ForbiddenException", "No access")
	if _, err := e.s3Of(drc).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("dave's open session after the assignment was deleted: %v", err)
	}
	e.clock.Advance(8*time.Hour + time.Second)
	_, err = e.s3Of(drc).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantAPIError(t, err, "ExpiredToken", "")
	// The portal token itself has expired too.
	_, err = e.roleCredentials(daveTok, devAccount, "ReadOnlyAccess")
	wantAPIError(t, err, "UnauthorizedException", "")
}

// TestPortalWire checks the raw REST-JSON shape of GetRoleCredentials.
func TestPortalWire(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	req, _ := http.NewRequest("GET", e.url+"/federation/credentials?account_id=111111111111&role_name=ReadOnlyAccess", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("X-Amzn-ErrorType") != "UnauthorizedException" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("no token: %d %v", resp.StatusCode, resp.Header)
	}
}
