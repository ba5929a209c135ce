package broker_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// Hand-written fakes for the registry's seams (style.md 14), prefixed reg
// so they never collide with the other tests' fakes.

// regStore is a broker.RegistryStore and broker.Registry in memory.
type regStore struct {
	mu      sync.Mutex
	data    broker.RegistryData
	version int64
	// beforeReplace, if set, runs before a replace is checked (to simulate a race).
	beforeReplace func()
}

func (s *regStore) Registry(context.Context) (broker.RegistryData, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.Clone(), s.version, nil
}

func (s *regStore) ReplaceRegistry(_ context.Context, r broker.RegistryData, version int64) (int64, error) {
	if f := s.beforeReplace; f != nil {
		s.beforeReplace = nil
		f()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if version != s.version {
		return 0, broker.Errorf(broker.ECONFLICT, "stale")
	}
	s.data, s.version = r.Clone(), s.version+1
	return s.version, nil
}

func (s *regStore) Account(_ context.Context, id string) (broker.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.data.FindAccount(id); ok {
		return a, nil
	}
	return broker.Account{}, broker.Errorf(broker.ENOTFOUND, "account %s is not registered", id)
}

func (s *regStore) PermissionSet(_ context.Context, name string) (broker.PermissionSet, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.data.FindPermissionSet(name); ok {
		return p, nil
	}
	return broker.PermissionSet{}, broker.Errorf(broker.ENOTFOUND, "permission set %s is not registered", name)
}

type regSched struct{}

func (regSched) Schedule(context.Context, broker.TaskKind, string, time.Time) error { return nil }
func (regSched) Unschedule(context.Context, broker.TaskKind, string) error          { return nil }

// regAuthz allows administration to the admins listed in the registry, and
// everything else to everyone.
type regAuthz struct{ reg *regStore }

func (a regAuthz) Allowed(_ context.Context, u broker.User, act broker.Action, _, _ string) (bool, error) {
	if act != broker.ActAdminister {
		return true, nil
	}
	a.reg.mu.Lock()
	defer a.reg.mu.Unlock()
	return slices.Contains(a.reg.data.Admins, u.Email), nil
}

// regNoApprovals and regNoMinter are never called by these tests.
type regNoApprovals struct{ broker.ApprovalEngine }
type regNoMinter struct{ broker.SessionMinter }

type regRevoker struct {
	mu      sync.Mutex
	revoked []string
}

func (r *regRevoker) Revoke(_ context.Context, req broker.RevokeRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked = append(r.revoked, req.TicketID)
	return nil
}

type regImporter struct {
	accounts []broker.Account
	sets     []broker.ImportedPermissionSet
}

func (i regImporter) Accounts(context.Context) ([]broker.Account, error) { return i.accounts, nil }
func (i regImporter) PermissionSets(context.Context) ([]broker.ImportedPermissionSet, error) {
	return i.sets, nil
}

type regEnv struct {
	svc     *broker.Service
	reg     *regStore
	tickets *fake.Store
	revoker *regRevoker
	changes int
}

var (
	regCarol = broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	regAlice = broker.WithUser(context.Background(), broker.User{Email: "alice@example.com"})
)

func regDemo() broker.RegistryData {
	return broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}, {ID: "222222222222", Name: "staging"}},
		PermissionSets: []broker.PermissionSet{{
			Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true,
			GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}},
		}},
		ApprovalRules: []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}}},
		Admins:        []string{"carol@example.com"},
	}
}

func newRegEnv(t *testing.T) *regEnv {
	t.Helper()
	e := &regEnv{reg: &regStore{data: regDemo(), version: 1}, tickets: fake.NewStore(), revoker: &regRevoker{}}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: e.tickets, Scheduler: regSched{}, Registry: e.reg, Authorizer: regAuthz{e.reg},
		Approvals: regNoApprovals{}, Minter: regNoMinter{}, Revoker: e.revoker,
		RegistryStore:    e.reg,
		OnRegistryChange: func(context.Context) error { e.changes++; return nil },
		Importer: regImporter{
			accounts: []broker.Account{{ID: "111111111111", Name: "Development"}, {ID: "333333333333", Name: "prod"}, {ID: "444444444444", Name: "dev"}},
			sets: []broker.ImportedPermissionSet{
				{Name: "ReadOnlyAccess", ARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef", SessionDuration: time.Hour},
				{Name: "Billing", ARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210", SessionDuration: 2 * time.Hour},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

func (e *regEnv) addTicket(id, account string, state broker.State) {
	now := time.Now().UTC()
	e.tickets.CreateTicket(context.Background(), &broker.Ticket{
		ID: id, Revision: 1, State: state, Requester: "alice@example.com", Beneficiaries: []string{"alice@example.com"},
		AccountID: account, PermissionSet: "ReadOnlyAccess", Start: now, End: now.Add(time.Hour), Reason: "test",
		Stages: []broker.Stage{{Approvers: []string{"bob@example.com"}, Required: 1}}, CreatedAt: now, UpdatedAt: now,
	})
}

func TestApplyRegistry(t *testing.T) {
	e := newRegEnv(t)
	next := regDemo()
	next.Accounts = append(next.Accounts, broker.Account{ID: "333333333333", Name: "prod"})
	next.PermissionSets[0].MaxDuration = 8 * time.Hour
	next.Admins = append(next.Admins, "group:admins")

	// A dry run shows the diff and changes nothing.
	res, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: next, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := broker.RegistryDiff{
		Accounts:       broker.Changes{Added: []string{"333333333333"}},
		PermissionSets: broker.Changes{Changed: []string{"ReadOnlyAccess: max_duration (12h -> 8h)"}},
		Admins:         broker.Changes{Added: []string{"group:admins"}},
	}
	if diff := cmp.Diff(want, res.Diff); diff != "" {
		t.Errorf("dry run diff (-want +got):\n%s", diff)
	}
	if !res.Changed || !res.DryRun || e.reg.version != 1 || e.changes != 0 {
		t.Fatalf("dry run: changed=%v dry_run=%v, stored version %d, %d notifications; want a change shown, nothing stored", res.Changed, res.DryRun, e.reg.version, e.changes)
	}

	// The apply itself, at the version the dry run saw.
	res, err = e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: next, Version: res.Version})
	if err != nil || res.Version != 2 || e.changes != 1 {
		t.Fatalf("apply: %+v, %v, %d notifications; want version 2 and one notification", res, err, e.changes)
	}
	// Applying it again changes nothing.
	res, err = e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: next})
	if err != nil || res.Changed || res.Version != 2 || e.changes != 1 {
		t.Fatalf("second apply: %+v, %v; want no change", res, err)
	}
	// A stale version is refused.
	if _, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: regDemo(), Version: 1}); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("apply at a stale version: %v, want conflict", err)
	}
}

func TestApplyRegistry_concurrentChangeIsAConflict(t *testing.T) {
	e := newRegEnv(t)
	next := regDemo()
	next.Accounts[0].Name = "development"
	// Another administrator's change lands between the read and the write.
	e.reg.beforeReplace = func() {
		e.reg.mu.Lock()
		e.reg.version++
		e.reg.mu.Unlock()
	}
	if _, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: next}); broker.ErrorCode(err) != broker.ECONFLICT {
		t.Fatalf("apply racing another change: %v, want conflict", err)
	}
	if a, _ := e.reg.FindAccountLocked("111111111111"); a.Name != "dev" {
		t.Errorf("account renamed to %q despite the conflict", a.Name)
	}
}

func (s *regStore) FindAccountLocked(id string) (broker.Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data.FindAccount(id)
}

func TestApplyRegistry_refusals(t *testing.T) {
	edit := func(f func(r *broker.RegistryData)) broker.RegistryData {
		r := regDemo()
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		r       broker.RegistryData
		code    string
		message string
	}{
		{"not an admin", regAlice, regDemo(), broker.EFORBIDDEN, "not an administrator"},
		{"no caller", context.Background(), regDemo(), broker.EUNAUTHENTICATED, ""},
		{"short account id", regCarol, edit(func(r *broker.RegistryData) { r.Accounts[0].ID = "1234" }), broker.EINVALID, "accounts[0].id"},
		{"duplicate account name", regCarol, edit(func(r *broker.RegistryData) { r.Accounts[1].Name = "dev" }), broker.EINVALID, "accounts[1].name"},
		{"duplicate permission set", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets = append(r.PermissionSets, r.PermissionSets[0]) }), broker.EINVALID, "permission_sets[1].name"},
		{"zero duration", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].MaxDuration = 0 }), broker.EINVALID, "permission_sets[0].max_duration"},
		{"unitless duration", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].MaxDuration = 12 }), broker.EINVALID, "less than a minute"},
		{"bad grant path", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].GrantPath = "magic" }), broker.EINVALID, "grant_path"},
		{"role path without role", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].RoleName = "" }), broker.EINVALID, "permission_sets[0].role_name: is required"},
		{"identity center without arn", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].GrantPath = broker.GrantIdentityCenter }), broker.EINVALID, "permission_sets[0].arn: is required"},
		{"scope names an unknown account", regCarol, edit(func(r *broker.RegistryData) { r.PermissionSets[0].Scope.Accounts = []string{"999999999999"} }), broker.EINVALID, "scope.accounts[0]"},
		{"rule needs more approvals than approvers", regCarol, edit(func(r *broker.RegistryData) { r.ApprovalRules[0].Stages[0].Required = 2 }), broker.EINVALID, "approval_rules[0].stages[0].required"},
		{"rule names an unknown permission set", regCarol, edit(func(r *broker.RegistryData) { r.ApprovalRules[0].PermissionSet = "God" }), broker.EINVALID, "approval_rules[0].permission_set"},
		{"rule names an unknown group", regCarol, edit(func(r *broker.RegistryData) { r.ApprovalRules[0].PermissionSet = "group:nope" }), broker.EINVALID, "group \"nope\""},
		{"two rules for the same thing", regCarol, edit(func(r *broker.RegistryData) { r.ApprovalRules = append(r.ApprovalRules, r.ApprovalRules[0]) }), broker.EINVALID, "approval_rules[1]"},
		{"bad approver", regCarol, edit(func(r *broker.RegistryData) { r.ApprovalRules[0].Stages[0].Approvers = []string{"bob"} }), broker.EINVALID, "approvers[0]"},
		{"no admins", regCarol, edit(func(r *broker.RegistryData) { r.Admins = nil }), broker.EINVALID, "admins"},
		{"group with unknown set", regCarol, edit(func(r *broker.RegistryData) {
			r.PermissionSetGroups = []broker.PermissionSetGroup{{Name: "ro", PermissionSets: []string{"Nope"}}}
		}), broker.EINVALID, "permission_set_groups[0].permission_sets[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRegEnv(t)
			_, err := e.svc.ApplyRegistry(tc.ctx, broker.ApplyInput{Registry: tc.r})
			if broker.ErrorCode(err) != tc.code || !strings.Contains(broker.ErrorMessage(err), tc.message) {
				t.Fatalf("got %v, want %s containing %q", err, tc.code, tc.message)
			}
			if e.reg.version != 1 || e.changes != 0 {
				t.Errorf("refused apply changed the registry (version %d, %d notifications)", e.reg.version, e.changes)
			}
		})
	}
}

// TestApplyRegistry_refusesDeadlock: a rule whose stage 2 waits for bob,
// who may already have used his one approval on stage 1, is refused at
// apply time naming the rule and the stages (issue 11, bug 2); nothing is
// stored.
func TestApplyRegistry_refusesDeadlock(t *testing.T) {
	e := newRegEnv(t)
	r := regDemo()
	r.ApprovalRules = []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{
		{Approvers: []string{"bob@example.com", "dave@example.com"}, Required: 1},
		{Approvers: []string{"bob@example.com"}, Required: 1},
	}}}
	_, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: r})
	want := "approval_rules[0].stages: stage 2 needs 1 approval, but bob@example.com may already have approved stage 1"
	if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), want) {
		t.Fatalf("got %v, want invalid containing %q", err, want)
	}
	if e.changes != 0 || e.reg.version != 1 {
		t.Fatalf("the refused registry was stored (changes %d, version %d)", e.changes, e.reg.version)
	}
	// Extension stages follow the same rule.
	r.ApprovalRules[0].ExtensionStages, r.ApprovalRules[0].Stages = r.ApprovalRules[0].Stages, r.ApprovalRules[0].Stages[:1]
	_, err = e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: r})
	if want := "approval_rules[0].extension_stages: stage 2"; !strings.Contains(broker.ErrorMessage(err), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestUnregisterAccount(t *testing.T) {
	e := newRegEnv(t)
	e.addTicket("t1", "222222222222", broker.StatePending)
	e.addTicket("t2", "222222222222", broker.StateActive)
	e.addTicket("t3", "222222222222", broker.StateExpired)
	e.addTicket("t4", "111111111111", broker.StateActive)

	_, err := e.svc.UnregisterAccount(regCarol, "222222222222", false)
	if broker.ErrorCode(err) != broker.ECONFLICT || !strings.Contains(broker.ErrorMessage(err), "t1, t2") {
		t.Fatalf("unregister with open tickets: %v, want conflict naming t1, t2", err)
	}
	if _, ok := e.reg.FindAccountLocked("222222222222"); !ok || e.reg.version != 1 {
		t.Fatal("a refused unregister changed the registry")
	}
	if _, err := e.svc.UnregisterAccount(regAlice, "222222222222", true); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Fatalf("non-admin force unregister: %v, want forbidden", err)
	}
	if _, err := e.svc.UnregisterAccount(regCarol, "999999999999", true); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("unregister unknown account: %v, want not_found", err)
	}

	res, err := e.svc.UnregisterAccount(regCarol, "222222222222", true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"t1", "t2"}, res.Ended); diff != "" {
		t.Errorf("ended tickets (-want +got):\n%s", diff)
	}
	if _, ok := e.reg.FindAccountLocked("222222222222"); ok {
		t.Error("account still registered after a forced unregister")
	}
	for id, want := range map[string]broker.State{"t1": broker.StateCancelled, "t2": broker.StateTerminated, "t3": broker.StateExpired, "t4": broker.StateActive} {
		if got, _ := e.tickets.Ticket(context.Background(), id); got.State != want {
			t.Errorf("ticket %s is %s, want %s", id, got.State, want)
		}
	}
	if !slices.Contains(e.revoker.revoked, "t2") || slices.Contains(e.revoker.revoked, "t4") {
		t.Errorf("revoked %v, want t2's sessions cut and t4's left alone", e.revoker.revoked)
	}
	if e.changes != 1 {
		t.Errorf("%d change notifications, want 1", e.changes)
	}
}

func TestUnregisterAccount_referencedByRule(t *testing.T) {
	e := newRegEnv(t)
	r := regDemo()
	r.ApprovalRules = append(r.ApprovalRules, broker.ApprovalRule{Account: "222222222222", Stages: []broker.RuleStage{{Approvers: []string{"dan@example.com"}}}})
	if _, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: r}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.UnregisterAccount(regCarol, "222222222222", false)
	if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "approval_rules[1].account") {
		t.Fatalf("unregister an account a rule names: %v, want invalid naming the rule", err)
	}
}

// A forced unregister that the registry refuses (a rule still names the
// account) ends no ticket: it checks everything before acting.
func TestUnregisterAccount_forceRefusedEndsNothing(t *testing.T) {
	e := newRegEnv(t)
	r := regDemo()
	r.ApprovalRules = append(r.ApprovalRules, broker.ApprovalRule{Account: "222222222222", Stages: []broker.RuleStage{{Approvers: []string{"dan@example.com"}}}})
	if _, err := e.svc.ApplyRegistry(regCarol, broker.ApplyInput{Registry: r}); err != nil {
		t.Fatal(err)
	}
	e.addTicket("t1", "222222222222", broker.StatePending)
	e.addTicket("t2", "222222222222", broker.StateActive)
	version := e.reg.version
	_, err := e.svc.UnregisterAccount(regCarol, "222222222222", true)
	if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "approval_rules[1].account") {
		t.Fatalf("force unregister of an account a rule names: %v, want invalid naming the rule", err)
	}
	for id, want := range map[string]broker.State{"t1": broker.StatePending, "t2": broker.StateActive} {
		if got, _ := e.tickets.Ticket(context.Background(), id); got.State != want {
			t.Errorf("ticket %s is %s after the refusal, want %s untouched", id, got.State, want)
		}
	}
	if len(e.revoker.revoked) != 0 {
		t.Errorf("sessions cut by a refused unregister: %v", e.revoker.revoked)
	}
	if _, ok := e.reg.FindAccountLocked("222222222222"); !ok || e.reg.version != version {
		t.Error("a refused unregister changed the registry")
	}
	// A rule still names the permission set: the validator refuses the
	// registry without it, and its tickets are left as they were.
	e.reg.data.ApprovalRules = append(e.reg.data.ApprovalRules, broker.ApprovalRule{Account: "*", PermissionSet: "ReadOnlyAccess",
		Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}})
	if _, err := e.svc.UnregisterPermissionSet(regCarol, "ReadOnlyAccess", true); broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("force unregister refused by the validator: %v, want invalid", err)
	}
	if got, _ := e.tickets.Ticket(context.Background(), "t2"); got.State != broker.StateActive {
		t.Errorf("ticket t2 is %s after the validator's refusal, want active", got.State)
	}
}

func TestRegistryItems(t *testing.T) {
	e := newRegEnv(t)
	ctx := regCarol
	steps := []struct {
		name string
		do   func() (broker.ApplyResult, error)
	}{
		{"register account", func() (broker.ApplyResult, error) {
			return e.svc.RegisterAccount(ctx, broker.Account{ID: "333333333333", Name: "prod"})
		}},
		{"register permission set", func() (broker.ApplyResult, error) {
			return e.svc.RegisterPermissionSet(ctx, broker.PermissionSet{Name: "PowerUserAccess", RoleName: "PowerUserAccess", MaxDuration: 4 * time.Hour,
				Scope: broker.Scope{Accounts: []string{"333333333333"}, RequesterGroups: []string{"engineers"}}})
		}},
		{"put group", func() (broker.ApplyResult, error) {
			return e.svc.PutPermissionSetGroup(ctx, broker.PermissionSetGroup{Name: "all", PermissionSets: []string{"ReadOnlyAccess", "PowerUserAccess"}})
		}},
		{"put rule", func() (broker.ApplyResult, error) {
			return e.svc.PutApprovalRule(ctx, broker.ApprovalRule{Account: "333333333333", PermissionSet: "group:all",
				Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com", "dan@example.com"}, Required: 2}, {Approvers: []string{"group:security"}}}})
		}},
		{"set admins", func() (broker.ApplyResult, error) {
			return e.svc.SetAdmins(ctx, []string{"carol@example.com", "Dan@Example.com"})
		}},
	}
	for _, s := range steps {
		if res, err := s.do(); err != nil || !res.Changed {
			t.Fatalf("%s: %+v, %v", s.name, res, err)
		}
	}
	got, err := e.svc.Registry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 6 || len(got.Accounts) != 3 || len(got.PermissionSets) != 2 || got.PermissionSets[1].GrantPath != broker.GrantRole {
		t.Errorf("registry after the steps: %+v", got)
	}
	if diff := cmp.Diff([]string{"carol@example.com", "dan@example.com"}, got.Admins); diff != "" {
		t.Errorf("admins (normalized) (-want +got):\n%s", diff)
	}
	if got.ApprovalRules[1].Stages[1].Required != 1 {
		t.Errorf("stage required defaults to 1, got %d", got.ApprovalRules[1].Stages[1].Required)
	}
	// The group is still used by a rule.
	if _, err := e.svc.DeletePermissionSetGroup(ctx, "all"); broker.ErrorCode(err) != broker.EINVALID {
		t.Errorf("delete a group a rule names: %v, want invalid", err)
	}
	if _, err := e.svc.DeleteApprovalRule(ctx, "333333333333", "group:all", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeletePermissionSetGroup(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.DeleteApprovalRule(ctx, "333333333333", "group:all", ""); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("delete a missing rule: %v, want not_found", err)
	}
	if _, err := e.svc.UnregisterPermissionSet(ctx, "PowerUserAccess", false); err != nil {
		t.Fatal(err)
	}
	// Everyone may list accounts; only admins may read rules.
	if as, err := e.svc.Accounts(regAlice); err != nil || len(as) != 3 {
		t.Errorf("Accounts as alice: %v, %v", as, err)
	}
	if _, err := e.svc.ApprovalRules(regAlice); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Errorf("ApprovalRules as alice: %v, want forbidden", err)
	}
	if _, err := e.svc.SetAdmins(ctx, nil); broker.ErrorCode(err) != broker.EINVALID {
		t.Errorf("removing every admin: %v, want invalid", err)
	}
}

func TestImport(t *testing.T) {
	e := newRegEnv(t)
	res, err := e.svc.ImportAccounts(regCarol, broker.ImportAccountsInput{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"333333333333", "444444444444"}, res.Diff.Accounts.Added); diff != "" || e.reg.version != 1 {
		t.Errorf("dry-run import (-want +got):\n%s (version %d)", diff, e.reg.version)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "444444444444") {
		t.Errorf("warnings %v, want one about the taken name dev", res.Warnings)
	}
	if _, err := e.svc.ImportAccounts(regCarol, broker.ImportAccountsInput{AccountIDs: []string{"555555555555"}}); broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Errorf("import an account not in the organization: %v, want not_found", err)
	}
	if res, err = e.svc.ImportAccounts(regCarol, broker.ImportAccountsInput{AccountIDs: []string{"333333333333"}}); err != nil || len(res.Diff.Accounts.Added) != 1 {
		t.Fatalf("import one account: %+v, %v", res, err)
	}
	if a, _ := e.reg.FindAccountLocked("111111111111"); a.Name != "dev" {
		t.Errorf("import renamed a registered account to %q", a.Name)
	}

	res, err = e.svc.ImportPermissionSets(regCarol, broker.ImportPermissionSetsInput{MaxDuration: 8 * time.Hour, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"finance"}}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(broker.Changes{Added: []string{"Billing"}, Changed: []string{"ReadOnlyAccess: arn (none -> arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef)"}}, res.Diff.PermissionSets); diff != "" {
		t.Errorf("permission set import (-want +got):\n%s", diff)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "Billing: max_duration 8h exceeds its Identity Center session duration 2h") {
		t.Errorf("warnings %q, want one about Billing's 8h over 2h", res.Warnings)
	}
	p, _ := e.reg.PermissionSet(context.Background(), "Billing")
	if p.GrantPath != broker.GrantIdentityCenter || !p.ApprovalRequired || p.MaxDuration != 8*time.Hour {
		t.Errorf("imported permission set: %+v", p)
	}
	if _, err := e.svc.ImportPermissionSets(regAlice, broker.ImportPermissionSetsInput{}); broker.ErrorCode(err) != broker.EFORBIDDEN {
		t.Errorf("import as alice: %v, want forbidden", err)
	}
}

func TestPermissionSetJSON(t *testing.T) {
	p := regDemo().PermissionSets[0]
	p.MaxDuration = 90 * time.Minute
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"max_duration":"1h30m"`) {
		t.Errorf("JSON %s, want max_duration as \"1h30m\"", b)
	}
	var back broker.PermissionSet
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{"name":"x","max_duration":12}`, `{"name":"x","max_duration":"soon"}`, `{"name":"x","colour":"red"}`} {
		if err := back.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("UnmarshalJSON(%s) accepted it", bad)
		}
	}
}

func TestAccess(t *testing.T) {
	e := newRegEnv(t)
	got, err := e.svc.Access(broker.WithUser(context.Background(), broker.User{Email: "bob@example.com", Groups: []string{"approvers"}}))
	if err != nil {
		t.Fatal(err)
	}
	want := broker.Access{
		RequestForOthers: true, // regAuthz allows everything but administration
		MayRequest:       []broker.Requestable{{PermissionSet: "ReadOnlyAccess", Accounts: []string{"111111111111", "222222222222"}}},
		Approves:         []string{"*/*"},
		MayBreakGlass:    []broker.Requestable{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Access (-want +got):\n%s", diff)
	}
	if a, err := e.svc.Access(regCarol); err != nil || !a.Admin || len(a.Approves) != 0 {
		t.Errorf("Access as carol: %+v, %v; want admin approving nothing", a, err)
	}
}
