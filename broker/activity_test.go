package broker_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// Fakes for the activity tests (prefixed act so they stay apart from the
// other tests' fakes).

type actRegistry struct {
	sets map[string]broker.PermissionSet
}

func (r actRegistry) Account(_ context.Context, id string) (broker.Account, error) {
	return broker.Account{ID: id}, nil
}

func (r actRegistry) PermissionSet(_ context.Context, name string) (broker.PermissionSet, error) {
	ps, ok := r.sets[name]
	if !ok {
		return broker.PermissionSet{}, broker.Errorf(broker.ENOTFOUND, "permission set %s not found", name)
	}
	return ps, nil
}

// actAuthz makes admins administrators of everything.
type actAuthz struct{ admins []string }

func (a actAuthz) Allowed(_ context.Context, u broker.User, act broker.Action, _, _ string) (bool, error) {
	if act != broker.ActAdminister {
		return false, nil
	}
	for _, e := range a.admins {
		if e == u.Email {
			return true, nil
		}
	}
	return false, nil
}

// actSource records the queries it was asked.
type actSource struct {
	mu      sync.Mutex
	queries []broker.ActivityQuery
	events  []broker.ActivityEvent
	err     error
}

func (s *actSource) Lookup(_ context.Context, q broker.ActivityQuery) ([]broker.ActivityEvent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	return s.events, s.err
}

type actNever struct {
	broker.Scheduler
	broker.SessionMinter
	broker.Revoker
}

var actNow = time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)

func actTickets() map[string]*broker.Ticket {
	start, end := actNow.Add(-time.Hour), actNow.Add(time.Hour)
	activated := []broker.Event{{At: start, Actor: "jit", Action: "activate", From: broker.StateApproved, To: broker.StateActive}}
	base := func(id, ps string) *broker.Ticket {
		return &broker.Ticket{
			ID: id, State: broker.StateActive, Requester: "alice@example.com",
			Beneficiaries: []string{"alice@example.com", "erin@example.com"}, AccountID: "111111111111", PermissionSet: ps,
			Start: start, End: end,
			Stages:  []broker.Stage{{Approvers: []string{"bob@example.com", "group:Security"}, Required: 1}},
			History: activated,
		}
	}
	role := base("role", "ReadOnlyAccess")
	role.Sessions = []broker.Session{
		{AccessKeyID: "ASIA1", User: "alice@example.com", IssuedAt: start, Expiration: end},
		{AccessKeyID: "ASIA2", User: "erin@example.com", IssuedAt: start, Expiration: end},
		{AccessKeyID: "ASIA1", User: "alice@example.com", IssuedAt: start, Expiration: end},
	}
	ic := base("ic", "PortalAccess")
	for _, u := range ic.Beneficiaries {
		ic.Grants = append(ic.Grants, broker.Grant{Kind: broker.GrantAssignment, User: u, Key: "111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-1/" + u, State: broker.GrantDone})
	}
	gone := base("gone", "Retired")
	gone.Sessions = role.Sessions[:1]
	gone.Grants = []broker.Grant{
		{Kind: broker.GrantAssignment, User: "alice@example.com", Key: "111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-old/alice@example.com", State: broker.GrantDone},
	}
	// Activated late, terminated early: its window is when it was active.
	ended := base("ended", "PortalAccess")
	ended.State = broker.StateTerminated
	ended.History = []broker.Event{
		{At: start.Add(-time.Hour), Actor: "alice@example.com", Action: "request", To: broker.StatePending},
		{At: start.Add(10 * time.Minute), Actor: "bob@example.com", Action: "approve", From: broker.StatePending, To: broker.StateApproved},
		{At: start.Add(10*time.Minute + 300*time.Millisecond), Actor: "jit", Action: "activate", From: broker.StateApproved, To: broker.StateActive},
		{At: start.Add(20 * time.Minute), Actor: "alice@example.com", Action: "request extension"},
		{At: start.Add(30 * time.Minute), Actor: "bob@example.com", Action: "terminate", From: broker.StateActive, To: broker.StateTerminated},
	}
	// Assigned a set the registry has since replaced: what was granted counts.
	ended.Grants = []broker.Grant{
		{Kind: broker.GrantPortalDeny, Key: "whatever", State: broker.GrantDone},
		{Kind: broker.GrantAssignment, User: "erin@example.com", Key: "111111111111/arn:aws:sso:::permissionSet/ssoins-1/ps-0/erin@example.com", State: broker.GrantUndone},
	}
	expired := base("expired", "ReadOnlyAccess")
	expired.State = broker.StateExpired
	expired.History = append(slices.Clone(activated), broker.Event{At: end.Add(time.Second), Actor: "jit", Action: "expire", From: broker.StateActive, To: broker.StateExpired})
	never := base("never", "ReadOnlyAccess")
	never.State, never.History = broker.StateTerminated, []broker.Event{{At: start, Actor: "bob@example.com", Action: "terminate", From: broker.StateApproved, To: broker.StateTerminated}}
	// Other tickets of alice's for PortalAccess: one in the same account
	// overlapping "ic" (its sessions are the same role session), one in
	// another account, one of another set, one never active.
	assigned := func(t *broker.Ticket, arn string) *broker.Ticket {
		t.Beneficiaries = []string{"alice@example.com"}
		t.Grants = []broker.Grant{{Kind: broker.GrantAssignment, User: "alice@example.com", Key: t.AccountID + "/" + arn + "/alice@example.com", State: broker.GrantDone}}
		return t
	}
	overlap := assigned(base("overlap", "PortalAccess"), "arn:aws:sso:::permissionSet/ssoins-1/ps-1")
	overlap.State = broker.StateTerminated
	overlap.History = []broker.Event{
		{At: actNow.Add(-30 * time.Minute), Actor: "jit", Action: "activate", From: broker.StateApproved, To: broker.StateActive},
		{At: actNow.Add(-10 * time.Minute), Actor: "bob@example.com", Action: "terminate", From: broker.StateActive, To: broker.StateTerminated},
	}
	elsewhere := assigned(base("elsewhere", "PortalAccess"), "arn:aws:sso:::permissionSet/ssoins-1/ps-1")
	elsewhere.AccountID = "222222222222"
	elsewhere.Grants[0].Key = "222222222222/arn:aws:sso:::permissionSet/ssoins-1/ps-1/alice@example.com"
	otherSet := assigned(base("otherset", "AdminAccess"), "arn:aws:sso:::permissionSet/ssoins-1/ps-9")
	pending := assigned(base("pending", "PortalAccess"), "arn:aws:sso:::permissionSet/ssoins-1/ps-1")
	pending.State, pending.History = broker.StatePending, nil
	return map[string]*broker.Ticket{"role": role, "ic": ic, "gone": gone, "never": never, "ended": ended, "expired": expired,
		"overlap": overlap, "elsewhere": elsewhere, "otherset": otherSet, "pending": pending}
}

// actEngine plans the tickets of actTickets under the rule in force: bob
// and the group Security approve, as their stored plan says.
// actStore is a store holding actTickets.
func actStore() *fake.Store {
	return fake.NewStore(slices.Collect(maps.Values(actTickets()))...)
}

func actEngine(t *testing.T) broker.ApprovalEngine {
	t.Helper()
	return approvals.New(fake.OneRule(broker.ApprovalRule{Account: "111111111111", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com", "group:Security"}, Required: 1}}}))
}

func newActService(t *testing.T, src broker.ActivitySource) *broker.Service {
	t.Helper()
	never := actNever{}
	cfg := broker.ServiceConfig{
		Store: actStore(), Scheduler: never, Approvals: actEngine(t), Minter: never, Revoker: never,
		Registry: actRegistry{sets: map[string]broker.PermissionSet{
			"ReadOnlyAccess": {Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole},
			"PortalAccess":   {Name: "PortalAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1", GrantPath: broker.GrantIdentityCenter},
		}},
		Authorizer: actAuthz{admins: []string{"carol@example.com"}},
		Clock:      fake.NewClock(actNow),
	}
	if src != nil {
		cfg.Activity = src
	}
	svc, err := broker.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func actAs(email string, groups ...string) context.Context {
	return broker.WithUser(context.Background(), broker.User{Email: email, Groups: groups})
}

func TestActivityWho(t *testing.T) {
	events := []broker.ActivityEvent{{EventID: "e1", EventName: "ListBuckets", EventSource: "s3.amazonaws.com", EventTime: actNow, AccessKeyID: "ASIA1"}}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		code string
	}{
		{"requester", actAs("alice@example.com"), ""},
		{"approver", actAs("bob@example.com"), ""},
		{"approver through a group", actAs("frank@example.com", "Security"), ""},
		// Group names are compared exactly (see User): look-alikes of
		// "Security" are other groups.
		{"group in another case", actAs("frank@example.com", "security"), broker.ENOTFOUND},
		{"group with a long s", actAs("frank@example.com", "\u017fecurity"), broker.ENOTFOUND},
		{"group in fullwidth letters", actAs("frank@example.com", "\uff33ecurity"), broker.ENOTFOUND},
		{"group padded", actAs("frank@example.com", " Security "), broker.ENOTFOUND},
		{"group with a zero-width space", actAs("frank@example.com", "Security\u200b"), broker.ENOTFOUND},
		{"administrator", actAs("carol@example.com"), ""},
		{"beneficiary only", actAs("erin@example.com"), broker.EFORBIDDEN},
		{"unrelated", actAs("dave@example.com"), broker.ENOTFOUND},
		{"anonymous", context.Background(), broker.EUNAUTHENTICATED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &actSource{events: events}
			got, err := newActService(t, src).Activity(tc.ctx, "role")
			if c := broker.ErrorCode(err); c != tc.code {
				t.Fatalf("error %v (%q), want code %q", err, c, tc.code)
			}
			if tc.code != "" {
				if len(src.queries) != 0 {
					t.Errorf("CloudTrail was asked for a refused caller: %+v", src.queries)
				}
				return
			}
			if diff := cmp.Diff(events, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
	// Unknown tickets and tickets one may not see answer alike.
	_, err := newActService(t, &actSource{}).Activity(actAs("dave@example.com"), "nope")
	if broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("unknown ticket: %v", err)
	}
}

func TestActivityQuery(t *testing.T) {
	start, end := actNow.Add(-time.Hour), actNow.Add(time.Hour)
	for _, tc := range []struct {
		ticket string
		want   []broker.ActivityQuery
	}{
		{"role", []broker.ActivityQuery{{TicketID: "role", AccountID: "111111111111", AccessKeyIDs: []string{"ASIA1", "ASIA2"},
			RoleSessionsOf: []string{"alice@example.com", "erin@example.com"}, Start: start, End: end}}},
		// Alice's other ticket for the set held it with this one for a
		// while: her events then are marked shared.
		{"ic", []broker.ActivityQuery{{TicketID: "ic", AccountID: "111111111111",
			Usernames: []string{"alice@example.com", "erin@example.com"}, PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1", Start: start, End: end,
			Shared: []broker.ActivitySpan{{User: "alice@example.com", Start: actNow.Add(-30 * time.Minute), End: actNow.Add(-10 * time.Minute)}}}}},
		// And the other way round, inside the other ticket's window.
		{"overlap", []broker.ActivityQuery{{TicketID: "overlap", AccountID: "111111111111",
			Usernames: []string{"alice@example.com"}, PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
			Start: actNow.Add(-30 * time.Minute), End: actNow.Add(-10 * time.Minute),
			Shared: []broker.ActivitySpan{{User: "alice@example.com", Start: actNow.Add(-30 * time.Minute), End: actNow.Add(-10 * time.Minute)}}}}},
		// A permission set unregistered since: every way it may have
		// acted, the Identity Center one scoped to what was assigned.
		{"gone", []broker.ActivityQuery{{TicketID: "gone", AccountID: "111111111111", AccessKeyIDs: []string{"ASIA1"},
			RoleSessionsOf: []string{"alice@example.com", "erin@example.com"}, Usernames: []string{"alice@example.com", "erin@example.com"},
			PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-old", Start: start, End: end}}},
		// From the activation to the termination, not the requested window.
		{"ended", []broker.ActivityQuery{{TicketID: "ended", AccountID: "111111111111",
			Usernames: []string{"alice@example.com", "erin@example.com"}, PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-0",
			Start: start.Add(10*time.Minute + 300*time.Millisecond), End: start.Add(30 * time.Minute)}}},
		// To when it expired.
		{"expired", []broker.ActivityQuery{{TicketID: "expired", AccountID: "111111111111",
			RoleSessionsOf: []string{"alice@example.com", "erin@example.com"}, Start: start, End: end.Add(time.Second)}}},
		// Never active: nothing to look up.
		{"never", nil},
	} {
		t.Run(tc.ticket, func(t *testing.T) {
			src := &actSource{}
			got, err := newActService(t, src).Activity(actAs("bob@example.com"), tc.ticket)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != 0 {
				t.Errorf("events %#v, want an empty list", got)
			}
			if diff := cmp.Diff(tc.want, src.queries); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestActivityUnavailable(t *testing.T) {
	_, err := newActService(t, nil).Activity(actAs("bob@example.com"), "role")
	if broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("no source: %v, want %s", err, broker.EUNAVAILABLE)
	}
	// Refusals come first, so nobody learns how JIT is configured.
	_, err = newActService(t, nil).Activity(actAs("dave@example.com"), "role")
	if broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("no source, unrelated caller: %v, want %s", err, broker.ENOTFOUND)
	}
	boom := errors.New("boom")
	_, err = newActService(t, &actSource{err: boom}).Activity(actAs("bob@example.com"), "role")
	if !errors.Is(err, boom) {
		t.Errorf("source failure: %v, want it passed on", err)
	}
}
