package broker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// dSched records scheduled tasks.
type dSched struct {
	mu    sync.Mutex
	tasks []broker.TaskKind
}

func (s *dSched) Schedule(_ context.Context, k broker.TaskKind, _ string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks = append(s.tasks, k)
	return nil
}

func (s *dSched) Unschedule(context.Context, broker.TaskKind, string) error { return nil }

// dAuthz lets everyone request, and forOthers request for others.
type dAuthz struct{ forOthers string }

func (a dAuthz) Allowed(_ context.Context, u broker.User, act broker.Action, _, _ string) (bool, error) {
	switch act {
	case broker.ActRequest:
		return true, nil
	case broker.ActRequestForOthers:
		return u.Email == a.forOthers, nil
	}
	return false, nil
}

// dDirectory knows some users; the function fields stand in for the Identity Store.
type dDirectory struct {
	ResolveFn func(ctx context.Context, email string) (string, error)
}

func (d dDirectory) ResolveUser(ctx context.Context, email string) (string, error) {
	return d.ResolveFn(ctx, email)
}

type dNoop struct{}

func (dNoop) Mint(context.Context, broker.MintRequest) (broker.Credentials, error) {
	return broker.Credentials{}, nil
}
func (dNoop) Revoke(context.Context, broker.RevokeRequest) error { return nil }

func newDirService(t *testing.T, dir broker.Directory) (*broker.Service, *fake.Store, *dSched) {
	t.Helper()
	engine := approvals.New(fake.NewRules(broker.RuleStage{Approvers: []string{"bob@example.com"}}))
	store, sched := fake.NewStore(), &dSched{}
	reg := &broker.StaticRegistry{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true}},
	}
	svc, err := broker.NewService(broker.ServiceConfig{Store: store, Scheduler: sched, Registry: reg, Authorizer: dAuthz{forOthers: "carol@example.com"},
		Approvals: engine, Minter: dNoop{}, Revoker: dNoop{}, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store, sched
}

// Beneficiaries must resolve in the directory (the Identity Store, or the
// config's list; without one only the caller is known), and only those with the right may request for others; a refused
// request stores and schedules nothing.
func TestRequestForOthers(t *testing.T) {
	known := map[string]bool{"alice@example.com": true, "dave@example.com": true, "carol@example.com": true}
	dir := dDirectory{ResolveFn: func(_ context.Context, email string) (string, error) {
		if email == "broken@example.com" {
			return "", broker.Errorf(broker.EUNAVAILABLE, "identity store is down")
		}
		if !known[email] {
			return "", broker.Errorf(broker.ENOTFOUND, "no user %s", email)
		}
		return "id-" + email, nil
	}}
	for _, tc := range []struct {
		name          string
		dir           broker.Directory
		who           string
		beneficiaries []string
		wantCode      string
		wantInMessage string
	}{
		{"self", dir, "alice@example.com", nil, "", ""},
		{"others with the right", dir, "carol@example.com", []string{"alice@example.com", "dave@example.com"}, "", ""},
		{"others without the right", dir, "alice@example.com", []string{"alice@example.com", "dave@example.com"}, broker.EFORBIDDEN, "other people"},
		{"unknown beneficiary", dir, "carol@example.com", []string{"alice@example.com", "ghost@example.com"}, broker.EINVALID, "ghost@example.com"},
		{"directory down", dir, "carol@example.com", []string{"broken@example.com"}, broker.EUNAVAILABLE, ""},
		// Without a directory JIT knows only the caller (issue 10 §5).
		{"no directory", nil, "carol@example.com", []string{"nobody@nonexistent.invalid"}, broker.EINVALID, "no user directory"},
		{"no directory, for oneself", nil, "carol@example.com", []string{"carol@example.com"}, "", ""},
		{"listed user", broker.ListDirectory{Users: []string{"Dave@example.com"}}, "carol@example.com", []string{"dave@example.com"}, "", ""},
		{"listed domain", broker.ListDirectory{Domains: []string{"example.com"}}, "carol@example.com", []string{"dave@example.com"}, "", ""},
		{"not listed", broker.ListDirectory{Users: []string{"dave@example.com"}, Domains: []string{"example.org"}}, "carol@example.com",
			[]string{"dave@example.com", "nobody@nonexistent.invalid"}, broker.EINVALID, "nobody@nonexistent.invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, store, sched := newDirService(t, tc.dir)
			ctx := broker.WithUser(context.Background(), broker.User{Email: tc.who})
			tk, err := svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
				Beneficiaries: tc.beneficiaries, End: time.Now().Add(time.Hour), Reason: "test"})
			if got := broker.ErrorCode(err); got != tc.wantCode {
				t.Fatalf("code %q (%v), want %q", got, err, tc.wantCode)
			}
			if tc.wantInMessage != "" && !strings.Contains(broker.ErrorMessage(err), tc.wantInMessage) {
				t.Errorf("message %q does not name %q", broker.ErrorMessage(err), tc.wantInMessage)
			}
			if err != nil {
				if store.Len() != 0 || len(sched.tasks) != 0 {
					t.Errorf("refused request left %d tickets and tasks %v", store.Len(), sched.tasks)
				}
				return
			}
			if tk.State != broker.StatePending || len(sched.tasks) != 1 || sched.tasks[0] != broker.TaskDeadline {
				t.Errorf("state %s tasks %v, want pending with its deadline scheduled", tk.State, sched.tasks)
			}
		})
	}
}
