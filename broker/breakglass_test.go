package broker_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
	"github.com/jitaccess/jit/policies"
)

var (
	// dave is on call: the break-glass rule names his group, while the
	// permission set's scope (engineers, admins) does not.
	dave = broker.User{Email: "dave@example.com", Groups: []string{"oncall"}}
	lee  = broker.User{Email: "lee@example.com"}
	sam  = broker.User{Email: "sam@example.com"}
)

// bgRegistry is eRegistry with a break-glass rule: on call may grant
// themselves ReadOnlyAccess in dev for up to an hour; lee is told; the
// review is due in 4h, then sam is told.
func bgRegistry() broker.RegistryData {
	r := eRegistry()
	r.PermissionSets = append(r.PermissionSets, broker.PermissionSet{Name: "PowerUser", RoleName: "PowerUser", MaxDuration: 8 * time.Hour,
		ApprovalRequired: true, GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}})
	r.BreakGlass = []broker.BreakGlassRule{{People: []string{"group:oncall"}, Accounts: []string{"111111111111"},
		PermissionSets: []string{"ReadOnlyAccess"}, MaxDuration: time.Hour, Notify: []string{"lee@example.com"},
		ReviewWithin: 4 * time.Hour, EscalateTo: []string{"sam@example.com"}}}
	return r
}

type bgWorld struct {
	svc   *broker.Service
	authz *policies.Enforcer
	clock *fake.Clock
	store *fake.Store
	sched *gSched
	notes *notes
}

func newBGWorld(t *testing.T, r broker.RegistryData) *bgWorld {
	t.Helper()
	authz, err := policies.Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	w := &bgWorld{authz: authz, clock: fake.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)), store: fake.NewStore(), sched: &gSched{}, notes: &notes{}}
	w.svc, err = broker.NewService(broker.ServiceConfig{
		Store: w.store, Scheduler: w.sched, Registry: &broker.StaticRegistry{Accounts: r.Accounts, PermissionSets: r.PermissionSets},
		Authorizer: authz, BreakGlass: authz, Approvals: approvals.New(authz), Minter: &eMinter{}, Revoker: dNoop{},
		Clock: w.clock, Notifier: w.notes, Directory: broker.ListDirectory{Domains: []string{"example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *bgWorld) breakGlass(u broker.User, d time.Duration, reason string) (*broker.Ticket, error) {
	return w.svc.CreateTicket(as(u), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Duration: d, Reason: reason, BreakGlass: true})
}

// Break-glass: dave, whom only the break-glass rule names, is granted at
// once with no approval; lee (and nobody else) is told at once; the review
// deadline is scheduled; dave's session works; the ticket heads the
// unreviewed list; dave may not review it himself, lee may.
func TestBreakGlassGrantsAtOnce(t *testing.T) {
	w := newBGWorld(t, bgRegistry())
	now := w.clock.Now()
	tk, err := w.breakGlass(dave, 30*time.Minute, "prod is down, incident 7")
	if err != nil {
		t.Fatal(err)
	}
	if tk.State != broker.StateActive || tk.BreakGlass == nil || len(tk.Approvals) != 0 {
		t.Fatalf("break-glass ticket: state %s, break_glass %+v, approvals %v; want active at once, marked, unapproved", tk.State, tk.BreakGlass, tk.Approvals)
	}
	if !tk.BreakGlass.ReviewBy.Equal(now.Add(4*time.Hour)) || !slices.Equal(tk.BreakGlass.EscalateTo, []string{"sam@example.com"}) {
		t.Errorf("break-glass %+v, want review by now+4h, escalate to sam", tk.BreakGlass)
	}
	if tk.History[0].Action != broker.ActionBreakGlass {
		t.Errorf("history %+v, want a break glass event first", tk.History)
	}
	if !slices.Contains(w.sched.got, string(broker.TaskReviewOverdue)+":"+tk.ID) || !slices.Contains(w.sched.got, string(broker.TaskExpire)+":"+tk.ID) {
		t.Errorf("scheduled %v, want the review deadline and the expiry", w.sched.got)
	}
	ns := w.notes.to("lee@example.com")
	if len(ns) != 1 || ns[0].Kind != broker.NotifyBreakGlass || !strings.Contains(ns[0].Message, "dave@example.com broke glass") || !strings.Contains(ns[0].Message, "incident 7") {
		t.Errorf("notifications to lee: %+v", ns)
	}
	if len(w.notes.to("dave@example.com")) != 0 || len(w.notes.to("sam@example.com")) != 0 {
		t.Errorf("notifications %+v: the requester and escalate_to are not told at filing", w.notes.got)
	}
	if _, err := w.svc.Credentials(as(dave), tk.ID); err != nil {
		t.Errorf("dave's credentials: %v", err)
	}
	if _, err := w.svc.Extend(as(dave), tk.ID, broker.ExtendInput{By: 10 * time.Minute, Reason: "more"}); broker.ErrorCode(err) != broker.EINVALID {
		t.Errorf("extending a break-glass ticket: %v, want invalid", err)
	}

	// An ordinary ended ticket, unreviewed too, comes after it.
	old, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Approve(as(bob), old.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Activate(context.Background(), old.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Terminate(as(bob), old.ID, "done"); err != nil {
		t.Fatal(err)
	}
	for _, asc := range []bool{false, true} {
		page, err := w.svc.ListTickets(as(carol), broker.TicketQuery{Unreviewed: true, Asc: asc})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Tickets) != 2 || page.Tickets[0].ID != tk.ID || page.Tickets[1].ID != old.ID {
			t.Errorf("unreviewed (asc %t): %v, want the break-glass ticket first", asc, ids(page.Tickets))
		}
	}
	first, err := w.svc.ListTickets(as(carol), broker.TicketQuery{Unreviewed: true, Limit: 1})
	if err != nil || len(first.Tickets) != 1 || first.Tickets[0].ID != tk.ID || first.NextCursor == "" {
		t.Fatalf("unreviewed page 1: %+v %v", first, err)
	}
	if next, err := w.svc.ListTickets(as(carol), broker.TicketQuery{Unreviewed: true, Limit: 1, Cursor: first.NextCursor}); err != nil || len(next.Tickets) != 1 || next.Tickets[0].ID != old.ID {
		t.Errorf("unreviewed page 2: %+v %v, want the ordinary ticket", next, err)
	}
	if page, err := w.svc.ListTickets(as(carol), broker.TicketQuery{BreakGlass: true}); err != nil || len(page.Tickets) != 1 || page.Tickets[0].ID != tk.ID {
		t.Errorf("break_glass filter: %v %v", page.Tickets, err)
	}
	if page, err := w.svc.ListTickets(as(lee), broker.TicketQuery{Unreviewed: true}); err != nil || !slices.Equal(ids(page.Tickets), []string{tk.ID}) {
		t.Errorf("lee's unreviewed list: %v %v, want the break-glass ticket", page.Tickets, err)
	}

	if _, err := w.svc.Review(as(dave), tk.ID, "all fine"); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Errorf("self-review: %v, want forbidden", err)
	}
	if _, err := w.svc.Review(as(broker.User{Email: "eve@example.com"}), tk.ID, "?"); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("review by a stranger: %v, want not found", err)
	}
	got, err := w.svc.Review(as(lee), tk.ID, "looked at the trail")
	if err != nil || len(got.Reviews) != 1 || got.Reviews[0].By != "lee@example.com" {
		t.Fatalf("lee's review: %v %+v", err, got)
	}
	if page, _ := w.svc.ListTickets(as(carol), broker.TicketQuery{Unreviewed: true}); slices.Contains(ids(page.Tickets), tk.ID) {
		t.Errorf("reviewed break-glass ticket still unreviewed")
	}
	// Reviewed in time: the deadline does nothing.
	w.clock.Advance(5 * time.Hour)
	if err := w.svc.ReviewOverdue(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if len(w.notes.to("sam@example.com")) != 0 {
		t.Errorf("sam told of a reviewed ticket")
	}
}

func ids(ts []*broker.Ticket) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// Refused break-glass requests store and schedule nothing and tell nobody.
func TestBreakGlassRefusals(t *testing.T) {
	w := newBGWorld(t, bgRegistry())
	for _, tc := range []struct {
		name string
		u    broker.User
		in   broker.CreateTicketInput
		code string
		want string
	}{
		{"not named", alice, broker.CreateTicketInput{Duration: time.Hour, Reason: "x"}, broker.EFORBIDDEN, "may not break glass"},
		{"too long", dave, broker.CreateTicketInput{Duration: 2 * time.Hour, Reason: "x"}, broker.EINVALID, "break-glass maximum of 1h"},
		{"no reason", dave, broker.CreateTicketInput{Duration: time.Hour, Reason: "  "}, broker.EINVALID, "reason"},
		{"later", dave, broker.CreateTicketInput{Start: w.clock.Now().Add(time.Hour), Duration: time.Hour, Reason: "x"}, broker.EINVALID, "starts now"},
		{"for someone else", dave, broker.CreateTicketInput{Beneficiaries: []string{"lee@example.com"}, Duration: time.Hour, Reason: "x"}, broker.EFORBIDDEN, "requester alone"},
		{"other set", dave, broker.CreateTicketInput{PermissionSet: "PowerUser", Duration: time.Hour, Reason: "x"}, broker.EFORBIDDEN, "may not break glass"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.AccountID, in.BreakGlass = "111111111111", true
			if in.PermissionSet == "" {
				in.PermissionSet = "ReadOnlyAccess"
			}
			_, err := w.svc.CreateTicket(as(tc.u), in)
			if broker.ErrorCode(err) != tc.code || !strings.Contains(broker.ErrorMessage(err), tc.want) {
				t.Errorf("got %v, want %s saying %q", err, tc.code, tc.want)
			}
		})
	}
	if ts, _ := w.store.Tickets(context.Background(), broker.TicketFilter{}); len(ts) != 0 || len(w.sched.got) != 0 || len(w.notes.got) != 0 {
		t.Errorf("after refusals: tickets %d, scheduled %v, notes %+v; want none", len(ts), w.sched.got, w.notes.got)
	}
	// Without a break-glass capability nobody breaks glass.
	svc, err := broker.NewService(broker.ServiceConfig{Store: w.store, Scheduler: w.sched, Registry: &broker.StaticRegistry{Accounts: eRegistry().Accounts, PermissionSets: eRegistry().PermissionSets},
		Authorizer: gAllow{}, Approvals: approvals.New(&fake.Rules{}), Minter: &eMinter{}, Revoker: dNoop{}, Clock: w.clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTicket(as(dave), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: "x", BreakGlass: true}); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Errorf("break glass without the capability: %v, want forbidden", err)
	}
}

// A review nobody did by the deadline escalates once to escalate_to, in
// the history (hence the audit log); sam may then see and review it.
func TestBreakGlassReviewOverdue(t *testing.T) {
	w := newBGWorld(t, bgRegistry())
	tk, err := w.breakGlass(dave, time.Hour, "incident 8")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(4*time.Hour - time.Second)
	if err := w.svc.ReviewOverdue(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if len(w.notes.to("sam@example.com")) != 0 {
		t.Fatal("escalated before the deadline")
	}
	w.clock.Advance(time.Second)
	for range 3 {
		if err := w.svc.ReviewOverdue(context.Background(), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := w.svc.Ticket(as(sam), tk.ID)
	if err != nil {
		t.Fatalf("sam cannot see the escalated ticket: %v", err)
	}
	if got.BreakGlass.EscalatedAt.IsZero() {
		t.Errorf("escalated_at not set: %+v", got.BreakGlass)
	}
	if n := len(slices.DeleteFunc(slices.Clone(got.History), func(e broker.Event) bool { return e.Action != broker.ActionReviewOverdue })); n != 1 {
		t.Errorf("%d review overdue events, want 1: %+v", n, got.History)
	}
	if ns := w.notes.to("sam@example.com"); len(ns) != 1 || ns[0].Kind != broker.NotifyReviewOverdue || !strings.Contains(ns[0].Message, tk.ID) {
		t.Errorf("notifications to sam: %+v", ns)
	}
	if got, err := w.svc.Review(as(sam), tk.ID, "late but fine"); err != nil || len(got.Reviews) != 1 {
		t.Errorf("review after the escalation: %v", err)
	}
}

// The registry refuses bad break-glass rules, naming the field.
func TestBreakGlassRegistry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(b *broker.BreakGlassRule)
		field string
	}{
		{"nobody", func(b *broker.BreakGlassRule) { b.People = nil }, "break_glass[0].people"},
		{"bad person", func(b *broker.BreakGlassRule) { b.People = []string{"dave"} }, "break_glass[0].people[0]"},
		{"no accounts", func(b *broker.BreakGlassRule) { b.Accounts = nil }, "break_glass[0].accounts"},
		{"unknown account", func(b *broker.BreakGlassRule) { b.Accounts = []string{"999999999999"} }, "break_glass[0].accounts[0]"},
		{"unknown set", func(b *broker.BreakGlassRule) { b.PermissionSets = []string{"Nope"} }, "break_glass[0].permission_sets[0]"},
		{"unknown group", func(b *broker.BreakGlassRule) { b.PermissionSets = []string{"group:nope"} }, "break_glass[0].permission_sets[0]"},
		{"no max", func(b *broker.BreakGlassRule) { b.MaxDuration = 0 }, "break_glass[0].max_duration"},
		{"too long", func(b *broker.BreakGlassRule) { b.MaxDuration = 13 * time.Hour }, "break_glass[0].max_duration"},
		{"no review", func(b *broker.BreakGlassRule) { b.ReviewWithin = 0 }, "break_glass[0].review_within"},
		{"no escalation", func(b *broker.BreakGlassRule) { b.EscalateTo = nil }, "break_glass[0].escalate_to"},
		{"bad notify", func(b *broker.BreakGlassRule) { b.Notify = []string{"group:"} }, "break_glass[0].notify[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := bgRegistry()
			tc.edit(&r.BreakGlass[0])
			broker.NormalizeRegistry(&r)
			if err := broker.CheckRegistry(r); broker.ErrorCode(err) != broker.EINVALID || !strings.HasPrefix(broker.ErrorMessage(err), tc.field+":") {
				t.Errorf("CheckRegistry: %v, want invalid at %s", err, tc.field)
			}
		})
	}
	r := bgRegistry()
	r.BreakGlass[0].People = []string{" Dave@Example.com ", "group:oncall"}
	broker.NormalizeRegistry(&r)
	if err := broker.CheckRegistry(r); err != nil {
		t.Fatalf("a whole rule: %v", err)
	}
	data, err := r.BreakGlass[0].MarshalJSON()
	if err != nil || !strings.Contains(string(data), `"max_duration":"1h"`) || !strings.Contains(string(data), `"review_within":"4h"`) {
		t.Fatalf("rule JSON %s: %v", data, err)
	}
	var back broker.BreakGlassRule
	if err := back.UnmarshalJSON(data); err != nil || back.MaxDuration != time.Hour || back.People[0] != "dave@example.com" {
		t.Fatalf("rule JSON back: %+v %v", back, err)
	}
	if d := broker.DiffRegistry(bgRegistry(), r); len(d.BreakGlass.Changed) != 1 || d.Empty() {
		t.Errorf("diff of a changed rule: %+v", d.BreakGlass)
	}
}

// Repair (after a crash between filing and scheduling) schedules the
// review deadline of an unreviewed break-glass ticket, and not once it
// was reviewed.
func TestBreakGlassRepair(t *testing.T) {
	w := newBGWorld(t, bgRegistry())
	tk, err := w.breakGlass(dave, time.Hour, "incident 9")
	if err != nil {
		t.Fatal(err)
	}
	task := string(broker.TaskReviewOverdue) + ":" + tk.ID
	count := func() int {
		w.sched.mu.Lock()
		defer w.sched.mu.Unlock()
		n := 0
		for _, g := range w.sched.got {
			if g == task {
				n++
			}
		}
		return n
	}
	if err := w.svc.Repair(context.Background(), tk.ID); err != nil || count() != 2 {
		t.Fatalf("repair: %v, review deadline scheduled %d times, want again", err, count())
	}
	if _, err := w.svc.Review(as(lee), tk.ID, "ok"); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.Repair(context.Background(), tk.ID); err != nil || count() != 2 {
		t.Fatalf("repair of a reviewed ticket: %v, scheduled %d times", err, count())
	}
}

// The break-glass decision is asked again at every credential: taking
// the on-call group out of the rule stops dave's ticket.
func TestBreakGlassRecheckedAtCredentials(t *testing.T) {
	w := newBGWorld(t, bgRegistry())
	tk, err := w.breakGlass(dave, time.Hour, "incident 10")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Credentials(as(dave), tk.ID); err != nil {
		t.Fatalf("credentials: %v", err)
	}
	r := bgRegistry()
	r.BreakGlass[0].People = []string{"lee@example.com"}
	if err := w.authz.Reload(r); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Credentials(as(dave), tk.ID); broker.ErrorCode(err) != broker.EFORBIDDEN || !strings.Contains(broker.ErrorMessage(err), "may not break glass") {
		t.Errorf("credentials after the rule dropped on call: %v, want forbidden", err)
	}
}
