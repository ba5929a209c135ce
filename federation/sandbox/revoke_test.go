package sandbox

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func listBuckets(c clients) error {
	_, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	return err
}

func describeRegions(c clients) error {
	_, err := c.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	return err
}

func TestWorkActions(t *testing.T) {
	e := newEnv(t, DemoFixture())
	c := e.session(ticketSession(t, e, stagingRO, "t1", "alice", nil).Credentials)
	out, err := c.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != "jit-sandbox-222222222222" || aws.ToString(out.Owner.DisplayName) != "staging" {
		t.Errorf("ListBuckets = %+v owner %+v", out.Buckets, out.Owner)
	}
	regions, err := c.ec2.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"eu-west-1", "us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(regions.Regions) != 2 || aws.ToString(regions.Regions[0].Endpoint) != "ec2.eu-west-1.amazonaws.com" {
		t.Errorf("DescribeRegions = %+v", regions.Regions)
	}
	// ReadOnlyAccess does not allow writing IAM.
	_, err = c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("x"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)})
	wantAPIError(t, err, "AccessDenied", "User: arn:aws:sts::222222222222:assumed-role/ReadOnlyAccess/jit-t1-alice is not authorized to perform: "+
		"iam:PutRolePolicy on resource: role ReadOnlyAccess because no identity-based policy allows the iam:PutRolePolicy action")
}

// TestRevocation is the broker's terminate path: a deny entry on the
// session tag jit-ticket cuts that ticket's open sessions at once, and
// only them.
func TestRevocation(t *testing.T) {
	e := newEnv(t, DemoFixture())
	s1 := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	s2 := ticketSession(t, e, devReadOnly, "t2", "bob", nil)
	c1, c2 := e.session(s1.Credentials), e.session(s2.Credentials)
	for _, c := range []clients{c1, c2} {
		if err := listBuckets(c); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
	}

	doc := fmt.Sprintf(denyTemplate, `"t1","t0"`)
	broker := e.broker()
	if _, err := broker.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("jit-revocations"), PolicyDocument: aws.String(doc),
	}); err != nil {
		t.Fatal(err)
	}
	got, err := broker.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("jit-revocations")})
	if err != nil {
		t.Fatal(err)
	}
	raw := aws.ToString(got.PolicyDocument)
	if !strings.HasPrefix(raw, "%7B%22Version%22") {
		t.Errorf("PolicyDocument not URL-encoded: %q", raw)
	}
	if dec, _ := url.QueryUnescape(raw); dec != doc {
		t.Errorf("decoded PolicyDocument = %q, want %q", dec, doc)
	}

	arn := aws.ToString(s1.AssumedRoleUser.Arn)
	wantAPIError(t, listBuckets(c1), "AccessDenied",
		"User: "+arn+" is not authorized to perform: s3:ListAllMyBuckets with an explicit deny in an identity-based policy")
	wantAPIError(t, describeRegions(c1), "UnauthorizedOperation",
		"You are not authorized to perform this operation. User: "+arn+" is not authorized to perform: ec2:DescribeRegions with an explicit deny in an identity-based policy")
	if err := listBuckets(c2); err != nil {
		t.Errorf("other ticket's session: %v", err)
	}
	// GetCallerIdentity is never denied by policy.
	if _, err := c1.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity of a revoked session: %v", err)
	}

	names, err := broker.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ReadOnlyAccess")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names.PolicyNames, ",") != "ReadOnlyAccess,jit-revocations" {
		t.Errorf("ListRolePolicies = %v", names.PolicyNames)
	}
	if _, err := broker.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("jit-revocations")}); err != nil {
		t.Fatal(err)
	}
	if err := listBuckets(c1); err != nil {
		t.Errorf("after the deny entry is removed: %v", err)
	}
}

// TestSessionPolicyCap: the broker's session policy denies everything
// after the ticket's end even though STS's minimum is 15 minutes.
func TestSessionPolicyCap(t *testing.T) {
	e := newEnv(t, DemoFixture())
	end := e.clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},` +
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"` + end + `"}}}]}`
	out := ticketSession(t, e, devReadOnly, "t3", "alice", aws.String(policy))
	c := e.session(out.Credentials)
	if err := listBuckets(c); err != nil {
		t.Fatalf("before end: %v", err)
	}
	e.clock.Advance(11 * time.Minute)
	wantAPIError(t, listBuckets(c), "AccessDenied",
		"User: "+aws.ToString(out.AssumedRoleUser.Arn)+" is not authorized to perform: s3:ListAllMyBuckets with an explicit deny in a session policy")
	if _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity after end: %v", err)
	}

	// A session policy narrower than the role: S3 is implicitly denied.
	ec2Only := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}}`
	c = e.session(ticketSession(t, e, devReadOnly, "t4", "alice", aws.String(ec2Only)).Credentials)
	if err := describeRegions(c); err != nil {
		t.Errorf("DescribeRegions within session policy: %v", err)
	}
	_, msg := apiCode(t, listBuckets(c))
	if !strings.HasSuffix(msg, "because no session policy allows the s3:ListAllMyBuckets action") {
		t.Errorf("message = %q", msg)
	}
}

func TestExpiredSession(t *testing.T) {
	e := newEnv(t, DemoFixture())
	c := e.session(ticketSession(t, e, devReadOnly, "t5", "alice", nil).Credentials)
	e.clock.Advance(16 * time.Minute)
	_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "ExpiredToken", "The security token included in the request is expired")
	wantAPIError(t, listBuckets(c), "ExpiredToken", "The provided token has expired.")
	wantAPIError(t, describeRegions(c), "RequestExpired", "Request has expired.")
}
