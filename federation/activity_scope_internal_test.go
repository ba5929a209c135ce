package federation

import (
	"testing"

	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

func TestIsSSORoleOf(t *testing.T) {
	for _, tc := range []struct {
		role, ps string
		want     bool
	}{
		{"AWSReservedSSO_ReadOnly_0123456789abcdef", "ReadOnly", true},
		{"AWSReservedSSO_ReadOnlySSO_0123456789abcdef", "ReadOnly", false},
		{"AWSReservedSSO_ReadOnly_0123456789abcdef", "ReadOnlySSO", false},
		{"AWSReservedSSO_ReadOnlyAccess_0123456789abcdef", "ReadOnly", false},
		{"AWSReservedSSO_Read_Only_0123456789abcdef", "Read", false},
		{"AWSReservedSSO_Read_Only_0123456789abcdef", "Read_Only", true},
		{"AWSReservedSSO_ReadOnly_", "ReadOnly", false},
		{"AWSReservedSSO_ReadOnly_xyz", "ReadOnly", false},
		{"ReadOnly_0123456789abcdef", "ReadOnly", false},
		{"AWSReservedSSO__0123", "", false},
	} {
		if got := isSSORoleOf(tc.role, tc.ps); got != tc.want {
			t.Errorf("isSSORoleOf(%q, %q) = %v, want %v", tc.role, tc.ps, got, tc.want)
		}
	}
}

func TestInScope(t *testing.T) {
	const acct = "111111111111"
	const role = "AWSReservedSSO_ReadOnly_0123456789abcdef"
	portal := func(mod func(d *trailDoc)) *trailDoc {
		d := &trailDoc{RecipientAccountID: acct}
		d.UserIdentity.Type = "AssumedRole"
		d.UserIdentity.ARN = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/alice"
		d.UserIdentity.AccountID = acct
		d.UserIdentity.AccessKeyID = "ASIAPORTAL"
		iss := &d.UserIdentity.SessionContext.SessionIssuer
		iss.Type, iss.AccountID = "Role", acct
		iss.ARN = "arn:aws:iam::" + acct + ":role/aws-reserved/sso.amazonaws.com/" + role
		if mod != nil {
			mod(d)
		}
		return d
	}
	user := lookupAttr{cttypes.LookupAttributeKeyUsername, "alice", byPortalUser}
	session := lookupAttr{cttypes.LookupAttributeKeyUsername, "jit-t1-alice@example.com", byRoleSession}
	key := lookupAttr{cttypes.LookupAttributeKeyAccessKeyId, "ASIAPORTAL", byAccessKey}
	for _, tc := range []struct {
		name string
		doc  *trailDoc
		at   lookupAttr
		want bool
	}{
		{"portal session of the set", portal(nil), user, true},
		{"regional issuer path", portal(func(d *trailDoc) {
			d.UserIdentity.SessionContext.SessionIssuer.ARN = "arn:aws:iam::" + acct + ":role/aws-reserved/sso.amazonaws.com/eu-west-1/" + role
		}), user, true},
		{"no document", nil, user, false},
		{"another recipient account", portal(func(d *trailDoc) { d.RecipientAccountID = "222222222222" }), user, false},
		{"another role", portal(func(d *trailDoc) {
			d.UserIdentity.ARN = "arn:aws:sts::" + acct + ":assumed-role/AWSReservedSSO_ReadOnly_Admin_0123456789abcdef/alice"
		}), user, false},
		{"another user's session", portal(func(d *trailDoc) {
			d.UserIdentity.ARN = "arn:aws:sts::" + acct + ":assumed-role/" + role + "/bob"
		}), user, false},
		{"role of another account", portal(func(d *trailDoc) {
			d.UserIdentity.ARN = "arn:aws:sts::222222222222:assumed-role/" + role + "/alice"
		}), user, false},
		{"an IAM user of that name", portal(func(d *trailDoc) {
			d.UserIdentity.Type, d.UserIdentity.ARN = "IAMUser", "arn:aws:iam::"+acct+":user/alice"
		}), user, false},
		{"look-alike role outside Identity Center's path", portal(func(d *trailDoc) {
			d.UserIdentity.SessionContext.SessionIssuer.ARN = "arn:aws:iam::" + acct + ":role/" + role
		}), user, false},
		{"issuer is another role", portal(func(d *trailDoc) {
			d.UserIdentity.SessionContext.SessionIssuer.ARN = "arn:aws:iam::" + acct + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_fedcba9876543210"
		}), user, false},
		{"the ticket's role session", portal(func(d *trailDoc) {
			d.UserIdentity.ARN = "arn:aws:sts::" + acct + ":assumed-role/ReadOnlyAccess/jit-t1-alice@example.com"
		}), session, true},
		{"another ticket's role session", portal(func(d *trailDoc) {
			d.UserIdentity.ARN = "arn:aws:sts::" + acct + ":assumed-role/ReadOnlyAccess/jit-t2-alice@example.com"
		}), session, false},
		{"an IAM user named like the session", portal(func(d *trailDoc) {
			d.UserIdentity.Type, d.UserIdentity.ARN = "IAMUser", "arn:aws:iam::"+acct+":user/jit-t1-alice@example.com"
		}), session, false},
		{"by access key", portal(nil), key, true},
		{"by access key, another account's history", portal(func(d *trailDoc) { d.RecipientAccountID = "222222222222" }), key, false},
		{"by access key, another key", portal(func(d *trailDoc) { d.UserIdentity.AccessKeyID = "ASIAOTHER" }), key, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := inScope(tc.doc, tc.at, acct, "ReadOnly"); got != tc.want {
				t.Errorf("inScope = %v, want %v", got, tc.want)
			}
		})
	}
}
