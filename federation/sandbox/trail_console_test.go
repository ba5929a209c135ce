package sandbox

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// TestConsoleLoginEvent: a federated console sign-in is recorded as a
// ConsoleLogin event of the session, found by its session name (the
// Username of its API calls too), after the trail's delivery delay.
func TestConsoleLoginEvent(t *testing.T) {
	e := newEnv(t, DemoFixture())
	e.sb.SetTrailDelay(5 * time.Minute)
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	code, tok := getToken(t, e, "GET", sessionJSON(out.Credentials), "")
	if code != 200 {
		t.Fatalf("getSigninToken: %d", code)
	}
	if code, body := get(t, browser(t), loginURL(e, tok)); code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	find := func() []cttypes.Event {
		t.Helper()
		return e.lookup(t, e.brokerTrail(), byAttr(cttypes.LookupAttributeKeyEventName, "ConsoleLogin")).Events
	}
	if evs := find(); len(evs) != 0 {
		t.Fatalf("ConsoleLogin visible before the delivery delay: %v", eventNames(evs))
	}
	e.clock.Add(5 * time.Minute)
	evs := find()
	if len(evs) != 1 {
		t.Fatalf("ConsoleLogin events = %v", eventNames(evs))
	}
	if got := aws.ToString(evs[0].Username); got != "jit-t1-alice" {
		t.Errorf("Username = %q, want the session name", got)
	}
	doc := parseEvent(t, evs[0])
	if doc.EventSource != "signin.amazonaws.com" || doc.UserIdentity.Type != "AssumedRole" || doc.UserIdentity.ARN != aws.ToString(out.AssumedRoleUser.Arn) ||
		doc.UserIdentity.AccessKeyID != "" || doc.UserIdentity.SessionContext.SourceIdentity != "alice" || doc.ResponseElements["ConsoleLogin"] != "Success" {
		t.Errorf("ConsoleLogin event = %+v", doc)
	}
	// The session's activity (by user name) shows the sign-in.
	byUser := e.lookup(t, e.brokerTrail(), byAttr(cttypes.LookupAttributeKeyUsername, "jit-t1-alice")).Events
	if names := eventNames(byUser); len(names) == 0 || names[0] != "ConsoleLogin" {
		t.Errorf("events of jit-t1-alice = %v, want the ConsoleLogin first (newest)", names)
	}
}

// TestAssumeRoleEventFields: the AssumeRole event carries the transitive
// tag keys and the assumed role user, as AWS records them.
func TestAssumeRoleEventFields(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := assume(t, e.broker(), &sts.AssumeRoleInput{
		RoleArn: aws.String(devReadOnly), RoleSessionName: aws.String("jit-t2-bob"), SourceIdentity: aws.String("bob"),
		Tags:              []ststypes.Tag{{Key: aws.String("jit-ticket"), Value: aws.String("t2")}, {Key: aws.String("team"), Value: aws.String("blue")}},
		TransitiveTagKeys: []string{"jit-ticket"},
	})
	evs := e.lookup(t, e.brokerTrail(), byAttr(cttypes.LookupAttributeKeyEventName, "AssumeRole")).Events
	if len(evs) != 1 {
		t.Fatalf("AssumeRole events = %v", eventNames(evs))
	}
	doc := parseEvent(t, evs[0])
	keys, _ := doc.RequestParameters["transitiveTagKeys"].([]any)
	if len(keys) != 1 || keys[0] != "jit-ticket" || doc.RequestParameters["sourceIdentity"] != "bob" {
		t.Errorf("requestParameters = %v", doc.RequestParameters)
	}
	user, _ := doc.ResponseElements["assumedRoleUser"].(map[string]any)
	creds, _ := doc.ResponseElements["credentials"].(map[string]any)
	if user["arn"] != aws.ToString(out.AssumedRoleUser.Arn) || user["assumedRoleId"] != aws.ToString(out.AssumedRoleUser.AssumedRoleId) ||
		creds["accessKeyId"] != aws.ToString(out.Credentials.AccessKeyId) || creds["expiration"] != out.Credentials.Expiration.UTC().Format(time.RFC3339) {
		t.Errorf("responseElements = %v", doc.ResponseElements)
	}
}
