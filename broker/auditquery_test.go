package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// memAudit is an audit log in memory, newest last; Query pages newest
// first without cursors.
type memAudit struct{ events []broker.AuditEvent }

func (m *memAudit) Query(_ context.Context, q broker.AuditQuery, keep func(broker.AuditEvent) bool) ([]broker.AuditEvent, string, error) {
	var out []broker.AuditEvent
	for _, e := range slices.Backward(m.events) {
		if q.Matches(e) && (keep == nil || keep(e)) && len(out) < q.Limit {
			out = append(out, e)
		}
	}
	return out, "", nil
}

// The audit log through the service: an administrator sees every event;
// anyone else only events about tickets they may see now (never events
// without a ticket: sign-ins refused, registry changes, AWS calls of no
// ticket), whatever filters they send; a timeline is 404 to whoever may not
// see the ticket; limits outside 1..1000 and callers without a user are
// refused.
func TestAuditEventsVisibility(t *testing.T) {
	log := &memAudit{}
	at := actNow.Add(-time.Hour)
	for i, e := range []broker.AuditEvent{
		{Type: "ticket.create", Actor: "alice@example.com", TicketID: "role", AccountID: "111111111111"},
		{Type: "ticket.create", Actor: "alice@example.com", TicketID: "elsewhere", AccountID: "222222222222"},
		{Type: "registry.change", Actor: "carol@example.com"},
		{Type: "auth.refused", Actor: "dave@example.com", Detail: "expired"},
		{Type: "ticket.approve", Actor: "bob@example.com", TicketID: "role", AccountID: "111111111111"},
		{Type: "ticket.create", Actor: "zed@example.com", TicketID: "deleted", AccountID: "111111111111"},
		{Type: "aws.call", Actor: "jit", Operation: "sts:AssumeRole"},
	} {
		e.Seq, e.At = int64(i+1), at.Add(time.Duration(i)*time.Minute)
		log.events = append(log.events, e)
	}
	svc := newActService(t, nil)
	cfgSvc := func() *broker.Service { // the same world, with the audit log
		never := actNever{}
		s, err := broker.NewService(broker.ServiceConfig{
			Store: &actStore{m: actTickets()}, Scheduler: never, Approvals: actEngine(t), Minter: never, Revoker: never,
			Registry:    actRegistry{sets: map[string]broker.PermissionSet{"ReadOnlyAccess": {Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", GrantPath: broker.GrantRole}}},
			Authorizer:  actAuthz{admins: []string{"carol@example.com"}},
			Clock:       actClock{actNow},
			AuditReader: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := svc.AuditEvents(actAs("carol@example.com"), broker.AuditQuery{}); broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Errorf("without an audit reader: %v, want unavailable", err)
	}
	svc = cfgSvc()
	if _, err := svc.Ticket(actAs("bob@example.com"), "role"); err != nil {
		t.Fatalf("bob must see ticket role: %v", err)
	}
	if _, err := svc.Ticket(actAs("bob@example.com"), "elsewhere"); err == nil {
		t.Fatal("bob must not see ticket elsewhere")
	}
	seqs := func(ctx context.Context, q broker.AuditQuery) []int64 {
		t.Helper()
		page, err := svc.AuditEvents(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		var out []int64
		for _, e := range page.Events {
			out = append(out, e.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ctx  context.Context
		q    broker.AuditQuery
		want []int64
	}{
		{"administrator, everything", actAs("carol@example.com"), broker.AuditQuery{}, []int64{7, 6, 5, 4, 3, 2, 1}},
		{"approver, everything", actAs("bob@example.com"), broker.AuditQuery{}, []int64{5, 1}},
		{"approver, refused sign-ins", actAs("bob@example.com"), broker.AuditQuery{Type: "auth.refused"}, nil},
		{"approver, registry changes", actAs("bob@example.com"), broker.AuditQuery{Type: "registry."}, nil},
		{"approver, another account's ticket", actAs("bob@example.com"), broker.AuditQuery{TicketID: "elsewhere"}, nil},
		{"approver, another account", actAs("bob@example.com"), broker.AuditQuery{AccountID: "222222222222"}, nil},
		{"approver, a deleted ticket", actAs("bob@example.com"), broker.AuditQuery{TicketID: "deleted"}, nil},
		{"unrelated user, by actor", actAs("dave@example.com"), broker.AuditQuery{User: "alice@example.com"}, nil},
		{"unrelated user, own refusals", actAs("dave@example.com"), broker.AuditQuery{User: "dave@example.com"}, nil},
		{"look-alike group", actAs("frank@example.com", "\u017fecurity"), broker.AuditQuery{}, nil},
	} {
		if got := seqs(tc.ctx, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: events %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, limit := range []int{-1, 1001} {
		if _, err := svc.AuditEvents(actAs("carol@example.com"), broker.AuditQuery{Limit: limit}); broker.ErrorCode(err) != broker.EINVALID {
			t.Errorf("limit %d: %v, want invalid", limit, err)
		}
	}
	if _, err := svc.AuditEvents(context.Background(), broker.AuditQuery{}); broker.ErrorCode(err) != broker.EUNAUTHENTICATED {
		t.Errorf("no user: %v, want unauthenticated", err)
	}

	// Timelines: the ticket's events oldest first, for whoever sees it.
	tl, err := svc.Timeline(actAs("bob@example.com"), "role")
	if err != nil || len(tl) != 2 || tl[0].Seq != 1 || tl[1].Seq != 5 {
		t.Errorf("bob's timeline of role: %v %v, want events 1 and 5", tl, err)
	}
	for _, who := range []string{"dave@example.com", "bob@example.com"} {
		if _, err := svc.Timeline(actAs(who), "elsewhere"); broker.ErrorCode(err) != broker.ENOTFOUND {
			t.Errorf("%s's timeline of elsewhere: %v, want not found", who, err)
		}
	}
	if _, err := svc.Timeline(actAs("dave@example.com"), "role"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("dave's timeline of role: %v, want not found", err)
	}
}
