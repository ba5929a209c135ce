package sandbox

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

func TestAssumeRole(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, stagingRO, "t1", "alice", nil)

	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::222222222222:assumed-role/ReadOnlyAccess/jit-t1-alice"; got != want {
		t.Errorf("Arn = %q, want %q", got, want)
	}
	id := aws.ToString(out.AssumedRoleUser.AssumedRoleId)
	if !strings.HasPrefix(id, "AROA") || !strings.HasSuffix(id, ":jit-t1-alice") {
		t.Errorf("AssumedRoleId = %q, want AROA...:jit-t1-alice", id)
	}
	akid := aws.ToString(out.Credentials.AccessKeyId)
	if !strings.HasPrefix(akid, "ASIA") || len(akid) != 20 {
		t.Errorf("AccessKeyId = %q, want ASIA + 16 characters", akid)
	}
	if aws.ToString(out.Credentials.SecretAccessKey) == "" || aws.ToString(out.Credentials.SessionToken) == "" {
		t.Error("secret or session token empty")
	}
	wantExp := e.clock.Now().Truncate(time.Second).Add(900 * time.Second)
	if got := aws.ToTime(out.Credentials.Expiration); !got.Equal(wantExp) {
		t.Errorf("Expiration = %v, want %v", got, wantExp)
	}
	if got := aws.ToString(out.SourceIdentity); got != "alice" {
		t.Errorf("SourceIdentity = %q, want alice", got)
	}
	if out.PackedPolicySize == nil || *out.PackedPolicySize < 1 || *out.PackedPolicySize > 100 {
		t.Errorf("PackedPolicySize = %v, want 1..100", out.PackedPolicySize)
	}

	se := e.sb.sessions[akid]
	if se == nil || se.sessionName != "jit-t1-alice" || se.sourceIdentity != "alice" || len(se.tags) != 3 {
		t.Fatalf("stored session = %+v", se)
	}

	// Default duration is one hour.
	out = assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String(devAdmin), RoleSessionName: aws.String("plain")})
	if got, want := aws.ToTime(out.Credentials.Expiration).Sub(e.clock.Now().Truncate(time.Second)), time.Hour; got != want {
		t.Errorf("default duration = %v, want %v", got, want)
	}
	if out.PackedPolicySize != nil {
		t.Errorf("PackedPolicySize = %d without policy or tags, want absent", *out.PackedPolicySize)
	}
}

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t, DemoFixture())
	got, err := e.broker().sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Arn) != brokerARN || aws.ToString(got.Account) != "111111111111" || !strings.HasPrefix(aws.ToString(got.UserId), "AIDA") {
		t.Errorf("broker identity = %s %s %s", aws.ToString(got.Arn), aws.ToString(got.Account), aws.ToString(got.UserId))
	}

	out := ticketSession(t, e, stagingRO, "t9", "bob", nil)
	got, err = e.session(out.Credentials).sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Arn) != aws.ToString(out.AssumedRoleUser.Arn) ||
		aws.ToString(got.UserId) != aws.ToString(out.AssumedRoleUser.AssumedRoleId) ||
		aws.ToString(got.Account) != "222222222222" {
		t.Errorf("session identity = %s %s %s", aws.ToString(got.Arn), aws.ToString(got.UserId), aws.ToString(got.Account))
	}
}

// validationFixture adds to the demo a short-lived role, a role only
// another user may assume, and that user.
func validationFixture() Fixture {
	f := DemoFixture()
	f.Users = append(f.Users, User{Account: "111111111111", Name: "carol", AccessKeyID: "AKIACAROL00000000001", SecretAccessKey: "carol-secret-key-000000000000000000000000"})
	f.Roles = append(f.Roles,
		Role{Account: "111111111111", Name: "Short", MaxSessionDuration: 3600},
		Role{Account: "111111111111", Name: "CarolOnly", Path: "/team/", TrustedPrincipals: []string{"arn:aws:iam::111111111111:user/carol"},
			Policies: map[string]string{"all": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`}},
	)
	return f
}

func TestAssumeRoleErrors(t *testing.T) {
	e := newEnv(t, validationFixture())
	long := func(n int) string { return strings.Repeat("a", n) }
	tags := func(n, klen, vlen int) []ststypes.Tag {
		var out []ststypes.Tag
		for i := 0; i < n; i++ {
			out = append(out, ststypes.Tag{Key: aws.String(fmt.Sprintf("%02d%s", i, long(klen-2))), Value: aws.String(long(vlen))})
		}
		return out
	}
	tag := func(k, v string) []ststypes.Tag { return []ststypes.Tag{{Key: aws.String(k), Value: aws.String(v)}} }
	const prefix = "1 validation error detected: "
	tests := []struct {
		name     string
		edit     func(in *sts.AssumeRoleInput)
		code     string
		msg      string // exact, or prefix when it ends with "..."
		asCarol  bool
		roleOver string
	}{
		{"session name too short", func(in *sts.AssumeRoleInput) { in.RoleSessionName = aws.String("a") }, "ValidationError",
			prefix + "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", false, ""},
		{"session name too long", func(in *sts.AssumeRoleInput) { in.RoleSessionName = aws.String(long(65)) }, "ValidationError",
			prefix + "Value '" + long(65) + "' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", false, ""},
		{"session name pattern", func(in *sts.AssumeRoleInput) { in.RoleSessionName = aws.String("bad name!") }, "ValidationError",
			prefix + `Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, false, ""},
		{"role arn too short", func(in *sts.AssumeRoleInput) { in.RoleArn = aws.String("arn:aws:iam::1:r/x") }, "ValidationError",
			prefix + "Value 'arn:aws:iam::1:r/x' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", false, ""},
		{"role arn not a role", func(in *sts.AssumeRoleInput) { in.RoleArn = aws.String("arn:aws:s3:::some-bucket-name") }, "ValidationError",
			"arn:aws:s3:::some-bucket-name is not a valid role ARN", false, ""},
		{"two violations", func(in *sts.AssumeRoleInput) {
			in.RoleSessionName = aws.String("a")
			in.DurationSeconds = aws.Int32(60)
		}, "ValidationError",
			"2 validation errors detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; " +
				"Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", false, ""},
		{"duration too short", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(899) }, "ValidationError",
			prefix + "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", false, ""},
		{"duration too long", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(43201) }, "ValidationError",
			prefix + "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200", false, ""},
		{"duration over role max", func(in *sts.AssumeRoleInput) { in.DurationSeconds = aws.Int32(3601) }, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", false, "arn:aws:iam::111111111111:role/Short"},
		{"51 tags", func(in *sts.AssumeRoleInput) { in.Tags = tags(51, 3, 1) }, "ValidationError",
			prefix + "Value '[51 tags]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50", false, ""},
		{"tag key too long", func(in *sts.AssumeRoleInput) { in.Tags = tag(long(129), "v") }, "ValidationError",
			prefix + "Value '" + long(129) + "' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128", false, ""},
		{"tag value too long", func(in *sts.AssumeRoleInput) { in.Tags = tag("k", long(257)) }, "ValidationError",
			prefix + "Value '" + long(257) + "' at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", false, ""},
		{"tag key charset", func(in *sts.AssumeRoleInput) { in.Tags = tag("a*b", "v") }, "ValidationError",
			prefix + `Value 'a*b' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`, false, ""},
		{"tag aws prefix", func(in *sts.AssumeRoleInput) { in.Tags = tag("AWS:team", "v") }, "ValidationError",
			"Tag keys cannot start with 'aws:'. This prefix is reserved for AWS use.", false, ""},
		{"duplicate tag keys", func(in *sts.AssumeRoleInput) {
			in.Tags = append(tag("Team", "a"), tag("team", "b")...)
		}, "ValidationError", "Duplicate tag keys found. Please note that Tag keys are case insensitive.", false, ""},
		{"transitive key not a tag", func(in *sts.AssumeRoleInput) { in.Tags = tag("a", "b"); in.TransitiveTagKeys = []string{"c"} }, "ValidationError",
			"The specified transitive tag key c must be included in the requested tags.", false, ""},
		{"source identity too short", func(in *sts.AssumeRoleInput) { in.SourceIdentity = aws.String("x") }, "ValidationError",
			prefix + "Value 'x' at 'sourceIdentity' failed to satisfy constraint: Member must have length greater than or equal to 2", false, ""},
		{"source identity pattern", func(in *sts.AssumeRoleInput) { in.SourceIdentity = aws.String("al ice") }, "ValidationError",
			prefix + `Value 'al ice' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, false, ""},
		{"source identity aws prefix", func(in *sts.AssumeRoleInput) { in.SourceIdentity = aws.String("aws:alice") }, "ValidationError",
			prefix + `Value 'aws:alice' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, false, ""},
		{"policy too long", func(in *sts.AssumeRoleInput) { in.Policy = aws.String(long(2049)) }, "ValidationError",
			prefix + "Value '" + long(2049) + "' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048", false, ""},
		{"policy not json", func(in *sts.AssumeRoleInput) { in.Policy = aws.String(`{"Version":`) }, "MalformedPolicyDocument",
			"Syntax errors in policy.", false, ""},
		{"policy unknown operator", func(in *sts.AssumeRoleInput) {
			in.Policy = aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringSortOf":{"aws:userid":"x"}}}]}`)
		}, "MalformedPolicyDocument", "Invalid Condition type : StringSortOf.", false, ""},
		{"policy bad effect", func(in *sts.AssumeRoleInput) {
			in.Policy = aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`)
		}, "MalformedPolicyDocument", "Invalid effect: Maybe", false, ""},
		{"policy arns", func(in *sts.AssumeRoleInput) {
			in.PolicyArns = []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")}}
		}, "MalformedPolicyDocument", "Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.", false, ""},
		{"packed too large", func(in *sts.AssumeRoleInput) { in.Tags = tags(50, 40, 40) }, "PackedPolicyTooLarge",
			"Packed policy consumes 201% of allotted space, please use smaller policy.", false, ""},
		{"unknown role", func(in *sts.AssumeRoleInput) {}, "AccessDenied",
			"User: " + brokerARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Nope", false, "arn:aws:iam::111111111111:role/Nope"},
		{"role path mismatch", func(in *sts.AssumeRoleInput) {}, "AccessDenied",
			"User: " + brokerARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/CarolOnly", true, "arn:aws:iam::111111111111:role/CarolOnly"},
		{"untrusted caller", func(in *sts.AssumeRoleInput) {}, "AccessDenied",
			"User: " + brokerARN + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/team/CarolOnly", false, "arn:aws:iam::111111111111:role/team/CarolOnly"},
		{"non-admin user, account trust", func(in *sts.AssumeRoleInput) {}, "AccessDenied",
			"User: arn:aws:iam::111111111111:user/carol is not authorized to perform: sts:AssumeRole on resource: " + devReadOnly, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := devReadOnly
			if tt.roleOver != "" {
				role = tt.roleOver
			}
			in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("jit-t1-alice")}
			tt.edit(in)
			c := e.broker()
			if tt.asCarol {
				c = e.clients("AKIACAROL00000000001", "carol-secret-key-000000000000000000000000", "")
			}
			if tt.name == "role path mismatch" {
				tt.msg = strings.Replace(tt.msg, brokerARN, "arn:aws:iam::111111111111:user/carol", 1)
			}
			before := len(e.sb.sessions)
			_, err := c.sts.AssumeRole(ctx, in)
			wantAPIError(t, err, tt.code, tt.msg)
			if after := len(e.sb.sessions); after != before {
				t.Errorf("sessions = %d after a rejected call, want %d", after, before)
			}
		})
	}

	// The trusted user gets in without any identity policy of its own.
	carol := e.clients("AKIACAROL00000000001", "carol-secret-key-000000000000000000000000", "")
	assume(t, carol, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/team/CarolOnly"), RoleSessionName: aws.String("carol")})
}

func TestRoleChaining(t *testing.T) {
	e := newEnv(t, DemoFixture())
	first := assume(t, e.broker(), &sts.AssumeRoleInput{
		RoleArn: aws.String(devAdmin), RoleSessionName: aws.String("hop1"), SourceIdentity: aws.String("alice"),
		Tags:              []ststypes.Tag{{Key: aws.String("jit-ticket"), Value: aws.String("t7")}, {Key: aws.String("other"), Value: aws.String("x")}},
		TransitiveTagKeys: []string{"jit-ticket"},
	})
	hop := e.session(first.Credentials)

	_, err := hop.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(stagingRO), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(7200)})
	wantAPIError(t, err, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")

	_, err = hop.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(stagingRO), RoleSessionName: aws.String("hop2"), SourceIdentity: aws.String("mallory")})
	wantAPIError(t, err, "ValidationError", "Source identity cannot be changed once it is set: the calling session has source identity alice.")

	_, err = hop.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(stagingRO), RoleSessionName: aws.String("hop2"),
		Tags: []ststypes.Tag{{Key: aws.String("JIT-TICKET"), Value: aws.String("t8")}}})
	wantAPIError(t, err, "ValidationError", "Tag key JIT-TICKET is a transitive tag of the calling session and cannot be overridden.")

	second := assume(t, hop, &sts.AssumeRoleInput{RoleArn: aws.String(stagingRO), RoleSessionName: aws.String("hop2"), DurationSeconds: aws.Int32(3600)})
	if got := aws.ToString(second.SourceIdentity); got != "alice" {
		t.Errorf("chained SourceIdentity = %q, want alice (persisted)", got)
	}
	se := e.sb.sessions[aws.ToString(second.Credentials.AccessKeyId)]
	if len(se.tags) != 1 || se.tags[0].key != "jit-ticket" || se.tags[0].value != "t7" {
		t.Errorf("chained tags = %+v, want only the transitive jit-ticket=t7", se.tags)
	}
}
