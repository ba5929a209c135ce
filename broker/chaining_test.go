package broker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// chainRevoker records deny requests; roles in missing do not exist.
type chainRevoker struct {
	mu      sync.Mutex
	reqs    []broker.RevokeRequest
	missing map[string]bool
}

func (r *chainRevoker) Revoke(_ context.Context, req broker.RevokeRequest) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.missing[req.RoleName] {
		return broker.Errorf(broker.ENOTFOUND, "role %s does not exist in account %s", req.RoleName, req.AccountID)
	}
	r.reqs = append(r.reqs, req)
	return nil
}

func (r *chainRevoker) take() []broker.RevokeRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

func chainRegistry() broker.RegistryData {
	all := broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}
	return broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "Chaining", RoleName: "AdministratorAccess", MaxDuration: time.Hour, GrantPath: broker.GrantRole, AllowRoleChaining: true, Scope: all},
			{Name: "Plain", RoleName: "ReadOnlyAccess", MaxDuration: time.Hour, GrantPath: broker.GrantRole, Scope: all},
			{Name: "Power", RoleName: "PowerUserAccess", MaxDuration: time.Hour, GrantPath: broker.GrantBoth,
				ARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef", Scope: all},
			{Name: "Portal", MaxDuration: time.Hour, GrantPath: broker.GrantIdentityCenter,
				ARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210", Scope: all},
		},
		Admins: []string{"carol@example.com"},
	}
}

type chainEnv struct {
	svc     *broker.Service
	tickets *fake.Store
	revoker *chainRevoker
	clock   *fake.Clock
	start   time.Time
}

func newChainEnv(t *testing.T) *chainEnv {
	t.Helper()
	reg := &regStore{data: chainRegistry(), version: 1}
	e := &chainEnv{tickets: fake.NewStore(), revoker: &chainRevoker{},
		start: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}
	e.clock = fake.NewClock(e.start)
	svc, err := broker.NewService(broker.ServiceConfig{
		Store: e.tickets, Scheduler: regSched{}, Registry: reg, RegistryStore: reg, Authorizer: regAuthz{reg},
		Approvals: regNoApprovals{}, Minter: regNoMinter{}, Revoker: e.revoker, Clock: e.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	return e
}

// active stores an active ticket of the permission set, ending an hour
// after the start, with one session handed out (allowing role chaining,
// or not).
func (e *chainEnv) active(id, permissionSet string, chainingSession bool) *broker.Ticket {
	tk := &broker.Ticket{
		ID: id, Revision: 1, State: broker.StateActive, Requester: "alice@example.com", Beneficiaries: []string{"alice@example.com"},
		AccountID: "111111111111", PermissionSet: permissionSet, Start: e.start, End: e.start.Add(time.Hour), Reason: "test",
		Sessions: []broker.Session{{AccessKeyID: "ASIAEXAMPLE", User: "alice@example.com", IssuedAt: e.start, Expiration: e.start.Add(time.Hour),
			RoleChaining: chainingSession}},
		CreatedAt: e.start, UpdatedAt: e.start,
	}
	e.tickets.CreateTicket(context.Background(), tk)
	return tk
}

func roleDenies(reqs []broker.RevokeRequest) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.RoleName+" until "+r.Until.Format("15:04"))
	}
	return out
}

// The deny path: a permission set that allows role chaining gets the
// ticket denied on every role JIT manages (role path sets, in any scope),
// its own role first, until an hour after the cut (the longest chained
// session), at terminate and at the end; a role that does not exist in
// the account is skipped. Other sets keep one entry on their own role
// until the ticket's end.
func TestDenyPathForRoleChaining(t *testing.T) {
	carol := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	tests := []struct {
		name          string
		permissionSet string
		missing       string        // a role that does not exist in the account
		expireAt      time.Duration // after the start; 0: terminate 20 minutes in
		// chainingSession: the ticket's session was minted while its set
		// allowed chaining (the set may have opted out since)
		chainingSession bool
		want            []string
	}{
		{name: "opted in, terminate", permissionSet: "Chaining", want: []string{
			"AdministratorAccess until 11:20", "ReadOnlyAccess until 11:20", "PowerUserAccess until 11:20"}},
		{name: "opted in, terminate close to the end", permissionSet: "Chaining", expireAt: -50 * time.Minute, want: []string{
			"AdministratorAccess until 11:50", "ReadOnlyAccess until 11:50", "PowerUserAccess until 11:50"}},
		{name: "opted in, at the end (expiry 5 s late)", permissionSet: "Chaining", expireAt: time.Hour + 5*time.Second, want: []string{
			"AdministratorAccess until 12:00", "ReadOnlyAccess until 12:00", "PowerUserAccess until 12:00"}},
		{name: "opted in, a managed role missing in the account", permissionSet: "Chaining", missing: "ReadOnlyAccess", want: []string{
			"AdministratorAccess until 11:20", "PowerUserAccess until 11:20"}},
		{name: "not opted in, terminate", permissionSet: "Plain", want: []string{"ReadOnlyAccess until 11:00"}},
		{name: "opted out after a chaining session was handed out", permissionSet: "Plain", chainingSession: true, want: []string{
			"ReadOnlyAccess until 11:20", "AdministratorAccess until 11:20", "PowerUserAccess until 11:20"}},
		// The session policy stops the session at the end: nothing to write.
		{name: "not opted in, at the end", permissionSet: "Plain", expireAt: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newChainEnv(t)
			e.revoker.missing = map[string]bool{tt.missing: true}
			tk := e.active("t1", tt.permissionSet, tt.chainingSession)
			switch {
			case tt.expireAt > 0:
				e.clock.Set(e.start.Add(tt.expireAt))
				if err := e.svc.Expire(context.Background(), tk.ID); err != nil {
					t.Fatal(err)
				}
			default:
				at := 20 * time.Minute
				if tt.expireAt < 0 {
					at = -tt.expireAt
				}
				e.clock.Set(e.start.Add(at))
				if _, err := e.svc.Terminate(carol, tk.ID, "cut"); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(tt.want, roleDenies(e.revoker.take())); diff != "" {
				t.Errorf("deny entries (-want +got):\n%s", diff)
			}
			got, _ := e.tickets.Ticket(context.Background(), tk.ID)
			n := 0
			for _, g := range got.Grants {
				if g.Kind == broker.GrantRoleDeny && g.State == broker.GrantDone {
					n++
				}
			}
			if n != len(tt.want) {
				t.Errorf("%d role deny grants recorded, want %d: %+v", n, len(tt.want), got.Grants)
			}
			// The revoke task runs the same path again: nothing is written twice.
			if err := e.svc.Revoke(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
			if again := e.revoker.take(); len(again) != 0 {
				t.Errorf("revoke task wrote again: %v", roleDenies(again))
			}
		})
	}
}

func TestAllowRoleChainingNeedsMintedSessions(t *testing.T) {
	r := chainRegistry()
	if err := broker.CheckRegistry(r); err != nil {
		t.Fatalf("valid registry: %v", err)
	}
	r.PermissionSets[3].AllowRoleChaining = true // the identity_center set
	err := broker.CheckRegistry(r)
	if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), "permission_sets[3].allow_role_chaining") {
		t.Fatalf("allow_role_chaining on an identity_center set: %v, want invalid naming the field", err)
	}
}
