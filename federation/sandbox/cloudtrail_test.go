package sandbox

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

// newEnvWith is newEnv with extra options.
func newEnvWith(t *testing.T, f Fixture, opt Options) *env {
	t.Helper()
	clock := newClock()
	opt.Now = clock.Now
	sb, err := New(f, opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	return &env{sb: sb, url: srv.URL, clock: clock}
}

// trailClient is a CloudTrail client of one identity that retries no
// answer (see env.noRetry), so that throttling shows.
func (e *env) trailClient(akid, secret, token string) *cloudtrail.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, token), Retryer: e.noRetry}
	return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(e.url) })
}

func (e *env) brokerTrail() *cloudtrail.Client {
	return e.trailClient(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")
}

// lookup calls LookupEvents one second of sandbox time after the last
// call, clear of the 2 calls/s limit.
func (e *env) lookup(t *testing.T, c *cloudtrail.Client, in *cloudtrail.LookupEventsInput) *cloudtrail.LookupEventsOutput {
	t.Helper()
	e.clock.Advance(time.Second)
	out, err := c.LookupEvents(ctx, in)
	if err != nil {
		t.Fatalf("LookupEvents: %v", err)
	}
	return out
}

func byAttr(key cttypes.LookupAttributeKey, value string) *cloudtrail.LookupEventsInput {
	return &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: key, AttributeValue: aws.String(value)}}}
}

func eventNames(evs []cttypes.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, aws.ToString(ev.EventName))
	}
	return out
}

// ctEvent is the part of a CloudTrailEvent document the tests read.
type ctEvent struct {
	UserIdentity struct {
		Type, PrincipalID, ARN, AccountID, AccessKeyID string
		SessionContext                                 struct {
			SourceIdentity string
			SessionIssuer  struct{ Type, ARN, UserName string }
			Attributes     struct{ CreationDate string }
		}
	}
	EventTime, EventSource, EventName, AWSRegion, SourceIPAddress string
	ErrorCode, ErrorMessage, RequestID, EventID                   string
	ReadOnly                                                      bool
	RequestParameters                                             map[string]any
	ResponseElements                                              map[string]any
}

func parseEvent(t *testing.T, ev cttypes.Event) ctEvent {
	t.Helper()
	var got ctEvent
	if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &got); err != nil {
		t.Fatalf("CloudTrailEvent: %v", err)
	}
	return got
}

// TestTrailRecordsSessionCalls: every call made with a minted session is
// recorded, denied ones with their error, and the AssumeRole call in the
// role's account carries the session tags and source identity.
func TestTrailRecordsSessionCalls(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, stagingRO, "t1", "alice", nil)
	akid := aws.ToString(out.Credentials.AccessKeyId)
	c := e.session(out.Credentials)
	if err := listBuckets(c); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if err := describeRegions(c); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	_, err := c.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("x"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)})
	wantAPIError(t, err, "AccessDenied", "")

	// The session's own account, seen by a session allowed to look.
	admin := assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/AdministratorAccess"), RoleSessionName: aws.String("auditor")})
	ct := e.trailClient(aws.ToString(admin.Credentials.AccessKeyId), aws.ToString(admin.Credentials.SecretAccessKey), aws.ToString(admin.Credentials.SessionToken))
	got := e.lookup(t, ct, byAttr(cttypes.LookupAttributeKeyAccessKeyId, akid))
	if diff := cmp.Diff([]string{"PutRolePolicy", "DescribeRegions", "ListBuckets"}, eventNames(got.Events)); diff != "" {
		t.Fatalf("events newest first (-want +got):\n%s", diff)
	}
	for _, ev := range got.Events {
		if aws.ToString(ev.Username) != "jit-t1-alice" || aws.ToString(ev.AccessKeyId) != akid || ev.EventTime == nil || aws.ToString(ev.EventId) == "" {
			t.Errorf("event %s: Username %q AccessKeyId %q EventTime %v", aws.ToString(ev.EventName), aws.ToString(ev.Username), aws.ToString(ev.AccessKeyId), ev.EventTime)
		}
		doc := parseEvent(t, ev)
		id := doc.UserIdentity
		if id.Type != "AssumedRole" || id.ARN != aws.ToString(out.AssumedRoleUser.Arn) || id.AccessKeyID != akid || id.AccountID != "222222222222" ||
			id.PrincipalID != aws.ToString(out.AssumedRoleUser.AssumedRoleId) {
			t.Errorf("%s userIdentity = %+v", doc.EventName, id)
		}
		if id.SessionContext.SourceIdentity != "alice" || id.SessionContext.SessionIssuer.ARN != stagingRO ||
			id.SessionContext.SessionIssuer.UserName != "ReadOnlyAccess" || id.SessionContext.Attributes.CreationDate == "" {
			t.Errorf("%s sessionContext = %+v", doc.EventName, id.SessionContext)
		}
		if doc.EventID != aws.ToString(ev.EventId) || doc.RequestID == "" || doc.AWSRegion != "us-east-1" || doc.SourceIPAddress != "127.0.0.1" {
			t.Errorf("%s: eventID %s requestID %q region %q ip %q", doc.EventName, doc.EventID, doc.RequestID, doc.AWSRegion, doc.SourceIPAddress)
		}
	}
	if src := aws.ToString(got.Events[2].EventSource); src != "s3.amazonaws.com" {
		t.Errorf("ListBuckets EventSource = %q", src)
	}
	if ro := aws.ToString(got.Events[0].ReadOnly); ro != "false" {
		t.Errorf("PutRolePolicy ReadOnly = %q", ro)
	}
	denied := parseEvent(t, got.Events[0])
	if denied.ErrorCode != "AccessDenied" || !strings.Contains(denied.ErrorMessage, "iam:PutRolePolicy") || denied.RequestParameters["roleName"] != "ReadOnlyAccess" {
		t.Errorf("denied event: %s %q %v", denied.ErrorCode, denied.ErrorMessage, denied.RequestParameters)
	}
	if parseEvent(t, got.Events[1]).ErrorCode != "" {
		t.Errorf("DescribeRegions recorded an error")
	}

	// The AssumeRole call, in the role's account, found by the new key.
	got = e.lookup(t, ct, byAttr(cttypes.LookupAttributeKeyResourceName, akid))
	if len(got.Events) != 1 || aws.ToString(got.Events[0].EventName) != "AssumeRole" || aws.ToString(got.Events[0].AccessKeyId) != DemoBrokerAccessKeyID ||
		aws.ToString(got.Events[0].EventSource) != "sts.amazonaws.com" {
		t.Fatalf("AssumeRole events in 222222222222 = %+v", got.Events)
	}
	doc := parseEvent(t, got.Events[0])
	wantTags := []any{
		map[string]any{"key": "jit-ticket", "value": "t1"},
		map[string]any{"key": "jit-requester", "value": "alice"},
		map[string]any{"key": "jit-beneficiary", "value": "alice"},
	}
	if diff := cmp.Diff(wantTags, doc.RequestParameters["tags"]); diff != "" {
		t.Errorf("requestParameters.tags (-want +got):\n%s", diff)
	}
	if doc.RequestParameters["sourceIdentity"] != "alice" || doc.RequestParameters["roleSessionName"] != "jit-t1-alice" || doc.RequestParameters["durationSeconds"] != 900.0 {
		t.Errorf("requestParameters = %v", doc.RequestParameters)
	}
	creds, _ := doc.ResponseElements["credentials"].(map[string]any)
	if creds["accessKeyId"] != akid || creds["sessionToken"] != nil || strings.Contains(aws.ToString(got.Events[0].CloudTrailEvent), aws.ToString(out.Credentials.SecretAccessKey)) {
		t.Errorf("responseElements.credentials = %v (no secret, no token)", creds)
	}
	if doc.UserIdentity.Type != "AWSAccount" || doc.UserIdentity.AccountID != "111111111111" {
		t.Errorf("cross-account userIdentity = %+v", doc.UserIdentity)
	}
	var types []string
	for _, r := range got.Events[0].Resources {
		types = append(types, aws.ToString(r.ResourceType))
	}
	if diff := cmp.Diff([]string{"AWS::IAM::AccessKey", "AWS::STS::AssumedRole", "AWS::IAM::Role"}, types); diff != "" {
		t.Errorf("AssumeRole resources (-want +got):\n%s", diff)
	}

	// The broker's account holds the same AssumeRole call, as an IAM user's.
	got = e.lookup(t, e.brokerTrail(), byAttr(cttypes.LookupAttributeKeyEventName, "AssumeRole"))
	if len(got.Events) != 2 || aws.ToString(got.Events[0].Username) != "jit-broker" || parseEvent(t, got.Events[1]).UserIdentity.Type != "IAMUser" {
		t.Errorf("AssumeRole events in 111111111111: %v", eventNames(got.Events))
	}
}

// TestLookupAttributes: each lookup key finds the events it names.
func TestLookupAttributes(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	akid := aws.ToString(out.Credentials.AccessKeyId)
	if err := listBuckets(e.session(out.Credentials)); err != nil {
		t.Fatal(err)
	}
	ct := e.brokerTrail()
	all := e.lookup(t, ct, &cloudtrail.LookupEventsInput{})
	if diff := cmp.Diff([]string{"ListBuckets", "AssumeRole"}, eventNames(all.Events)); diff != "" {
		t.Fatalf("all events (-want +got):\n%s", diff)
	}
	list := aws.ToString(all.Events[0].EventId)
	tests := []struct {
		key   cttypes.LookupAttributeKey
		value string
		want  []string
	}{
		{cttypes.LookupAttributeKeyEventId, list, []string{"ListBuckets"}},
		{cttypes.LookupAttributeKeyEventName, "AssumeRole", []string{"AssumeRole"}},
		{cttypes.LookupAttributeKeyReadOnly, "true", []string{"ListBuckets", "AssumeRole", "LookupEvents"}},
		{cttypes.LookupAttributeKeyReadOnly, "false", nil},
		{cttypes.LookupAttributeKeyUsername, "jit-t1-alice", []string{"ListBuckets"}},
		{cttypes.LookupAttributeKeyUsername, "jit-broker", []string{"AssumeRole", "LookupEvents"}},
		{cttypes.LookupAttributeKeyResourceType, "AWS::IAM::Role", []string{"AssumeRole"}},
		{cttypes.LookupAttributeKeyResourceName, devReadOnly, []string{"AssumeRole"}},
		{cttypes.LookupAttributeKeyEventSource, "s3.amazonaws.com", []string{"ListBuckets"}},
		{cttypes.LookupAttributeKeyAccessKeyId, akid, []string{"ListBuckets"}},
		{cttypes.LookupAttributeKeyAccessKeyId, "ASIANOSUCHKEY0000000", nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.key)+"="+tt.value, func(t *testing.T) {
			got := e.lookup(t, ct, byAttr(tt.key, tt.value))
			names := eventNames(got.Events)
			// Lookups are themselves recorded: keep only the first one
			// when a test expects LookupEvents.
			if len(names) > 0 && names[0] == "LookupEvents" {
				i := 0
				for i < len(names) && names[i] == "LookupEvents" {
					i++
				}
				names = append(names[i:], "LookupEvents")
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLookupEventsErrors(t *testing.T) {
	e := newEnv(t, DemoFixture())
	ct := e.brokerTrail()
	now := e.clock.Now()
	two := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AssumeRole")},
		{AttributeKey: cttypes.LookupAttributeKeyUsername, AttributeValue: aws.String("jit-broker")},
	}}
	ro := e.session(ticketSession(t, e, devReadOnly, "t1", "alice", nil).Credentials)
	roCreds, _ := ro.sts.Options().Credentials.Retrieve(ctx)
	tests := []struct {
		name string
		c    *cloudtrail.Client
		in   *cloudtrail.LookupEventsInput
		code string
	}{
		{"two attributes", ct, two, "InvalidLookupAttributesException"},
		{"unknown key", ct, byAttr("Region", "us-east-1"), "InvalidLookupAttributesException"},
		{"ReadOnly not a boolean", ct, byAttr(cttypes.LookupAttributeKeyReadOnly, "yes"), "InvalidLookupAttributesException"},
		{"start after end", ct, &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, "InvalidTimeRangeException"},
		{"MaxResults 0", ct, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(0)}, "InvalidMaxResultsException"},
		{"MaxResults 51", ct, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"forged NextToken", ct, &cloudtrail.LookupEventsInput{NextToken: aws.String("not-a-token")}, "InvalidNextTokenException"},
		{"unknown event category", ct, &cloudtrail.LookupEventsInput{EventCategory: "data"}, "InvalidEventCategoryException"},
		{"not allowed", e.trailClient(roCreds.AccessKeyID, roCreds.SecretAccessKey, roCreds.SessionToken), &cloudtrail.LookupEventsInput{}, "AccessDeniedException"},
		{"unknown key id", e.trailClient("AKIAUNKNOWNKEY000000", "x", ""), &cloudtrail.LookupEventsInput{}, "UnrecognizedClientException"},
		{"bad signature", e.trailClient(DemoBrokerAccessKeyID, "wrong", ""), &cloudtrail.LookupEventsInput{}, "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			_, err := tt.c.LookupEvents(ctx, tt.in)
			wantAPIError(t, err, tt.code, "")
		})
	}
	// Boundaries are accepted.
	for _, n := range []int32{1, 50} {
		e.lookup(t, ct, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(n)})
	}
	e.lookup(t, ct, &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now)})
}

// TestLookupEventsPaging: pages of MaxResults, newest first, with a
// NextToken good only for the same parameters.
func TestLookupEventsPaging(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	akid := aws.ToString(out.Credentials.AccessKeyId)
	c := e.session(out.Credentials)
	for i := 0; i < 7; i++ {
		if i%2 == 0 {
			e.clock.Advance(time.Second) // some events share a timestamp
		}
		if _, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	ct := e.brokerTrail()
	in := byAttr(cttypes.LookupAttributeKeyAccessKeyId, akid)
	in.MaxResults = aws.Int32(3)
	var ids []string
	var pages []int
	var last time.Time
	for {
		got := e.lookup(t, ct, in)
		pages = append(pages, len(got.Events))
		for _, ev := range got.Events {
			if !last.IsZero() && ev.EventTime.After(last) {
				t.Errorf("event at %v after %v: not newest first", ev.EventTime, last)
			}
			last = *ev.EventTime
			ids = append(ids, aws.ToString(ev.EventId))
		}
		if got.NextToken == nil {
			break
		}
		if len(pages) == 1 {
			// The token is tied to the call's parameters.
			other := byAttr(cttypes.LookupAttributeKeyAccessKeyId, akid)
			other.NextToken = got.NextToken
			e.clock.Advance(time.Second)
			_, err := ct.LookupEvents(ctx, other)
			wantAPIError(t, err, "InvalidNextTokenException", "")
			other = byAttr(cttypes.LookupAttributeKeyEventName, "GetCallerIdentity")
			other.MaxResults, other.NextToken = aws.Int32(3), got.NextToken
			e.clock.Advance(time.Second)
			_, err = ct.LookupEvents(ctx, other)
			wantAPIError(t, err, "InvalidNextTokenException", "")
		}
		in.NextToken = got.NextToken
	}
	if diff := cmp.Diff([]int{3, 3, 1}, pages); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	if len(seen) != 7 {
		t.Errorf("got %d distinct events over the pages, want 7", len(seen))
	}
	// The SDK's paginator walks the same pages.
	e.clock.Advance(time.Second)
	p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{LookupAttributes: in.LookupAttributes, MaxResults: aws.Int32(50)})
	page, err := p.NextPage(ctx)
	if err != nil || len(page.Events) != 7 || p.HasMorePages() {
		t.Errorf("paginator: %d events, more %v, err %v", len(page.Events), p.HasMorePages(), err)
	}
}

// TestLookupEventsThrottling: 2 calls a second per account and region,
// on the sandbox clock.
func TestLookupEventsThrottling(t *testing.T) {
	e := newEnv(t, DemoFixture())
	ct := e.brokerTrail()
	for i := 0; i < 2; i++ {
		if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	wantAPIError(t, err, "ThrottlingException", "Rate exceeded")
	// Another account has its own budget.
	admin := assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/AdministratorAccess"), RoleSessionName: aws.String("auditor")})
	if _, err := e.trailClient(aws.ToString(admin.Credentials.AccessKeyId), aws.ToString(admin.Credentials.SecretAccessKey),
		aws.ToString(admin.Credentials.SessionToken)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("other account: %v", err)
	}
	e.clock.Advance(500 * time.Millisecond)
	_, err = ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	wantAPIError(t, err, "ThrottlingException", "")
	e.clock.Advance(500 * time.Millisecond)
	if _, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); err != nil {
		t.Errorf("a second later: %v", err)
	}
}

// TestTrailDeliveryAndWindow: events show after the delivery delay and
// only for 90 days.
func TestTrailDeliveryAndWindow(t *testing.T) {
	e := newEnvWith(t, DemoFixture(), Options{TrailDelay: 5 * time.Minute})
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	in := byAttr(cttypes.LookupAttributeKeyEventName, "AssumeRole")
	ct := e.brokerTrail()
	if got := e.lookup(t, ct, in); len(got.Events) != 0 {
		t.Errorf("before the delivery delay: %v", eventNames(got.Events))
	}
	e.clock.Advance(5 * time.Minute)
	got := e.lookup(t, ct, in)
	if len(got.Events) != 1 || !strings.Contains(aws.ToString(got.Events[0].CloudTrailEvent), aws.ToString(out.Credentials.AccessKeyId)) {
		t.Fatalf("after the delivery delay: %v", eventNames(got.Events))
	}
	// A time range that ends before the event excludes it.
	e.clock.Advance(time.Second)
	r, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: in.LookupAttributes, EndTime: aws.Time(got.Events[0].EventTime.Add(-time.Second))})
	if err != nil || len(r.Events) != 0 {
		t.Errorf("range before the event: %v %v", r, err)
	}
	// The SDK corrects its clock skew from the Date header (retrying).
	e.clock.Advance(91 * 24 * time.Hour)
	retrying := cloudtrail.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")},
		func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(e.url) })
	if got := e.lookup(t, retrying, in); len(got.Events) != 0 {
		t.Errorf("after 90 days: %v", eventNames(got.Events))
	}
}

func TestAWSCLILookupEvents(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	e := newEnv(t, DemoFixture())
	s := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	akid := aws.ToString(s.Credentials.AccessKeyId)
	if err := listBuckets(e.session(s.Credentials)); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	out, err := runCLI(t, e, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "cloudtrail", "lookup-events",
		"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+akid)
	if err != nil {
		t.Fatalf("cloudtrail lookup-events: %v\n%s", err, out)
	}
	var got struct {
		Events []struct {
			EventName, Username, AccessKeyId, EventSource, CloudTrailEvent string
			EventTime                                                      string
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Events) != 1 || got.Events[0].EventName != "ListBuckets" || got.Events[0].Username != "jit-t1-alice" ||
		got.Events[0].AccessKeyId != akid || got.Events[0].EventTime == "" || !strings.Contains(got.Events[0].CloudTrailEvent, `"sourceIdentity":"alice"`) {
		t.Errorf("lookup-events = %s", out)
	}
	e.clock.Advance(time.Second)
	out, err = runCLI(t, e, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "cloudtrail", "lookup-events",
		"--lookup-attributes", "AttributeKey=AccessKeyId,AttributeValue="+akid, "AttributeKey=Username,AttributeValue=x")
	if err == nil || !strings.Contains(out, "InvalidLookupAttributesException") {
		t.Errorf("two attributes: %v\n%s", err, out)
	}
}
