package broker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// TestWorkloadTickets: a workload files a ticket for itself within its
// registry entry (its max_duration, role path only, itself only; the
// directory is not asked about it), and never decides or terminates one.
// A refused request stores and schedules nothing.
func TestWorkloadTickets(t *testing.T) {
	reg := broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, ApprovalRequired: true, GrantPath: broker.GrantRole},
			{Name: "ReadOnlySSO", ARN: "arn:aws:sso:::permissionSet/ssoins-72230000jitdemo1/ps-88a9e02b271ad7b5", MaxDuration: 12 * time.Hour, ApprovalRequired: true, GrantPath: broker.GrantIdentityCenter},
		},
		Workloads: []broker.Workload{{Name: "deploy", Issuer: "https://ci.example.com", Audience: "jit", Claims: map[string]string{"repo": "r"},
			Accounts: []string{"111111111111"}, PermissionSets: []string{"ReadOnlyAccess"}, MaxDuration: time.Hour}},
	}
	newSvc := func(t *testing.T) (*broker.Service, *fake.Store, *dSched) {
		engine := approvals.New(fake.NewRules(broker.RuleStage{Approvers: []string{"bob@example.com"}}))
		store, sched := fake.NewStore(), &dSched{}
		dir := dDirectory{ResolveFn: func(_ context.Context, email string) (string, error) {
			t.Errorf("the directory was asked about %s", email)
			return "", broker.Errorf(broker.ENOTFOUND, "no user %s", email)
		}}
		svc, err := broker.NewService(broker.ServiceConfig{Store: store, Scheduler: sched,
			Registry:   &broker.StaticRegistry{Accounts: reg.Accounts, PermissionSets: reg.PermissionSets},
			Authorizer: dAuthz{}, RegistryStore: &gRegistryStore{r: reg},
			Approvals: engine, Minter: dNoop{}, Revoker: dNoop{}, Directory: dir})
		if err != nil {
			t.Fatal(err)
		}
		return svc, store, sched
	}
	job := broker.WithUser(context.Background(), broker.User{Email: broker.WorkloadPrincipal("deploy")})
	for _, tc := range []struct {
		name     string
		who      context.Context
		in       broker.CreateTicketInput
		wantCode string
		wantMsg  string
	}{
		{"in scope", job, broker.CreateTicketInput{PermissionSet: "ReadOnlyAccess", Duration: 30 * time.Minute}, "", ""},
		{"longer than its max_duration", job, broker.CreateTicketInput{PermissionSet: "ReadOnlyAccess", Duration: 2 * time.Hour}, broker.EINVALID, "maximum of 1h for workload deploy"},
		{"identity center", job, broker.CreateTicketInput{PermissionSet: "ReadOnlySSO", Duration: 30 * time.Minute}, broker.EINVALID, "Identity Center"},
		{"for someone else", job, broker.CreateTicketInput{PermissionSet: "ReadOnlyAccess", Duration: 30 * time.Minute, Beneficiaries: []string{"alice@example.com"}}, broker.EFORBIDDEN, ""},
		{"not in the registry", broker.WithUser(context.Background(), broker.User{Email: broker.WorkloadPrincipal("gone")}),
			broker.CreateTicketInput{PermissionSet: "ReadOnlyAccess", Duration: 30 * time.Minute}, broker.EFORBIDDEN, "not in the registry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc, store, sched := newSvc(t)
			tc.in.AccountID, tc.in.Reason = "111111111111", "deploy"
			tk, err := svc.CreateTicket(tc.who, tc.in)
			if got := broker.ErrorCode(err); got != tc.wantCode || !strings.Contains(broker.ErrorMessage(err), tc.wantMsg) {
				t.Fatalf("CreateTicket = %v, want code %q with %q", err, tc.wantCode, tc.wantMsg)
			}
			if err != nil {
				if store.Len() != 0 || len(sched.tasks) != 0 {
					t.Errorf("refused request left %d tickets and tasks %v", store.Len(), sched.tasks)
				}
				return
			}
			if tk.State != broker.StatePending || tk.Requester != "workload:deploy" || len(tk.Beneficiaries) != 1 || tk.Beneficiaries[0] != "workload:deploy" {
				t.Fatalf("ticket %s by %s for %v", tk.State, tk.Requester, tk.Beneficiaries)
			}
			for what, call := range map[string]func() error{
				"approve":   func() error { _, err := svc.ApproveRevision(tc.who, tk.ID, 0, ""); return err },
				"reject":    func() error { _, err := svc.RejectRevision(tc.who, tk.ID, 0, "no"); return err },
				"terminate": func() error { _, err := svc.Terminate(tc.who, tk.ID, ""); return err },
			} {
				if err := call(); broker.ErrorCode(err) != broker.EFORBIDDEN || !strings.Contains(broker.ErrorMessage(err), "workload deploy may not") {
					t.Errorf("workload %s: %v, want forbidden", what, err)
				}
			}
			// bob, a person, approves it through the rule.
			bob := broker.WithUser(context.Background(), broker.User{Email: "bob@example.com"})
			if tk, err := svc.ApproveRevision(bob, tk.ID, 0, "ok"); err != nil || tk.State == broker.StatePending {
				t.Errorf("bob approves: %v", err)
			}
		})
	}
}
