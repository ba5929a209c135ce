package broker_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
	"github.com/jitaccess/jit/policies"
)

// eMinter counts the sessions it mints.
type eMinter struct {
	n      atomic.Int32
	during func() // if set, runs while the session is being minted
}

func (m *eMinter) Mint(context.Context, broker.MintRequest) (broker.Credentials, error) {
	m.n.Add(1)
	if m.during != nil {
		m.during()
	}
	return broker.Credentials{AccessKeyID: "ASIATEST", Expiration: time.Now().Add(time.Hour)}, nil
}

// eWorld is a Service on the real Casbin authorizer over a registry the
// test can change, as `jit admin apply` does.
type eWorld struct {
	svc    *broker.Service
	authz  *policies.Enforcer
	reg    broker.RegistryData
	static *broker.StaticRegistry
	clock  *fake.Clock
	store  *fake.Store
	minter *eMinter
}

var (
	alice = broker.User{Email: "alice@example.com", Groups: []string{"engineers"}}
	bob   = broker.User{Email: "bob@example.com", Groups: []string{"approvers"}}
	carol = broker.User{Email: "carol@example.com", Groups: []string{"admins"}}
)

func eRegistry() broker.RegistryData {
	return broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour,
			ApprovalRequired: true, GrantPath: broker.GrantRole,
			Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"engineers", "admins"}}}},
		ApprovalRules:    []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}}},
		Admins:           []string{"group:admins"},
		RequestForOthers: []string{"carol@example.com"},
	}
}

func newEWorld(t *testing.T, cfg broker.ServiceConfig) *eWorld {
	t.Helper()
	w := &eWorld{reg: eRegistry(), clock: fake.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC)),
		store: fake.NewStore(), minter: &eMinter{}}
	var err error
	if w.authz, err = policies.Compile(w.reg); err != nil {
		t.Fatal(err)
	}
	w.static = &broker.StaticRegistry{Accounts: w.reg.Accounts, PermissionSets: w.reg.PermissionSets}
	cfg.Store, cfg.Scheduler, cfg.Registry, cfg.Authorizer = w.store, &dSched{}, w.static, w.authz
	cfg.Approvals, cfg.Minter, cfg.Clock = approvals.New(w.authz), w.minter, w.clock
	if cfg.Revoker == nil {
		cfg.Revoker = dNoop{}
	}
	if cfg.Directory == nil {
		cfg.Directory = broker.ListDirectory{Domains: []string{"example.com"}}
	}
	if w.svc, err = broker.NewService(cfg); err != nil {
		t.Fatal(err)
	}
	return w
}

// change applies a registry change the way the server does: the
// authorizer recompiles, the registry answers from the new document.
func (w *eWorld) change(t *testing.T, edit func(r *broker.RegistryData)) {
	t.Helper()
	edit(&w.reg)
	if err := w.authz.Reload(w.reg); err != nil {
		t.Fatal(err)
	}
	w.static.Accounts, w.static.PermissionSets = w.reg.Accounts, w.reg.PermissionSets
}

func as(u broker.User) context.Context { return broker.WithUser(context.Background(), u) }

// approved files a ticket starting in an hour as u and has bob approve it.
func (w *eWorld) approved(t *testing.T, u broker.User, beneficiaries ...string) *broker.Ticket {
	t.Helper()
	now := w.clock.Now()
	tk, err := w.svc.CreateTicket(as(u), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Beneficiaries: beneficiaries, Start: now.Add(time.Hour), Duration: 2 * time.Hour, Reason: "deploy"})
	if err != nil {
		t.Fatal(err)
	}
	if tk, err = w.svc.Approve(as(bob), tk.ID, "ok"); err != nil {
		t.Fatal(err)
	} else if tk.State != broker.StateApproved {
		t.Fatalf("state %s after approval, want approved", tk.State)
	}
	return tk
}

func dropEngineers(r *broker.RegistryData) {
	r.PermissionSets[0].Scope.RequesterGroups = []string{"admins"}
}

// Issue 10 §5: a requester whose group lost the permission set between
// approval and start gets nothing, and the ticket says why.
func TestActivateRechecksRegistry(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	tk := w.approved(t, alice)
	w.change(t, dropEngineers)
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	got, err := w.store.Ticket(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != broker.StateTerminated || got.Closed == nil {
		t.Fatalf("state %s closed %+v, want terminated with a reason", got.State, got.Closed)
	}
	for _, want := range []string{"may no longer hold ReadOnlyAccess", "alice@example.com may not request ReadOnlyAccess in account 111111111111"} {
		if !strings.Contains(got.Closed.Comment, want) {
			t.Errorf("closing comment %q does not say %q", got.Closed.Comment, want)
		}
	}
	if _, err := w.svc.Credentials(as(alice), tk.ID); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Errorf("credentials after the refused activation: %v, want conflict", err)
	}
	if n := w.minter.n.Load(); n != 0 {
		t.Errorf("%d sessions minted, want none", n)
	}
}

// The same registry, unchanged, activates: the re-check refuses only what
// the registry in force refuses.
func TestActivateKeepsWhatIsStillAllowed(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	tk := w.approved(t, carol, "carol@example.com", "dave@example.com")
	// carol may still request, but no longer for other people: dave is
	// taken off, carol keeps her access.
	w.change(t, func(r *broker.RegistryData) { r.RequestForOthers = nil })
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := w.store.Ticket(context.Background(), tk.ID)
	if got.State != broker.StateActive || len(got.Beneficiaries) != 1 || got.Beneficiaries[0] != "carol@example.com" {
		t.Fatalf("state %s beneficiaries %v, want active for carol only", got.State, got.Beneficiaries)
	}
	last := got.History[len(got.History)-2] // then "activate"
	if last.Action != "remove beneficiary" || !strings.Contains(last.Comment, "dave@example.com may no longer hold") || !strings.Contains(last.Comment, "other people") {
		t.Errorf("history %+v does not record why dave was removed", last)
	}
	// dave is no longer on the ticket: he cannot even see it.
	if _, err := w.svc.Credentials(as(broker.User{Email: "dave@example.com"}), tk.ID); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("dave's credentials: %v, want not_found", err)
	}
	if _, err := w.svc.Credentials(as(carol), tk.ID); err != nil {
		t.Errorf("carol's credentials: %v", err)
	}
	if n := w.minter.n.Load(); n != 1 {
		t.Errorf("%d sessions minted, want carol's only", n)
	}
}

// Every credential (and console link, which goes through Credentials)
// asks again: a registry change cuts new sessions of an active ticket.
func TestCredentialsRecheckRegistry(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(r *broker.RegistryData)
		want   string
	}{
		{"group dropped from the scope", dropEngineers, "alice@example.com may not request ReadOnlyAccess"},
		{"permission set unregistered", func(r *broker.RegistryData) {
			r.PermissionSets[0].Name = "Other"
			r.PermissionSets[0].RoleName = "Other"
		}, "permission set ReadOnlyAccess is no longer registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newEWorld(t, broker.ServiceConfig{})
			tk := w.approved(t, alice)
			w.clock.Advance(time.Hour)
			if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Credentials(as(alice), tk.ID); err != nil {
				t.Fatalf("credentials before the change: %v", err)
			}
			w.change(t, tc.change)
			_, err := w.svc.Credentials(as(alice), tk.ID)
			if broker.ErrorCode(err) != broker.EFORBIDDEN || !strings.Contains(broker.ErrorMessage(err), tc.want) {
				t.Errorf("credentials after the change: %v, want forbidden saying %q", err, tc.want)
			}
			if n := w.minter.n.Load(); n != 1 {
				t.Errorf("%d sessions minted, want only the one before the change", n)
			}
		})
	}
}

// Issue 10 §5: how far ahead a ticket may start is bounded (default 30
// days, configurable), with a clear 400.
func TestMaxLeadTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit time.Duration
		start time.Duration
		want  string
	}{
		{"default, inside", 0, 29 * 24 * time.Hour, ""},
		{"default, at the limit", 0, 30 * 24 * time.Hour, ""},
		{"default, past it", 0, 30*24*time.Hour + time.Second, broker.EINVALID},
		{"year 9999", 0, -1, broker.EINVALID},
		{"configured, past it", 2 * time.Hour, 3 * time.Hour, broker.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newEWorld(t, broker.ServiceConfig{MaxLeadTime: tc.limit})
			start := w.clock.Now().Add(tc.start)
			if tc.start < 0 {
				start = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			_, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
				Start: start, Duration: time.Hour, Reason: "later"})
			if got := broker.ErrorCode(err); got != tc.want {
				t.Fatalf("code %q (%v), want %q", got, err, tc.want)
			}
			if err != nil {
				if !strings.Contains(broker.ErrorMessage(err), "too far ahead") {
					t.Errorf("message %q does not say the start is too far ahead", broker.ErrorMessage(err))
				}
				if w.store.Len() != 0 {
					t.Errorf("a refused ticket was stored")
				}
			}
		})
	}
}

// Issue 20 §8: a start within the skew in the past becomes now, and a
// duration counts from there, so the window keeps its full length. An
// explicit end stays where it was asked.
func TestStartInThePastKeepsDuration(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	now := w.clock.Now()
	tk, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Start: now.Add(-90 * time.Second), Duration: time.Hour, Reason: "now"})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.Start.Equal(now) || tk.End.Sub(tk.Start) != time.Hour {
		t.Errorf("window %s to %s, want %s for a full hour", tk.Start, tk.End, now)
	}
	tk, err = w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Start: now.Add(-90 * time.Second), End: now.Add(time.Hour), Reason: "now"})
	if err != nil {
		t.Fatal(err)
	}
	if !tk.Start.Equal(now) || !tk.End.Equal(now.Add(time.Hour)) {
		t.Errorf("window %s to %s, want now to the end asked for", tk.Start, tk.End)
	}
	_, err = w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		End: now.Add(time.Hour), Duration: time.Hour, Reason: "both"})
	if broker.ErrorCode(err) != broker.EINVALID {
		t.Errorf("end and duration together: %v, want invalid", err)
	}
}

// Issue 10 §4: every free-text field refuses control characters, bidi
// overrides and NUL with EINVALID naming the field, and changes nothing.
func TestFreeTextFieldsRefuseHostileText(t *testing.T) {
	hostile := map[string]string{
		"escape":        "ok \x1b[2K\rAccount: 111111111111",
		"bidi override": "ok \u202Egnp.exe",
		"NUL":           "ok\x00",
		"C1":            "ok \u009b31m",
	}
	type op struct {
		field string
		state broker.State // the state the ticket must be in first
		do    func(w *eWorld, id, text string) error
	}
	ops := map[string]op{
		"create reason": {"reason", "", func(w *eWorld, _, s string) error {
			_, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: s})
			return err
		}},
		"beneficiary": {"beneficiaries", "", func(w *eWorld, _, s string) error {
			_, err := w.svc.CreateTicket(as(carol), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
				Beneficiaries: []string{"dave" + s + "@example.com"}, Duration: time.Hour, Reason: "x"})
			return err
		}},
		"approve comment": {"comment", broker.StatePending, func(w *eWorld, id, s string) error { _, err := w.svc.Approve(as(bob), id, s); return err }},
		"reject comment":  {"comment", broker.StatePending, func(w *eWorld, id, s string) error { _, err := w.svc.Reject(as(bob), id, s); return err }},
		"cancel comment":  {"comment", broker.StatePending, func(w *eWorld, id, s string) error { _, err := w.svc.Cancel(as(alice), id, s); return err }},
		"terminate comment": {"comment", broker.StateActive, func(w *eWorld, id, s string) error {
			_, err := w.svc.Terminate(as(bob), id, s)
			return err
		}},
		"done comment": {"comment", broker.StateActive, func(w *eWorld, id, s string) error { _, err := w.svc.Done(as(alice), id, s); return err }},
		"extension reason": {"reason", broker.StateActive, func(w *eWorld, id, s string) error {
			_, err := w.svc.Extend(as(alice), id, broker.ExtendInput{By: time.Hour, Reason: s})
			return err
		}},
		"edit reason": {"reason", broker.StateRejected, func(w *eWorld, id, s string) error {
			_, err := w.svc.Edit(as(alice), id, broker.EditInput{Reason: s})
			return err
		}},
	}
	for opName, o := range ops {
		for textName, text := range hostile {
			t.Run(opName+"/"+textName, func(t *testing.T) {
				w := newEWorld(t, broker.ServiceConfig{})
				id := ""
				if o.state != "" {
					id = w.ticketIn(t, o.state)
				}
				before := w.snapshot(t, id)
				err := o.do(w, id, text)
				if broker.ErrorCode(err) != broker.EINVALID || !strings.HasPrefix(broker.ErrorMessage(err), o.field+" ") {
					t.Fatalf("got %v, want invalid naming %s", err, o.field)
				}
				if after := w.snapshot(t, id); after != before {
					t.Errorf("a refused %s changed the store: %s -> %s", opName, before, after)
				}
			})
		}
	}
}

// ticketIn files a ticket as alice and moves it to state.
func (w *eWorld) ticketIn(t *testing.T, state broker.State) string {
	t.Helper()
	tk, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: "x"})
	if err != nil {
		t.Fatal(err)
	}
	switch state {
	case broker.StateRejected:
		_, err = w.svc.Reject(as(bob), tk.ID, "no")
	case broker.StateActive:
		if _, err = w.svc.Approve(as(bob), tk.ID, "ok"); err == nil {
			err = w.svc.Activate(context.Background(), tk.ID)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID
}

// snapshot describes what the store holds, to compare before and after.
func (w *eWorld) snapshot(t *testing.T, id string) string {
	t.Helper()
	if id == "" {
		return strings.Repeat("t", w.store.Len())
	}
	tk := w.store.Get(id)
	return string(tk.State) + "/" + tk.Reason + "/" + strings.Join(tk.Beneficiaries, ",") + "/" + time.Duration(tk.Version).String()
}

// A reason made only of invisible characters is empty (issue 10 §4).
func TestInvisibleReasonIsEmpty(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	for _, reason := range []string{"", "   ", "\u200D\u200C", " \u00A0\u3000 ", "\u2800\u3164", "\u0301"} {
		_, err := w.svc.CreateTicket(as(alice), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Duration: time.Hour, Reason: reason})
		if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "reason is required") {
			t.Errorf("reason %q: %v, want invalid: reason is required", reason, err)
		}
	}
	if w.store.Len() != 0 {
		t.Errorf("%d tickets stored from empty reasons", w.store.Len())
	}
}

// One beneficiary is issued at most MaxSessionsPerUser sessions of a
// ticket: the next call is refused before anything is minted, so a caller
// minting in a loop cannot grow the ticket without bound.
func TestCredentialsSessionCap(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	tk := w.approved(t, alice)
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	for i := range broker.MaxSessionsPerUser {
		if _, err := w.svc.Credentials(as(alice), tk.ID); err != nil {
			t.Fatalf("session %d: %v", i+1, err)
		}
	}
	_, err := w.svc.Credentials(as(alice), tk.ID)
	if broker.ErrorCode(err) != broker.ECONFLICT || !strings.Contains(broker.ErrorMessage(err), "500 sessions") {
		t.Fatalf("one more: %v, want conflict naming the cap", err)
	}
	if n := w.minter.n.Load(); n != broker.MaxSessionsPerUser {
		t.Errorf("%d sessions minted, want %d", n, broker.MaxSessionsPerUser)
	}
	if got, _ := w.svc.Ticket(as(alice), tk.ID); len(got.Sessions) != broker.MaxSessionsPerUser {
		t.Errorf("%d sessions recorded, want %d", len(got.Sessions), broker.MaxSessionsPerUser)
	}
}

// eRevoker records the revocations asked for.
type eRevoker struct {
	mu   sync.Mutex
	reqs []broker.RevokeRequest
}

func (r *eRevoker) Revoke(_ context.Context, req broker.RevokeRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return nil
}

// A cut racing a new session: bob terminates the ticket while alice's
// session is being minted. The session is not recorded on the ticket as
// if it were usable, Credentials refuses, and when it returns the role's
// deny entry for the ticket is in place: it names the ticket (its session
// tag), so it covers the session minted in between as well.
func TestCredentialsRacingTerminate(t *testing.T) {
	rev := &eRevoker{}
	w := newEWorld(t, broker.ServiceConfig{Revoker: rev})
	tk := w.approved(t, alice)
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	w.minter.during = func() {
		if _, err := w.svc.Terminate(as(bob), tk.ID, "cut"); err != nil {
			t.Errorf("terminate: %v", err)
		}
	}
	_, err := w.svc.Credentials(as(alice), tk.ID)
	if broker.ErrorCode(err) != broker.ECONFLICT || !strings.Contains(broker.ErrorMessage(err), "terminated") {
		t.Fatalf("credentials racing terminate: %v, want conflict saying terminated", err)
	}
	got, _ := w.svc.Ticket(as(bob), tk.ID)
	if got.State != broker.StateTerminated || len(got.Sessions) != 0 {
		t.Errorf("ticket %s with %d sessions, want terminated with none recorded", got.State, len(got.Sessions))
	}
	rev.mu.Lock()
	defer rev.mu.Unlock()
	if !slices.ContainsFunc(rev.reqs, func(r broker.RevokeRequest) bool {
		return r.TicketID == tk.ID && r.RoleName == "ReadOnlyAccess" && r.User == "" && !r.Until.Before(got.End)
	}) {
		t.Errorf("revocations %+v: none denies the ticket's role until its end", rev.reqs)
	}
}
