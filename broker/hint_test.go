package broker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// hintGrants answers what a role or permission set grants, and records
// the queries.
type hintGrants struct {
	mu      sync.Mutex
	queries []broker.GrantQuery
}

func (g *hintGrants) Granted(_ context.Context, q broker.GrantQuery) (broker.Granted, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.queries = append(g.queries, q)
	if q.RoleName != "" {
		return broker.Granted{Policies: []string{"inline:ReadOnlyAccess"}, Actions: 2013, Services: 300}, nil
	}
	return broker.Granted{Policies: []string{"inline"}, Actions: 50, Services: 2}, nil
}

// hintEvents are what the ticket's sessions did: the hand-computed
// answer is five actions of five services, one refused.
var hintEvents = []broker.ActivityEvent{
	{EventName: "ListBuckets", EventSource: "s3.amazonaws.com", AccessKeyID: "ASIA1"},
	{EventName: "ListBuckets", EventSource: "s3.amazonaws.com", AccessKeyID: "ASIA2"},
	{EventName: "DescribeRegions", EventSource: "ec2.amazonaws.com"},
	{EventName: "GetRole", EventSource: "iam.amazonaws.com", ErrorCode: "NoSuchEntity"}, // allowed, then not found: used
	{EventName: "PutRolePolicy", EventSource: "iam.amazonaws.com", ErrorCode: "AccessDenied"},
	{EventName: "ConsoleLogin", EventSource: "signin.amazonaws.com"},
	{EventName: "ListFunctions20150331", EventSource: "lambda.amazonaws.com"},
	{EventName: "GetCallerIdentity", EventSource: "sts.amazonaws.com"},
}

const hintPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "ec2:DescribeRegions",
        "iam:GetRole",
        "lambda:ListFunctions",
        "s3:ListAllMyBuckets",
        "sts:GetCallerIdentity"
      ],
      "Resource": "*"
    }
  ]
}`

func newHintService(t *testing.T, src broker.ActivitySource, g broker.GrantReader, clock *fake.Clock) (*broker.Service, *fake.Store) {
	t.Helper()
	never := actNever{}
	store := actStore()
	cfg := broker.ServiceConfig{
		Store: store, Scheduler: never, Approvals: actEngine(t), Minter: never, Revoker: never,
		Registry: actRegistry{sets: map[string]broker.PermissionSet{
			"ReadOnlyAccess": {Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole},
			"PortalAccess":   {Name: "PortalAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1", GrantPath: broker.GrantIdentityCenter},
		}},
		Authorizer: actAuthz{admins: []string{"carol@example.com"}},
		Clock:      clock, Activity: src, Grants: g,
	}
	svc, err := broker.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func TestHint(t *testing.T) {
	src, g := &actSource{events: hintEvents}, &hintGrants{}
	clock := fake.NewClock(actNow.Add(70 * time.Minute)) // "expired" ended at actNow+1h+1s: not settled yet
	svc, store := newHintService(t, src, g, clock)
	got, err := svc.Hint(actAs("bob@example.com"), "expired")
	if err != nil {
		t.Fatal(err)
	}
	want := &broker.Hint{
		TicketID: "expired", AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", ComputedAt: clock.Now(),
		Events:   len(hintEvents),
		Actions:  []string{"ec2:DescribeRegions", "iam:GetRole", "lambda:ListFunctions", "s3:ListAllMyBuckets", "sts:GetCallerIdentity"},
		Services: []string{"ec2", "iam", "lambda", "s3", "sts"},
		Denied:   []string{"iam:PutRolePolicy"},
		Granted:  &broker.Granted{Policies: []string{"inline:ReadOnlyAccess"}, Actions: 2013, Services: 300},
		Policy:   hintPolicy,
		Summary: "used 5 actions of 5 services; ReadOnlyAccess grants 2,013 actions of 300 services; " +
			"a permission set with these actions would have been enough (1 action refused) (so far: CloudTrail may still deliver events)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hint (-want +got):\n%s", diff)
	}
	if want := []broker.GrantQuery{{AccountID: "111111111111", RoleName: "ReadOnlyAccess"}}; !cmp.Equal(want, g.queries) {
		t.Errorf("grant queries %+v, want %+v", g.queries, want)
	}
	if store.Get("expired").Hint != nil {
		t.Error("an unsettled hint was stored")
	}

	// Settled: stored, then read from the ticket without asking AWS again.
	clock.Advance(time.Hour)
	if got, err = svc.Hint(actAs("carol@example.com"), "expired"); err != nil || !got.Settled {
		t.Fatalf("settled hint: %+v, %v", got, err)
	}
	if st := store.Get("expired").Hint; st == nil || !st.Settled || st.Policy != hintPolicy {
		t.Fatalf("stored hint %+v", st)
	}
	asked := len(src.queries)
	clock.Advance(time.Hour)
	again, err := svc.Hint(actAs("alice@example.com"), "expired")
	if err != nil || len(src.queries) != asked || !again.ComputedAt.Equal(got.ComputedAt) {
		t.Errorf("second settled read: %v, CloudTrail asked %d more times, computed at %v (want %v)", err, len(src.queries)-asked, again.ComputedAt, got.ComputedAt)
	}

	// The Identity Center path asks for the permission set that was assigned.
	if _, err := svc.Hint(actAs("bob@example.com"), "ended"); err != nil {
		t.Fatal(err)
	}
	if q := g.queries[len(g.queries)-1]; q != (broker.GrantQuery{AccountID: "111111111111", PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-0"}) {
		t.Errorf("Identity Center grant query %+v", q)
	}
}

// SettleHint (the ticket:hint task) stores a settled hint with no caller,
// and leaves alone tickets still active, never active or gone.
func TestSettleHint(t *testing.T) {
	src := &actSource{events: hintEvents}
	svc, store := newHintService(t, src, &hintGrants{}, fake.NewClock(actNow.Add(3*time.Hour)))
	ctx := context.Background()
	for _, id := range []string{"expired", "role", "never", "nope"} {
		if err := svc.SettleHint(ctx, id); err != nil {
			t.Fatalf("SettleHint(%s): %v", id, err)
		}
	}
	if h := store.Get("expired").Hint; h == nil || !h.Settled || h.Policy != hintPolicy {
		t.Errorf("expired's stored hint %+v", h)
	}
	if h := store.Get("role").Hint; h != nil {
		t.Errorf("an active ticket got a stored hint %+v", h)
	}
	asked := len(src.queries)
	if err := svc.SettleHint(ctx, "expired"); err != nil || len(src.queries) != asked {
		t.Errorf("second SettleHint: %v, CloudTrail asked %d more times", err, len(src.queries)-asked)
	}
}

func TestHintWho(t *testing.T) {
	for _, tc := range []struct {
		name, id string
		ctx      context.Context
		code     string
	}{
		{"requester", "expired", actAs("alice@example.com"), ""},
		{"approver", "expired", actAs("bob@example.com"), ""},
		{"administrator", "expired", actAs("carol@example.com"), ""},
		{"beneficiary only", "expired", actAs("erin@example.com"), broker.EFORBIDDEN},
		{"unrelated", "expired", actAs("dave@example.com"), broker.ENOTFOUND},
		{"anonymous", "expired", context.Background(), broker.EUNAUTHENTICATED},
		{"never active", "never", actAs("bob@example.com"), broker.EINVALID},
		{"no such ticket", "nope", actAs("bob@example.com"), broker.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &actSource{events: hintEvents}
			svc, _ := newHintService(t, src, &hintGrants{}, fake.NewClock(actNow.Add(2*time.Hour)))
			_, err := svc.Hint(tc.ctx, tc.id)
			if c := broker.ErrorCode(err); c != tc.code {
				t.Fatalf("error %v (%q), want code %q", err, c, tc.code)
			}
			if tc.code != "" && len(src.queries) != 0 {
				t.Errorf("CloudTrail was asked for a refused caller")
			}
		})
	}
}

// The usage report over the ended tickets: ReadOnlyAccess (one ticket,
// expired) and PortalAccess (two, terminated), lowest ratio first.
func TestUsage(t *testing.T) {
	src := &actSource{events: hintEvents}
	svc, _ := newHintService(t, src, &hintGrants{}, fake.NewClock(actNow.Add(3*time.Hour)))
	if _, err := svc.Usage(actAs("bob@example.com")); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("usage as an approver: %v, want forbidden", err)
	}
	got, err := svc.Usage(actAs("carol@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	actions := []string{"ec2:DescribeRegions", "iam:GetRole", "lambda:ListFunctions", "s3:ListAllMyBuckets", "sts:GetCallerIdentity"}
	services := []string{"ec2", "iam", "lambda", "s3", "sts"}
	want := []broker.PermissionSetUsage{
		{PermissionSet: "ReadOnlyAccess", Tickets: 1, Actions: actions, Services: services, Granted: 2013, Ratio: 5.0 / 2013, Policy: hintPolicy},
		{PermissionSet: "PortalAccess", Tickets: 2, Actions: actions, Services: services, Granted: 50, Ratio: 5.0 / 50, Policy: hintPolicy},
	}
	if diff := cmp.Diff(want, got.PermissionSets); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	// The hints are settled and stored: a second report asks CloudTrail nothing.
	asked := len(src.queries)
	if _, err := svc.Usage(actAs("carol@example.com")); err != nil || len(src.queries) != asked {
		t.Errorf("second report: %v, CloudTrail asked %d more times", err, len(src.queries)-asked)
	}
}
