package sandbox

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// brokerConfig is the broker's SDK config with the given retryer.
func brokerConfig(r func() aws.Retryer) aws.Config {
	return aws.Config{Region: "us-east-1", Retryer: r,
		Credentials: credentials.NewStaticCredentialsProvider(DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "")}
}

// noRetry retries no answer, so injected errors show. It does retry a
// request whose connection net/http closed under it: after a fast answer
// the transport can report the request's write as failed and close the
// connection while the answer's body is read ("use of closed network
// connection"), which production clients retry too. The sandbox clock
// moves a second before the retry, clear of CloudTrail's 2 calls/s.
func (e *env) noRetry() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
			e.clock.Advance(time.Second)
			return 0, nil
		})
		o.RateLimiter = ratelimit.None
	})
}

// TestThrottledCallsComplete: at 30 % throttling the SDK's standard
// retryer, with more attempts, still completes every call.
func TestThrottledCallsComplete(t *testing.T) {
	e := newEnvWith(t, DemoFixture(), Options{Seed: 7})
	e.sb.SetFault("sts:AssumeRole", Fault{ThrottleRate: 0.3})
	c := sts.NewFromConfig(brokerConfig(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.MaxBackoff = 20 * time.Millisecond // keep the test fast; the policy is the standard one
		})
	}), func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
	for i := 0; i < 20; i++ {
		if _, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(devReadOnly), RoleSessionName: aws.String(fmt.Sprintf("s%d", i))}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// The throttled attempts are in the trail, with their error code.
	e.sb.mu.Lock()
	throttled, ok := 0, 0
	for _, ev := range e.sb.trail.events["111111111111"] {
		switch {
		case strings.Contains(ev.doc, `"errorCode":"Throttling"`):
			throttled++
		case ev.name == "AssumeRole":
			ok++
		}
	}
	e.sb.mu.Unlock()
	if ok != 20 || throttled == 0 {
		t.Errorf("trail: %d AssumeRole succeeded, %d throttled; want 20 and some", ok, throttled)
	}
	if n := len(e.sb.sessions); n != 20 {
		t.Errorf("%d sessions minted, want 20", n)
	}
}

// TestFaultCodes: every protocol answers with its own throttling and
// internal error codes.
func TestFaultCodes(t *testing.T) {
	e := newEnvWith(t, DemoFixture(), Options{})
	cfg := brokerConfig(e.noRetry)
	stsC := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
	iamC := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(e.url) })
	s3C := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
	ec2C := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(e.url) })
	ctC := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(e.url) })
	calls := map[string]func() error{
		"sts:GetCallerIdentity": func() error { _, err := stsC.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err },
		"iam:GetRole": func() error {
			_, err := iamC.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ReadOnlyAccess")})
			return err
		},
		"s3:ListBuckets":          func() error { _, err := s3C.ListBuckets(ctx, &s3.ListBucketsInput{}); return err },
		"ec2:DescribeRegions":     func() error { _, err := ec2C.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); return err },
		"cloudtrail:LookupEvents": func() error { _, err := ctC.LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); return err },
	}
	tests := []struct {
		op                 string
		throttle, internal string
		throttleStatus     int
	}{
		{"sts:GetCallerIdentity", "Throttling", "InternalFailure", 400},
		{"iam:GetRole", "Throttling", "InternalFailure", 400},
		{"s3:ListBuckets", "SlowDown", "InternalError", 503},
		{"ec2:DescribeRegions", "RequestLimitExceeded", "InternalError", 503},
		{"cloudtrail:LookupEvents", "ThrottlingException", "InternalServerException", 400},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			e.clock.Advance(time.Second)
			e.sb.SetFault(tt.op, Fault{ThrottleRate: 1})
			err := calls[tt.op]()
			wantAPIError(t, err, tt.throttle, "")
			if got := httpStatus(err); got != tt.throttleStatus {
				t.Errorf("throttling status = %d, want %d", got, tt.throttleStatus)
			}
			e.sb.SetFault(tt.op, Fault{ErrorRate: 1})
			err = calls[tt.op]()
			wantAPIError(t, err, tt.internal, "")
			if got := httpStatus(err); got != 500 {
				t.Errorf("internal error status = %d, want 500", got)
			}
			e.sb.SetFault(tt.op, Fault{})
			e.clock.Advance(time.Second)
			if err := calls[tt.op](); err != nil {
				t.Errorf("after the fault is removed: %v", err)
			}
		})
	}

	// "<service>:*" and "*" cover every operation; the exact entry wins.
	e.sb.SetFault("*", Fault{ErrorRate: 1})
	e.sb.SetFault("sts:*", Fault{ThrottleRate: 1})
	e.sb.SetFault("sts:AssumeRole", Fault{})
	wantAPIError(t, calls["sts:GetCallerIdentity"](), "Throttling", "")
	wantAPIError(t, calls["s3:ListBuckets"](), "InternalError", "")
	e.sb.SetFault("sts:GetCallerIdentity", Fault{Latency: time.Millisecond})
	if err := calls["sts:GetCallerIdentity"](); err != nil {
		t.Errorf("exact entry without errors: %v", err)
	}
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// TestFaultLatency: added latency delays the answer.
func TestFaultLatency(t *testing.T) {
	e := newEnvWith(t, DemoFixture(), Options{})
	e.sb.SetFault("s3:ListBuckets", Fault{Latency: 100 * time.Millisecond})
	c := e.broker()
	start := time.Now()
	if err := listBuckets(c); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("ListBuckets took %v, want at least 100ms", d)
	}
	if got := e.sb.Faults(); got["s3:ListBuckets"].Latency != 100*time.Millisecond {
		t.Errorf("Faults() = %v", got)
	}
}

// TestPropagationDelay: a deny entry takes effect only after the delay,
// and so does its removal.
func TestPropagationDelay(t *testing.T) {
	e := newEnv(t, DemoFixture())
	e.sb.SetPropagationDelay(30 * time.Second)
	c := e.session(ticketSession(t, e, devReadOnly, "t1", "alice", nil).Credentials)
	broker := e.broker()
	if err := put(broker, "ReadOnlyAccess", "jit-revocations", fmt.Sprintf(denyTemplate, `"t1"`)); err != nil {
		t.Fatal(err)
	}
	if err := listBuckets(c); err != nil {
		t.Errorf("right after the deny entry: %v", err)
	}
	e.clock.Advance(29 * time.Second)
	if err := listBuckets(c); err != nil {
		t.Errorf("29s after the deny entry: %v", err)
	}
	e.clock.Advance(time.Second)
	wantAPIError(t, listBuckets(c), "AccessDenied", "")

	if _, err := broker.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("jit-revocations")}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	wantAPIError(t, listBuckets(c), "AccessDenied", "")
	e.clock.Advance(20 * time.Second)
	if err := listBuckets(c); err != nil {
		t.Errorf("after the removal propagated: %v", err)
	}

	// With no delay, changes apply at once again.
	e.sb.SetPropagationDelay(0)
	if err := put(broker, "ReadOnlyAccess", "jit-revocations", fmt.Sprintf(denyTemplate, `"t1"`)); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, listBuckets(c), "AccessDenied", "")
}

// TestAdminEndpoint: off by default; on, it steers faults, delays and
// shows the trail.
func TestAdminEndpoint(t *testing.T) {
	off := newEnv(t, DemoFixture())
	for _, p := range []string{"/_sandbox/faults", "/_sandbox/events", "/_sandbox/propagation-delay"} {
		if status, _ := get(t, http.DefaultClient, off.url+p); status != 404 {
			t.Errorf("admin off: GET %s = %d, want 404", p, status)
		}
	}

	e := newEnvWith(t, DemoFixture(), Options{Admin: true})
	post := func(path, body string) int {
		t.Helper()
		resp, err := http.Post(e.url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("/_sandbox/faults", `{"operation":"sts:GetCallerIdentity","throttle_rate":1}`); got != 204 {
		t.Fatalf("POST faults = %d", got)
	}
	c := sts.NewFromConfig(brokerConfig(e.noRetry), func(o *sts.Options) { o.BaseEndpoint = aws.String(e.url) })
	_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "Throttling", "")
	if status, body := get(t, http.DefaultClient, e.url+"/_sandbox/faults"); status != 200 || !strings.Contains(body, `"sts:GetCallerIdentity":{"throttle_rate":1,"error_rate":0,"latency_ms":0}`) {
		t.Errorf("GET faults = %d %s", status, body)
	}
	if got := post("/_sandbox/faults", `{"operation":"sts:GetCallerIdentity"}`); got != 204 {
		t.Fatalf("POST faults (clear) = %d", got)
	}
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("after clearing: %v", err)
	}
	for body, want := range map[string]int{
		`{"operation":"*","throttle_rate":1.5}`: 400,
		`{"throttle_rate":0.5}`:                 400,
		`{"operation":"*","rate":1}`:            400,
		`not json`:                              400,
	} {
		if got := post("/_sandbox/faults", body); got != want {
			t.Errorf("POST faults %s = %d, want %d", body, got, want)
		}
	}
	if got := post("/_sandbox/propagation-delay", `{"delay_seconds":5}`); got != 204 || e.sb.propagationDelay() != 5*time.Second {
		t.Errorf("POST propagation-delay = %d, delay %v", got, e.sb.propagationDelay())
	}
	if got := post("/_sandbox/trail-delay", `{"delay_seconds":-1}`); got != 400 {
		t.Errorf("POST trail-delay negative = %d", got)
	}
	if got := post("/_sandbox/trail-delay", `{"delay_seconds":300}`); got != 204 {
		t.Errorf("POST trail-delay = %d", got)
	}
	if got := post("/_sandbox/assignments", `{"delay_seconds":2,"result":"MAYBE"}`); got != 400 {
		t.Errorf("POST assignments bad result = %d", got)
	}
	if got := post("/_sandbox/assignments", `{"delay_seconds":2,"result":"FAILED"}`); got != 204 {
		t.Errorf("POST assignments = %d", got)
	}
	e.sb.mu.Lock()
	if e.sb.ic.assignmentDelay != 2*time.Second || e.sb.ic.assignmentResult != "FAILED" {
		t.Errorf("assignment behaviour = %v %s", e.sb.ic.assignmentDelay, e.sb.ic.assignmentResult)
	}
	e.sb.mu.Unlock()
	status, body := get(t, http.DefaultClient, e.url+"/_sandbox/events?account=111111111111")
	if status != 200 || !strings.Contains(body, `"eventName":"GetCallerIdentity"`) || !strings.Contains(body, `"errorCode":"Throttling"`) {
		t.Errorf("GET events = %d %s", status, body)
	}
}
