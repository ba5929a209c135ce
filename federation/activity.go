package federation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/jitaccess/jit/broker"
)

// CloudTrail LookupEvents limits (aws-facts.md section 6).
const (
	// lookupPageSize is LookupEvents' largest MaxResults.
	lookupPageSize = 50
	// DefaultLookupsPerSecond paces LookupEvents per account and region:
	// AWS allows 2 a second.
	DefaultLookupsPerSecond = 2
	// DefaultActivityTTL is how long a ticket's activity is cached.
	DefaultActivityTTL = time.Minute
	// DefaultActivityMaxPages bounds the pages read per lookup attribute
	// (50 events each), so one busy ticket cannot hold the limit for long.
	DefaultActivityMaxPages = 20
)

// throttle backoff: first wait, cap, and attempts before giving up.
const (
	throttleFirstWait = 500 * time.Millisecond
	throttleMaxWait   = 8 * time.Second
	throttleAttempts  = 8
)

// LookupEventsAPI is the one CloudTrail call Activity makes.
type LookupEventsAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// Activity looks up a ticket's CloudTrail activity with LookupEvents: one
// lookup attribute per call (each issued AccessKeyId, each role session
// name jit-<ticket>-<user>, each Identity Center user name), paged with
// NextToken at 50 events a page, merged newest first and de-duplicated by
// EventId. Only the events of the ticket's scope are kept (see inScope):
// made in its account, inside the query's window, and by its own
// sessions; on the Identity Center path, by the beneficiaries' sessions of
// the ticket's permission set's role, not of the other sets they hold.
// Calls are paced per account and region under CloudTrail's 2
// requests a second (see LookupPacer), ThrottlingException is retried with
// backoff, and answers are cached for TTL, so repeated page views do not
// spend the limit. The cache and the pace hold within one process.
// CloudTrail's limit also counts other callers in the account (consoles,
// scripts): the retries absorb what they take.
type Activity struct {
	// Trail returns the CloudTrail client for an account and region
	// ("" means the client's default region). Required. Its clients
	// should not retry on their own (see CloudTrailClients.For): Activity
	// retries in its pace.
	Trail func(accountID, region string) LookupEventsAPI
	// Regions are the regions looked in; empty means the default region.
	Regions []string
	Clock   broker.Clock // default: the system clock
	// TTL is how long answers are cached; default DefaultActivityTTL,
	// negative disables the cache.
	TTL time.Duration
	// Pace spaces LookupEvents calls per account and region; nil means
	// the pace every Activity of this process shares.
	Pace *LookupPacer
	// MaxPages bounds the pages read per attribute; default DefaultActivityMaxPages.
	MaxPages int
	// UserName, when set, turns the query's Usernames (emails, on the
	// Identity Center path) into Identity Center user names, which is what
	// CloudTrail records for portal sessions; an email it cannot resolve
	// is looked up as it is.
	UserName func(ctx context.Context, email string) (string, error)
	// PermissionSetName resolves an Identity Center permission set ARN to
	// its name, which names its roles (AWSReservedSSO_<name>_<suffix>);
	// PermissionSetNames.Name is one. Without it, queries on the Identity
	// Center path are refused (EUNAVAILABLE): a user name alone would
	// match the user's sessions of every permission set.
	PermissionSetName func(ctx context.Context, arn string) (string, error)

	mu      sync.Mutex
	cache   map[string]cachedActivity
	flights map[string]*activityFlight
}

var _ broker.ActivitySource = (*Activity)(nil)

type cachedActivity struct {
	events  []broker.ActivityEvent
	expires time.Time
}

// activityFlight is a lookup in progress that concurrent callers of the
// same query wait for, instead of spending the limit twice.
type activityFlight struct {
	done   chan struct{}
	events []broker.ActivityEvent
	err    error
}

// lookupAttr is one LookupEvents attribute and what it stands for.
type lookupAttr struct {
	key   cttypes.LookupAttributeKey
	value string
	kind  attrKind
}

// Lookup implements broker.ActivitySource.
func (a *Activity) Lookup(ctx context.Context, q broker.ActivityQuery) ([]broker.ActivityEvent, error) {
	if a.Trail == nil {
		return nil, broker.Errorf(broker.EUNAVAILABLE, "activity lookup is not configured")
	}
	if a.UserName != nil {
		resolved := map[string]string{}
		name := func(email string) string {
			if n, ok := resolved[email]; ok {
				return n
			}
			n := email
			if got, err := a.UserName(ctx, email); err == nil && got != "" {
				n = got
			}
			resolved[email] = n
			return n
		}
		names := make([]string, 0, len(q.Usernames))
		for _, email := range q.Usernames {
			names = append(names, name(email))
		}
		q.Usernames = names
		shared := make([]broker.ActivitySpan, 0, len(q.Shared))
		for _, sp := range q.Shared {
			sp.User = name(sp.User)
			shared = append(shared, sp)
		}
		q.Shared = shared
	}
	ssoRole, err := a.ssoRoleName(ctx, q)
	if err != nil {
		return nil, err
	}
	attrs := queryAttrs(q)
	key := cacheKey(q, ssoRole, attrs)
	for {
		a.mu.Lock()
		now := a.now()
		if c, ok := a.cache[key]; ok && now.Before(c.expires) {
			a.mu.Unlock()
			return slices.Clone(c.events), nil
		}
		if f, ok := a.flights[key]; ok {
			a.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			switch {
			case f.err == nil:
				return slices.Clone(f.events), nil
			case !errors.Is(f.err, context.Canceled) && !errors.Is(f.err, context.DeadlineExceeded):
				return nil, f.err
			}
			continue // its caller gave up, we did not: look ourselves
		}
		f := &activityFlight{done: make(chan struct{})}
		if a.flights == nil {
			a.flights = map[string]*activityFlight{}
		}
		a.flights[key] = f
		a.mu.Unlock()

		f.events, f.err = a.lookup(ctx, q, ssoRole, attrs)
		a.mu.Lock()
		delete(a.flights, key)
		if f.err == nil && a.ttl() > 0 {
			a.store(key, f.events, a.now())
		}
		a.mu.Unlock()
		close(f.done)
		if f.err != nil {
			return nil, f.err
		}
		return slices.Clone(f.events), nil
	}
}

// lookup reads every attribute in every region and merges the answers
// that are in the ticket's scope. CloudTrail records event times in whole
// seconds, so the window starts at the second of q.Start.
func (a *Activity) lookup(ctx context.Context, q broker.ActivityQuery, ssoRole string, attrs []lookupAttr) ([]broker.ActivityEvent, error) {
	start, end := q.Start.UTC().Truncate(time.Second), q.End.UTC()
	if now := a.now(); end.IsZero() || end.After(now) {
		end = now
	}
	out := []broker.ActivityEvent{}
	if len(attrs) == 0 || !start.Before(end) {
		return out, nil
	}
	seen := map[string]bool{}
	regions := a.Regions
	if len(regions) == 0 {
		regions = []string{""}
	}
	for _, region := range regions {
		client := a.Trail(q.AccountID, region)
		slot := a.pace().slot(q.AccountID, region)
		for _, at := range attrs {
			in := &cloudtrail.LookupEventsInput{
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: at.key, AttributeValue: aws.String(at.value)}},
				StartTime:        aws.Time(start),
				EndTime:          aws.Time(end),
				MaxResults:       aws.Int32(lookupPageSize),
			}
			for page := 0; page < a.maxPages(); page++ {
				res, err := a.call(ctx, client, slot, in)
				if err != nil {
					return nil, lookupError(q.AccountID, at, err)
				}
				for _, ev := range res.Events {
					e, doc := toActivityEvent(ev)
					if e.EventID == "" || seen[e.EventID] || e.EventTime.Before(start) || e.EventTime.After(end) ||
						!inScope(doc, at, q.AccountID, ssoRole) {
						continue
					}
					seen[e.EventID] = true
					e.Shared = at.kind == byPortalUser && sharedAt(q.Shared, at.value, e.EventTime)
					out = append(out, e)
				}
				if aws.ToString(res.NextToken) == "" {
					break
				}
				in.NextToken = res.NextToken
			}
		}
	}
	slices.SortStableFunc(out, func(x, y broker.ActivityEvent) int { return y.EventTime.Compare(x.EventTime) })
	return out, nil
}

// call sends one LookupEvents in the account's pace, retrying
// ThrottlingException and the SDK's other retryable errors (connection
// errors, 5xx) with jittered, growing waits; every attempt takes its turn
// in the pace.
func (a *Activity) call(ctx context.Context, client LookupEventsAPI, slot *paceSlot, in *cloudtrail.LookupEventsInput) (*cloudtrail.LookupEventsOutput, error) {
	wait := throttleFirstWait
	for attempt := 1; ; attempt++ {
		var out *cloudtrail.LookupEventsOutput
		err := slot.do(ctx, func() (err error) {
			out, err = client.LookupEvents(ctx, in)
			return err
		})
		if err == nil || !retryableLookup(err) || attempt == throttleAttempts {
			return out, err
		}
		if err := sleep(ctx, jitter(wait)); err != nil {
			return nil, err
		}
		wait = min(2*wait, throttleMaxWait)
	}
}

// retryableLookup reports whether a failed LookupEvents is worth another try.
func retryableLookup(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// lookupError turns a failed lookup into an error users can act on.
func lookupError(account string, at lookupAttr, err error) error {
	switch apiCode(err) {
	case "ThrottlingException":
		return broker.Errorf(broker.EUNAVAILABLE, "CloudTrail in account %s is busy; try again in a minute", account)
	case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException":
		return broker.Errorf(broker.EUNAVAILABLE, "JIT may not read CloudTrail in account %s", account)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("lookup events by %s in %s: %w", at.key, account, err)
}

// queryAttrs returns the lookup attributes of q, each once.
func queryAttrs(q broker.ActivityQuery) []lookupAttr {
	var out []lookupAttr
	add := func(k cttypes.LookupAttributeKey, v string, kind attrKind) {
		if at := (lookupAttr{k, v, kind}); v != "" && !slices.Contains(out, at) {
			out = append(out, at)
		}
	}
	for _, k := range q.AccessKeyIDs {
		add(cttypes.LookupAttributeKeyAccessKeyId, k, byAccessKey)
	}
	for _, u := range q.RoleSessionsOf {
		add(cttypes.LookupAttributeKeyUsername, SessionName(q.TicketID, u), byRoleSession)
	}
	for _, u := range q.Usernames {
		add(cttypes.LookupAttributeKeyUsername, u, byPortalUser)
	}
	return out
}

// cacheKey identifies a query by its ticket, account, declared window,
// Identity Center role and attributes; the window's clamp to now is not
// part of it, so an active ticket's page views within the TTL share one
// answer.
func cacheKey(q broker.ActivityQuery, ssoRole string, attrs []lookupAttr) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%d|%d|%q", q.TicketID, q.AccountID, q.Start.UnixNano(), q.End.UnixNano(), ssoRole)
	for _, at := range attrs {
		fmt.Fprintf(&b, "|%d:%s=%q", at.kind, at.key, at.value)
	}
	for _, sp := range q.Shared {
		fmt.Fprintf(&b, "|shared:%q@%d-%d", sp.User, sp.Start.UnixNano(), sp.End.UnixNano())
	}
	return b.String()
}

// sharedAt reports whether an event of user's portal session (user is an
// Identity Center user name, as span users are here) at time at falls in
// one of user's spans. Event times are whole seconds, so a span starts at
// its second.
func sharedAt(spans []broker.ActivitySpan, user string, at time.Time) bool {
	for _, sp := range spans {
		if sp.User == user && !at.Before(sp.Start.UTC().Truncate(time.Second)) && !at.After(sp.End) {
			return true
		}
	}
	return false
}

// store caches events under key until now+TTL and drops expired entries (a.mu held).
func (a *Activity) store(key string, events []broker.ActivityEvent, now time.Time) {
	if a.cache == nil {
		a.cache = map[string]cachedActivity{}
	}
	for k, c := range a.cache {
		if !now.Before(c.expires) {
			delete(a.cache, k)
		}
	}
	a.cache[key] = cachedActivity{events: events, expires: now.Add(a.ttl())}
}

func (a *Activity) pace() *LookupPacer {
	if a.Pace == nil {
		return sharedLookupPacer()
	}
	return a.Pace
}

// LookupPacer spaces LookupEvents calls per account and region: one call
// at a time, each sent at least 1/perSecond after the previous one was
// answered. A limiter that spaces sends alone (a token bucket) is not
// enough: a call delayed in flight (signing, fetching the role's
// credentials) reaches AWS late and lands in the same second as the two
// after it. Spacing from the answer keeps any two arrivals at least
// 1/perSecond apart, whatever the latency.
type LookupPacer struct {
	interval time.Duration

	mu    sync.Mutex
	slots map[string]*paceSlot
}

// NewLookupPacer returns a pacer allowing perSecond calls a second per
// account and region; values at or below 0 mean DefaultLookupsPerSecond.
func NewLookupPacer(perSecond float64) *LookupPacer {
	if perSecond <= 0 {
		perSecond = DefaultLookupsPerSecond
	}
	return &LookupPacer{interval: time.Duration(float64(time.Second) / perSecond)}
}

// sharedLookupPacer paces every Activity of this process that was given none.
var sharedLookupPacer = sync.OnceValue(func() *LookupPacer { return NewLookupPacer(0) })

func (p *LookupPacer) slot(account, region string) *paceSlot {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := account + "|" + region
	if s, ok := p.slots[key]; ok {
		return s
	}
	s := &paceSlot{interval: p.interval, turn: make(chan struct{}, 1)}
	if p.slots == nil {
		p.slots = map[string]*paceSlot{}
	}
	p.slots[key] = s
	return s
}

// paceSlot is the pace of one account and region.
type paceSlot struct {
	interval time.Duration
	turn     chan struct{} // held during a call
	next     time.Time     // guarded by turn
}

// do runs f when its turn comes, and no earlier than interval after the
// previous call was answered.
func (s *paceSlot) do(ctx context.Context, f func() error) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.turn }()
	if err := sleep(ctx, time.Until(s.next)); err != nil {
		return err
	}
	err := f()
	s.next = time.Now().Add(s.interval)
	return err
}

func (a *Activity) now() time.Time {
	if a.Clock == nil {
		return time.Now().UTC()
	}
	return a.Clock.Now().UTC()
}

func (a *Activity) ttl() time.Duration {
	switch {
	case a.TTL < 0:
		return 0
	case a.TTL == 0:
		return DefaultActivityTTL
	}
	return a.TTL
}

func (a *Activity) maxPages() int {
	return cmp.Or(max(a.MaxPages, 0), DefaultActivityMaxPages)
}

// toActivityEvent keeps the fields JIT shows, and returns the parts of
// the CloudTrailEvent document the scope is checked on (nil when it cannot
// be read); the document itself is not kept (its response elements may
// hold credential details).
func toActivityEvent(ev cttypes.Event) (broker.ActivityEvent, *trailDoc) {
	e := broker.ActivityEvent{
		EventID:     aws.ToString(ev.EventId),
		EventName:   aws.ToString(ev.EventName),
		EventSource: aws.ToString(ev.EventSource),
		EventTime:   aws.ToTime(ev.EventTime).UTC(),
		Username:    aws.ToString(ev.Username),
		AccessKeyID: aws.ToString(ev.AccessKeyId),
		ReadOnly:    aws.ToString(ev.ReadOnly) == "true",
	}
	for _, r := range ev.Resources {
		if n := aws.ToString(r.ResourceName); n != "" && !slices.Contains(e.Resources, n) {
			e.Resources = append(e.Resources, n)
		}
	}
	var doc trailDoc
	raw := aws.ToString(ev.CloudTrailEvent)
	if raw == "" || json.Unmarshal([]byte(raw), &doc) != nil {
		return e, nil
	}
	e.Region, e.ErrorCode = doc.AWSRegion, doc.ErrorCode
	e.SourceIdentity = doc.UserIdentity.SessionContext.SourceIdentity
	return e, &doc
}

// CloudTrailClients returns CloudTrail clients per account and region.
// With a role, the client for an account uses a session of that role in
// that account (cached and refreshed by the SDK); without one, every
// account gets the broker's own credentials. LookupEvents reads each
// account's own event history, so there is no central-account variant.
type CloudTrailClients struct {
	Config aws.Config
	// STS is the client the broker assumes the role with.
	STS stscreds.AssumeRoleAPIClient
	// RoleName is the role JIT assumes in each account to read CloudTrail
	// (it needs cloudtrail:LookupEvents); "" means none.
	RoleName  string
	Partition string
	// Endpoint overrides CloudTrail's endpoint (the AWS sandbox).
	Endpoint string

	mu      sync.Mutex
	creds   map[string]aws.CredentialsProvider
	clients map[string]*cloudtrail.Client
}

// For returns the CloudTrail client for an account and region ("" means
// Config's region). Its SDK retryer makes one attempt and leaves retries
// to Activity, so that every attempt takes its turn in Activity's pace.
func (c *CloudTrailClients) For(accountID, region string) LookupEventsAPI {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := accountID + "|" + region
	if cl, ok := c.clients[key]; ok {
		return cl
	}
	cfg := c.Config.Copy()
	if region != "" {
		cfg.Region = region
	}
	if c.RoleName != "" {
		if c.creds == nil {
			c.creds = map[string]aws.CredentialsProvider{}
		}
		p, ok := c.creds[accountID]
		if !ok {
			partition := c.Partition
			if partition == "" {
				partition = "aws"
			}
			arn := RoleARN(partition, accountID, c.RoleName)
			p = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.STS, arn, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = fmt.Sprintf("jit-activity-%s", accountID)
			}))
			c.creds[accountID] = p
		}
		cfg.Credentials = p
	}
	cl := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
		o.Retryer = retry.AddWithMaxAttempts(retry.NewStandard(), 1)
	})
	if c.clients == nil {
		c.clients = map[string]*cloudtrail.Client{}
	}
	c.clients[key] = cl
	return cl
}
