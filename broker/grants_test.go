package broker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// Hand-written fakes for the seams broker owns (style.md 14).

type gSched struct {
	mu  sync.Mutex
	got []string
}

func (s *gSched) Schedule(_ context.Context, k broker.TaskKind, id string, _ time.Time) error {
	s.mu.Lock()
	s.got = append(s.got, string(k)+":"+id)
	s.mu.Unlock()
	return nil
}
func (s *gSched) Unschedule(context.Context, broker.TaskKind, string) error { return nil }

type gAllow struct{}

func (gAllow) Allowed(context.Context, broker.User, broker.Action, string, string) (bool, error) {
	return true, nil
}

// gNoApprovals stands in for the approval engine; these tests use
// permission sets that need no approval, so it is never called.
type gNoApprovals struct{ broker.ApprovalEngine }

type gAWS struct {
	mu          sync.Mutex
	assignments map[string]bool // live assignments by key
	creates     int
	deletes     int
	cuts        []broker.PortalCut
	revoked     []string
	failAssign  []error  // returned by the next Assign calls, in order
	ops         []string // "cut", "settle" and "unassign", in order
	onUnassign  func()   // run by Unassign: the deletion taking time
}

func (a *gAWS) Assign(_ context.Context, as broker.Assignment) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.failAssign) > 0 {
		err := a.failAssign[0]
		a.failAssign = a.failAssign[1:]
		return err
	}
	a.creates++
	a.assignments[as.Key()] = true
	return nil
}
func (a *gAWS) Unassign(_ context.Context, as broker.Assignment) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deletes++
	delete(a.assignments, as.Key())
	a.ops = append(a.ops, "unassign")
	if a.onUnassign != nil {
		a.onUnassign()
	}
	return nil
}
func (a *gAWS) CutPortal(_ context.Context, c broker.PortalCut) error {
	a.mu.Lock()
	a.cuts = append(a.cuts, c)
	a.ops = append(a.ops, map[bool]string{false: "cut", true: "settle"}[c.Settle])
	a.mu.Unlock()
	return nil
}
func (a *gAWS) Revoke(_ context.Context, r broker.RevokeRequest) error {
	a.mu.Lock()
	a.revoked = append(a.revoked, r.TicketID)
	a.mu.Unlock()
	return nil
}
func (a *gAWS) Mint(context.Context, broker.MintRequest) (broker.Credentials, error) {
	return broker.Credentials{AccessKeyID: "ASIATEST", Expiration: time.Now().Add(time.Hour)}, nil
}
func (a *gAWS) live() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.assignments) }

type gHolds struct {
	mu sync.Mutex
	m  map[string]map[string]bool
}

func (h *gHolds) Hold(_ context.Context, key, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m[key] == nil {
		h.m[key] = map[string]bool{}
	}
	h.m[key][id] = true
	return nil
}
func (h *gHolds) Release(_ context.Context, key, id string) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m[key], id)
	return len(h.m[key]) == 0, nil
}
func (h *gHolds) Holders(_ context.Context, key string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for id := range h.m[key] {
		ids = append(ids, id)
	}
	return ids, nil
}

// gLocker locks per key, as the Redis Locker does.
type gLocker struct {
	mu   sync.Mutex
	keys map[string]*sync.Mutex
}

func (l *gLocker) Lock(_ context.Context, key string) (func(), error) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]*sync.Mutex{}
	}
	m := l.keys[key]
	if m == nil {
		m = &sync.Mutex{}
		l.keys[key] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock, nil
}

type grantEnv struct {
	svc   *broker.Service
	aws   *gAWS
	clock *fake.Clock
	store *fake.Store
	sched *gSched
	holds *gHolds
}

// newGrantEnv serves one permission set on the given grant path with
// fakes for everything; change, if given, adjusts the service's config
// before the service is made.
func newGrantEnv(t *testing.T, path broker.GrantPath, change ...func(*broker.ServiceConfig)) *grantEnv {
	t.Helper()
	e := &grantEnv{
		aws:   &gAWS{assignments: map[string]bool{}},
		clock: fake.NewClock(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)),
		store: fake.NewStore(),
		sched: &gSched{},
		holds: &gHolds{m: map[string]map[string]bool{}},
	}
	reg := &broker.StaticRegistry{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
			MaxDuration: 12 * time.Hour, GrantPath: path}},
	}
	n := 0
	cfg := broker.ServiceConfig{
		Store: e.store, Scheduler: e.sched, Registry: reg, Authorizer: gAllow{}, Approvals: gNoApprovals{},
		Minter: e.aws, Revoker: e.aws, Assigner: e.aws, PortalRevoker: e.aws, Holds: e.holds, Locker: &gLocker{},
		Clock: e.clock, NewID: func() string { n++; return "t" + string(rune('0'+n)) },
	}
	for _, c := range change {
		c(&cfg)
	}
	svc, err := broker.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *grantEnv) file(t *testing.T, user string, d time.Duration) *broker.Ticket {
	t.Helper()
	ctx := broker.WithUser(context.Background(), broker.User{Email: user})
	tk, err := e.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", End: e.clock.Now().Add(d), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	return tk
}

func (e *grantEnv) state(t *testing.T, id string) *broker.Ticket {
	t.Helper()
	tk, err := e.store.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// Two overlapping tickets for one user need one assignment: the first
// ending leaves it (and cuts nothing), the second ending removes it and
// cuts the user's open portal sessions.
func TestOverlappingAssignments(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	a := e.file(t, "alice@example.com", time.Hour)
	b := e.file(t, "alice@example.com", 2*time.Hour)
	if e.aws.live() != 1 {
		t.Fatalf("%d live assignments, want 1", e.aws.live())
	}
	e.clock.Advance(time.Hour)
	if err := e.svc.Expire(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	if e.aws.live() != 1 || e.aws.deletes != 0 || len(e.aws.cuts) != 0 {
		t.Fatalf("after the first ticket ended: live=%d deletes=%d cuts=%d; want the second ticket's access kept", e.aws.live(), e.aws.deletes, len(e.aws.cuts))
	}
	e.clock.Advance(time.Hour)
	if err := e.svc.Expire(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	if e.aws.live() != 0 || e.aws.deletes != 1 || len(e.aws.cuts) != 2 {
		t.Fatalf("after the last ticket ended: live=%d deletes=%d cuts=%d; want removed and cut (and settled) once", e.aws.live(), e.aws.deletes, len(e.aws.cuts))
	}
	if cut := e.aws.cuts[1]; cut.User != "alice@example.com" || !cut.Before.Equal(e.clock.Now().Add(time.Second)) {
		t.Errorf("cut %+v: want alice's sessions issued before the next second", cut)
	}
	for _, id := range []string{a.ID, b.ID} {
		g := e.state(t, id).Grants
		if len(g) != 1 || g[0].State != broker.GrantUndone {
			t.Errorf("ticket %s grants %+v, want one undone assignment", id, g)
		}
	}
}

// A failure between intent and confirmation is finished by the retry, with
// exactly one assignment.
func TestAssignmentRetryAfterFailure(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	e.aws.failAssign = []error{errors.New("connection reset")}
	ctx := broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
	tk, err := e.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", End: e.clock.Now().Add(time.Hour), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err == nil {
		t.Fatal("Activate hid the transient failure; the task would not retry")
	}
	if got := e.state(t, tk.ID); got.State != broker.StateApproved || got.Grants[0].State != broker.GrantIntent || got.Grants[0].Error == "" {
		t.Fatalf("after the failure: state %s grants %+v; want approved with the intent and its error", got.State, got.Grants)
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	got := e.state(t, tk.ID)
	if got.State != broker.StateActive || got.Grants[0].State != broker.GrantDone || e.aws.live() != 1 || e.aws.creates != 1 {
		t.Fatalf("after the retry: state %s grants %+v live %d creates %d", got.State, got.Grants, e.aws.live(), e.aws.creates)
	}
}

// An assignment AWS reports FAILED ends the ticket with the reason.
func TestAssignmentFailedEndsTicket(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	e.aws.failAssign = []error{broker.Errorf(broker.EINVALID, "assignment failed: user is disabled")}
	ctx := broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
	tk, err := e.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", End: e.clock.Now().Add(time.Hour), Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	got := e.state(t, tk.ID)
	if got.State != broker.StateTerminated || got.Closed == nil || got.Closed.Comment != "activation failed: assignment failed: user is disabled" {
		t.Fatalf("state %s closed %+v", got.State, got.Closed)
	}
	if e.aws.live() != 0 {
		t.Fatalf("%d assignments left", e.aws.live())
	}
}

// Terminate on the role path writes the deny entry before it returns,
// records it, and schedules the revoke task.
func TestTerminateDeniesRoleAtOnce(t *testing.T) {
	e := newGrantEnv(t, broker.GrantRole)
	tk := e.file(t, "alice@example.com", time.Hour)
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	if _, err := e.svc.Terminate(ctx, tk.ID, "incident over"); err != nil {
		t.Fatal(err)
	}
	if len(e.aws.revoked) != 1 || e.aws.revoked[0] != tk.ID {
		t.Fatalf("revoked %v, want the ticket once", e.aws.revoked)
	}
	got := e.state(t, tk.ID)
	if len(got.Grants) != 1 || got.Grants[0].Kind != broker.GrantRoleDeny || got.Grants[0].State != broker.GrantDone {
		t.Fatalf("grants %+v, want the role deny recorded", got.Grants)
	}
	if err := e.svc.Revoke(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	if len(e.aws.revoked) != 1 {
		t.Fatalf("the revoke task wrote the deny entry again: %v", e.aws.revoked)
	}
	want := string(broker.TaskRevoke) + ":" + tk.ID
	if last := e.sched.got[len(e.sched.got)-1]; last != want {
		t.Fatalf("last scheduled %s, want %s", last, want)
	}
}

func (a *gAWS) ListAssignments(_ context.Context, account, psARN string) ([]broker.Assignment, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []broker.Assignment
	for key := range a.assignments {
		var as broker.Assignment
		as.AccountID, as.PermissionSetARN = account, psARN
		if prefix := account + "/" + psARN + "/"; len(key) > len(prefix) && key[:len(prefix)] == prefix {
			as.User = key[len(prefix):]
			out = append(out, as)
		}
	}
	return out, nil
}

type gRegistryStore struct{ r broker.RegistryData }

func (g *gRegistryStore) Registry(context.Context) (broker.RegistryData, int64, error) {
	return g.r, 1, nil
}
func (g *gRegistryStore) ReplaceRegistry(context.Context, broker.RegistryData, int64) (int64, error) {
	return 0, errors.New("read only")
}

type gAudit struct {
	mu     sync.Mutex
	events []broker.AuditEvent
}

func (g *gAudit) Record(_ context.Context, e broker.AuditEvent) error {
	g.mu.Lock()
	g.events = append(g.events, e)
	g.mu.Unlock()
	return nil
}

// An assignment created behind JIT's back is removed by the reconciler,
// one that an active ticket holds stays, and the removal is audited.
func TestReconcilerRemovesOrphans(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	held := e.file(t, "alice@example.com", time.Hour)
	ps := "arn:aws:sso:::permissionSet/ssoins-1/ps-1"
	e.aws.assignments["111111111111/"+ps+"/mallory@example.com"] = true // behind JIT's back
	audit := &gAudit{}
	reg := broker.RegistryData{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", ARN: ps, GrantPath: broker.GrantIdentityCenter, MaxDuration: time.Hour}},
	}
	svc := e.rewire(t, func(c *broker.ServiceConfig) {
		c.AssignmentLister, c.Audit, c.RegistryStore = e.aws, audit, &gRegistryStore{r: reg}
	})
	rep, err := svc.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.OrphansRemoved != 1 || e.aws.live() != 1 || !e.aws.assignments["111111111111/"+ps+"/alice@example.com"] {
		t.Fatalf("report %+v, live %v; want mallory's assignment gone and alice's (ticket %s) kept", rep, e.aws.assignments, held.ID)
	}
	if len(audit.events) != 1 || audit.events[0].Action != "remove orphan assignment" {
		t.Fatalf("audit %+v", audit.events)
	}
	// A second pass finds nothing to do.
	if rep, err := svc.Reconcile(context.Background()); err != nil || rep.OrphansRemoved != 0 {
		t.Fatalf("second pass: %+v %v", rep, err)
	}
}

// A crash between intent and confirmation on an ended ticket is undone by
// the reconciler, leaving no orphan.
func TestReconcilerUndoesCrashedGrant(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	tk := e.file(t, "alice@example.com", time.Hour)
	e.clock.Advance(time.Hour)
	// The expiry's clean-up fails half way (as if the worker died).
	svc := e.rewire(t, func(c *broker.ServiceConfig) { c.Assigner = failingUnassign{e.aws} })
	if err := svc.Expire(context.Background(), tk.ID); err == nil {
		t.Fatal("want the clean-up to fail")
	}
	if e.aws.live() != 1 {
		t.Fatalf("live %d", e.aws.live())
	}
	rep, err := e.svc.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Cleaned != 1 || e.aws.live() != 0 {
		t.Fatalf("report %+v live %d; want the assignment removed", rep, e.aws.live())
	}
}

type failingUnassign struct{ *gAWS }

func (failingUnassign) Unassign(context.Context, broker.Assignment) error {
	return errors.New("worker died")
}

// rewire returns a second Service over the same store and fakes with cfg changed.
func (e *grantEnv) rewire(t *testing.T, change func(*broker.ServiceConfig)) *broker.Service {
	t.Helper()
	reg := &broker.StaticRegistry{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
			MaxDuration: 12 * time.Hour, GrantPath: broker.GrantIdentityCenter}},
	}
	cfg := broker.ServiceConfig{
		Store: e.store, Scheduler: e.sched, Registry: reg, Authorizer: gAllow{}, Approvals: gNoApprovals{},
		Minter: e.aws, Revoker: e.aws, Assigner: e.aws, PortalRevoker: e.aws, Holds: e.holds, Locker: &gLocker{},
		Clock: e.clock,
	}
	change(&cfg)
	svc, err := broker.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// The Identity Center cut covers portal sessions opened while the
// assignment's deletion runs: a provisional deny of every session the
// user may open is in place before the deletion starts, and once it is
// done the deny is narrowed to sessions issued before the next whole
// second, kept until the longest of them has expired.
func TestPortalCutCoversDeletion(t *testing.T) {
	e := newGrantEnv(t, broker.GrantIdentityCenter)
	tk := e.file(t, "alice@example.com", time.Hour)
	start := e.clock.Now()
	var deleted time.Time
	e.aws.onUnassign = func() {
		e.clock.Advance(90*time.Second + 400*time.Millisecond) // AWS takes its time
		deleted = e.clock.Now()
	}
	if _, err := e.svc.Terminate(broker.WithUser(context.Background(), broker.User{Email: "admin@example.com"}), tk.ID, "cut"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Revoke(context.Background(), tk.ID); err != nil { // the revoke task
		t.Fatal(err)
	}
	if got, want := e.aws.ops, []string{"cut", "unassign", "settle"}; !slices.Equal(got, want) {
		t.Fatalf("operations %v, want %v", got, want)
	}
	prov, settled := e.aws.cuts[0], e.aws.cuts[1]
	// A session issued at any moment up to the deletion's end (AWS has
	// whole seconds) is refused by the provisional deny, and still by the
	// settled one.
	for _, issued := range []time.Time{start.Add(-time.Hour), start, deleted.Truncate(time.Second)} {
		if !issued.Before(prov.Before) || !issued.Before(settled.Before) {
			t.Errorf("a session issued at %s escapes: provisional bound %s, settled %s", issued, prov.Before, settled.Before)
		}
	}
	if !prov.Until.After(prov.Before.Add(11 * time.Hour)) {
		t.Errorf("provisional deny %+v may go before its sessions have expired", prov)
	}
	// A session of a later ticket, issued from the next second on, is not.
	if want := deleted.Truncate(time.Second).Add(time.Second); !settled.Before.Equal(want) {
		t.Errorf("settled bound %s, want %s", settled.Before, want)
	}
	if !settled.Until.Equal(settled.Before.Add(12 * time.Hour)) {
		t.Errorf("settled deny kept until %s, want 12 h after its bound %s", settled.Until, settled.Before)
	}
	if prov.Settle || !settled.Settle || settled.User != "alice@example.com" || settled.AccountID != "111111111111" {
		t.Errorf("cuts %+v, %+v", prov, settled)
	}
}
