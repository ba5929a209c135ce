package federation_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// wallClock follows the wall clock plus an offset the test moves, so that
// LookupEvents' 2 calls/s limit (on the sandbox clock) sees real pacing
// while the test still places calls before, in and after a window. Offsets
// stay well inside SigV4's 15-minute skew window.
type wallClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *wallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Set moves the clock so that it reads t now.
func (c *wallClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = t.Sub(time.Now().UTC())
}

func (c *wallClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// countingTrail counts the LookupEvents calls CloudTrail answered (with
// events or an API error) and the throttled ones. A call lost to the
// connection, which Activity retries as it should, is not counted, so that
// a dropped keep-alive connection on a loaded machine does not read as a
// second lookup.
type countingTrail struct {
	next      federation.LookupEventsAPI
	calls     atomic.Int64
	throttled atomic.Int64
}

func (c *countingTrail) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	out, err := c.next.LookupEvents(ctx, in, opts...)
	var ae smithy.APIError
	if err != nil && !errors.As(err, &ae) && ctx.Err() == nil {
		return out, err // lost to the connection
	}
	if code(err) == "ThrottlingException" {
		c.throttled.Add(1)
	}
	c.calls.Add(1)
	return out, err
}

type actEnv struct {
	clock *wallClock
	url   string
	sts   *sts.Client
	iam   *iam.Client
	trail *countingTrail
}

func newActEnv(t *testing.T) *actEnv {
	t.Helper()
	c := &wallClock{}
	sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)
	e := &actEnv{
		clock: c,
		url:   srv.URL,
		sts:   sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		iam:   iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
	}
	// CloudTrail through the management role, as cmd/jit wires it.
	clients := &federation.CloudTrailClients{Config: cfg, STS: e.sts, RoleName: sandbox.DemoManagementRole, Endpoint: srv.URL}
	e.trail = &countingTrail{next: clients.For("111111111111", "")}
	return e
}

func (e *actEnv) activity() *federation.Activity {
	return &federation.Activity{
		Trail: func(account, region string) federation.LookupEventsAPI {
			if account != "111111111111" || region != "" {
				panic("unexpected account or region " + account + " " + region)
			}
			return e.trail
		},
		Clock: e.clock,
	}
}

func (e *actEnv) mint(t *testing.T, ticket, user string, end time.Time) broker.Credentials {
	t.Helper()
	m := &federation.Minter{STS: e.sts, Clock: e.clock}
	r := mintReq(ticket, end)
	r.Beneficiary = user
	c, err := m.Mint(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// listBuckets calls S3 ListBuckets with c and returns the error code ("" on success).
func (e *actEnv) listBuckets(t *testing.T, c broker.Credentials) string {
	t.Helper()
	cfg := awsConfig(c.AccessKeyID, c.SecretAccessKey, c.SessionToken, nil)
	cl := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(e.url); o.UsePathStyle = true })
	_, err := cl.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	return code(err)
}

// got is what the tests compare of an event.
type got struct {
	Name, Key, User, Err, SourceIdentity string
}

func summary(evs []broker.ActivityEvent) []got {
	var out []got
	for _, e := range evs {
		out = append(out, got{e.EventName, e.AccessKeyID, e.Username, e.ErrorCode, e.SourceIdentity})
	}
	return out
}

func checkOrder(t *testing.T, evs []broker.ActivityEvent) {
	t.Helper()
	ids := map[string]bool{}
	for i, e := range evs {
		if ids[e.EventID] {
			t.Errorf("event %s twice", e.EventID)
		}
		ids[e.EventID] = true
		if i > 0 && e.EventTime.After(evs[i-1].EventTime) {
			t.Errorf("event %d (%s) is newer than event %d (%s): want newest first", i, e.EventTime, i-1, evs[i-1].EventTime)
		}
		if e.EventTime.Location() != time.UTC {
			t.Errorf("event time %s is not UTC", e.EventTime)
		}
	}
}

// The events of a ticket's window, found by access key and by session
// name, newest first, each once; calls before and after the window, and
// another ticket's calls, are left out.
func TestActivityOfTicketWindow(t *testing.T) {
	e := newActEnv(t)
	ctx := context.Background()
	t0 := e.clock.Now().Truncate(time.Second)
	start, end := t0.Add(time.Minute), t0.Add(6*time.Minute)
	const alice = "alice@example.com"
	session := "jit-act1-" + alice

	e.clock.Set(t0)
	k1 := e.mint(t, "act1", alice, end)
	if c := e.listBuckets(t, k1); c != "" { // before the window
		t.Fatal(c)
	}
	e.clock.Set(start.Add(time.Minute))
	var want []got
	for range 3 {
		e.clock.Advance(time.Second)
		if c := e.listBuckets(t, k1); c != "" {
			t.Fatal(c)
		}
		want = append([]got{{"ListBuckets", k1.AccessKeyID, session, "", alice}}, want...)
	}
	e.clock.Advance(time.Second)
	k2 := e.mint(t, "act1", alice, end) // a second session of the same ticket
	e.clock.Advance(time.Second)
	if c := e.listBuckets(t, k2); c != "" {
		t.Fatal(c)
	}
	want = append([]got{{"ListBuckets", k2.AccessKeyID, session, "", alice}}, want...)
	other := e.mint(t, "other", alice, end) // another ticket, same account and user
	if c := e.listBuckets(t, other); c != "" {
		t.Fatal(c)
	}
	// Terminated: the next call is denied, and recorded.
	e.clock.Advance(time.Second)
	rev := &federation.Revoker{IAM: func(string) federation.RolePolicyAPI { return e.iam }, Clock: e.clock}
	if err := rev.Revoke(ctx, broker.RevokeRequest{TicketID: "act1", AccountID: "111111111111", RoleName: "ReadOnlyAccess", Until: end}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if c := e.listBuckets(t, k1); c != "AccessDenied" {
		t.Fatalf("after revocation: %q, want AccessDenied", c)
	}
	want = append([]got{{"ListBuckets", k1.AccessKeyID, session, "AccessDenied", alice}}, want...)
	e.clock.Set(end.Add(time.Minute))
	if c := e.listBuckets(t, k1); c != "AccessDenied" { // after the window
		t.Fatalf("after the end: %q", c)
	}
	e.clock.Advance(time.Minute)

	byKey := func(evs []got, key string) []got {
		var out []got
		for _, g := range evs {
			if g.Key == key {
				out = append(out, g)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		q     broker.ActivityQuery
		want  []got
		calls int64
	}{
		{"by access key", broker.ActivityQuery{AccessKeyIDs: []string{k1.AccessKeyID}}, byKey(want, k1.AccessKeyID), 1},
		{"by session name", broker.ActivityQuery{RoleSessionsOf: []string{alice}}, want, 1},
		{"by both keys and session name", broker.ActivityQuery{AccessKeyIDs: []string{k1.AccessKeyID, k2.AccessKeyID, k1.AccessKeyID}, RoleSessionsOf: []string{alice}}, want, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.TicketID, q.AccountID, q.Start, q.End = "act1", "111111111111", start, end
			before := e.trail.calls.Load()
			evs, err := e.activity().Lookup(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summary(evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			checkOrder(t, evs)
			for _, ev := range evs {
				if ev.EventSource != "s3.amazonaws.com" || ev.EventTime.Before(start) || ev.EventTime.After(end) || !ev.ReadOnly || ev.Region != "us-east-1" {
					t.Errorf("event %+v: want a read-only s3 event in us-east-1 inside [%s, %s]", ev, start, end)
				}
			}
			if n := e.trail.calls.Load() - before; n != tc.calls {
				t.Errorf("%d LookupEvents calls, want %d (one per attribute)", n, tc.calls)
			}
		})
	}
	if n := e.trail.throttled.Load(); n != 0 {
		t.Errorf("%d ThrottlingException answers, want none", n)
	}

	// A window that has not started yet, or nothing to look for: no calls.
	before := e.trail.calls.Load()
	evs, err := e.activity().Lookup(ctx, broker.ActivityQuery{TicketID: "later", AccountID: "111111111111",
		AccessKeyIDs: []string{k1.AccessKeyID}, Start: e.clock.Now().Add(time.Hour), End: e.clock.Now().Add(2 * time.Hour)})
	if err != nil || len(evs) != 0 {
		t.Errorf("future window: %v %v", evs, err)
	}
	if evs, err := e.activity().Lookup(ctx, broker.ActivityQuery{TicketID: "none", AccountID: "111111111111", Start: start, End: end}); err != nil || evs == nil || len(evs) != 0 {
		t.Errorf("no attributes: %#v %v, want an empty list", evs, err)
	}
	if n := e.trail.calls.Load() - before; n != 0 {
		t.Errorf("%d LookupEvents calls for empty queries", n)
	}
}

// More than 50 events come in pages, newest first, each once.
func TestActivityPages(t *testing.T) {
	e := newActEnv(t)
	ctx := context.Background()
	start := e.clock.Now().Truncate(time.Second)
	end := start.Add(time.Hour)
	k := e.mint(t, "busy", "alice@example.com", end)
	const n = 120
	for i := range n {
		if i%10 == 0 {
			e.clock.Advance(time.Second)
		}
		if c := e.listBuckets(t, k); c != "" {
			t.Fatal(c)
		}
	}
	e.clock.Advance(time.Second)
	evs, err := e.activity().Lookup(ctx, broker.ActivityQuery{TicketID: "busy", AccountID: "111111111111",
		AccessKeyIDs: []string{k.AccessKeyID}, RoleSessionsOf: []string{"alice@example.com"}, Start: start, End: end})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
	checkOrder(t, evs)
	// 3 pages by access key, 3 by session name. On a loaded machine a call
	// may still reach the sandbox's rate window early and be throttled;
	// it is retried, so count the answered ones.
	throttled := e.trail.throttled.Load()
	if got := e.trail.calls.Load() - throttled; got != 6 {
		t.Errorf("%d answered LookupEvents calls, want 6", got)
	}
	if throttled > 1 {
		t.Errorf("%d ThrottlingException answers, want at most one (pacing)", throttled)
	}
}

// Many attributes, and two tickets of one account looked up at once, stay
// under 2 calls a second (on the sandbox clock, which follows the wall
// clock here); without the pace the sandbox throttles, and the retries
// still bring the whole answer.
func TestActivityRateLimit(t *testing.T) {
	e := newActEnv(t)
	ctx := context.Background()
	start := e.clock.Now().Truncate(time.Second)
	end := start.Add(time.Hour)
	users := []string{"alice@example.com", "bob@example.com"}
	queries := map[string]broker.ActivityQuery{}
	for _, ticket := range []string{"rate1", "rate2"} {
		q := broker.ActivityQuery{TicketID: ticket, AccountID: "111111111111", Start: start, End: end, RoleSessionsOf: users}
		for _, u := range users[:1] {
			c := e.mint(t, ticket, u, end)
			if code := e.listBuckets(t, c); code != "" {
				t.Fatal(code)
			}
			q.AccessKeyIDs = append(q.AccessKeyIDs, c.AccessKeyID)
		}
		queries[ticket] = q
	}
	e.clock.Advance(time.Second)

	run := func(a *federation.Activity) map[string]int {
		var mu sync.Mutex
		counts := map[string]int{}
		var wg sync.WaitGroup
		for id, q := range queries {
			wg.Go(func() {
				evs, err := a.Lookup(ctx, q)
				if err != nil {
					t.Errorf("%s: %v", id, err)
				}
				mu.Lock()
				counts[id] = len(evs)
				mu.Unlock()
			})
		}
		wg.Wait()
		return counts
	}
	want := map[string]int{"rate1": 1, "rate2": 1}
	began := time.Now()
	if got := run(e.activity()); !cmp.Equal(got, want) {
		t.Errorf("events per ticket %v, want %v", got, want)
	}
	calls := e.trail.calls.Load()
	if calls != 6 {
		t.Errorf("%d LookupEvents calls, want 6 (3 attributes x 2 tickets)", calls)
	}
	if n := e.trail.throttled.Load(); n != 0 {
		t.Errorf("paced: %d ThrottlingException answers, want none", n)
	}
	if took, least := time.Since(began), time.Duration(float64(calls-1)/2*float64(time.Second)); took < least {
		t.Errorf("%d calls took %s, less than %s at 2 a second", calls, took, least)
	}

	// Unpaced: the sandbox throttles, Activity retries with backoff.
	e.clock.Advance(time.Second)
	fast := e.activity()
	fast.Pace = federation.NewLookupPacer(1000)
	if got := run(fast); !cmp.Equal(got, want) {
		t.Errorf("unpaced: events per ticket %v, want %v", got, want)
	}
	if e.trail.throttled.Load() == 0 {
		t.Errorf("unpaced: no call was throttled; the test does not show the retry")
	}
}

// Repeated lookups within the TTL, also concurrent ones, make one set of
// calls; after the TTL, and for a new session, they look again.
func TestActivityCache(t *testing.T) {
	e := newActEnv(t)
	ctx := context.Background()
	start := e.clock.Now().Truncate(time.Second)
	end := start.Add(time.Hour)
	k := e.mint(t, "cached", "alice@example.com", end)
	if c := e.listBuckets(t, k); c != "" {
		t.Fatal(c)
	}
	e.clock.Advance(time.Second)
	a := e.activity()
	q := broker.ActivityQuery{TicketID: "cached", AccountID: "111111111111", AccessKeyIDs: []string{k.AccessKeyID},
		RoleSessionsOf: []string{"alice@example.com"}, Start: start, End: end}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			evs, err := a.Lookup(ctx, q)
			if err != nil || len(evs) != 1 {
				t.Errorf("lookup %d: %v %v", i, evs, err)
			}
		})
	}
	wg.Wait()
	if n := e.trail.calls.Load(); n != 2 {
		t.Fatalf("%d LookupEvents calls for 4 concurrent lookups, want 2 (one per attribute)", n)
	}
	// A new call by the session is not seen until the cache expires.
	e.clock.Advance(30 * time.Second)
	if c := e.listBuckets(t, k); c != "" {
		t.Fatal(c)
	}
	evs, err := a.Lookup(ctx, q)
	if err != nil || len(evs) != 1 {
		t.Fatalf("cached: %v %v", evs, err)
	}
	if n := e.trail.calls.Load(); n != 2 {
		t.Errorf("%d LookupEvents calls after a cached lookup, want still 2", n)
	}
	evs[0].EventName = "changed" // callers get copies
	if evs, _ := a.Lookup(ctx, q); evs[0].EventName != "ListBuckets" {
		t.Errorf("the cache was changed through an answer: %+v", evs[0])
	}
	e.clock.Advance(federation.DefaultActivityTTL)
	evs, err = a.Lookup(ctx, q)
	if err != nil || len(evs) != 2 {
		t.Fatalf("after the TTL: %d events, %v; want 2", len(evs), err)
	}
	if n := e.trail.calls.Load(); n != 4 {
		t.Errorf("%d LookupEvents calls after the TTL, want 4", n)
	}
	// A new session is a new query: looked up at once.
	k2 := e.mint(t, "cached", "alice@example.com", end)
	q.AccessKeyIDs = append(q.AccessKeyIDs, k2.AccessKeyID)
	if _, err := a.Lookup(ctx, q); err != nil {
		t.Fatal(err)
	}
	if n := e.trail.calls.Load(); n != 7 {
		t.Errorf("%d LookupEvents calls for a new session, want 7", n)
	}
}

// A role that may not read CloudTrail makes the lookup unavailable (with a
// message users can act on) rather than an internal error.
func TestActivityNoAccess(t *testing.T) {
	e := newActEnv(t)
	cfg := awsConfig(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "", nil)
	clients := &federation.CloudTrailClients{Config: cfg, STS: e.sts, RoleName: "ReadOnlyAccess", Endpoint: e.url}
	a := &federation.Activity{Trail: clients.For, Clock: e.clock}
	now := e.clock.Now()
	_, err := a.Lookup(context.Background(), broker.ActivityQuery{TicketID: "x", AccountID: "222222222222",
		AccessKeyIDs: []string{"ASIAEXAMPLE"}, Start: now.Add(-time.Hour), End: now})
	if broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Fatalf("got %v (%s), want %s", err, broker.ErrorCode(err), broker.EUNAVAILABLE)
	}
}
