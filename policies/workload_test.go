package policies

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// workloadRegistry is the table registry with one workload: ReadOnly and
// PowerUser in dev, and DataSci (whose scope has no dev) in dev.
func workloadRegistry() broker.RegistryData {
	r := tableRegistry()
	for i := range r.PermissionSets {
		r.PermissionSets[i].ApprovalRequired = true
	}
	r.Workloads = []broker.Workload{{
		Name: "deploy", Issuer: "https://token.actions.githubusercontent.com", Audience: "jit",
		Claims:   map[string]string{"repository": "org/repo"},
		Accounts: []string{dev}, PermissionSets: []string{"ReadOnly", "PowerUser", "DataSci"}, MaxDuration: time.Hour,
	}}
	return r
}

// TestWorkloadDecisions: a workload may request exactly what its entry
// lists (and the permission set's scope allows), nothing open to everyone
// beyond that, and never approves, administers or requests for others,
// even when a person's entry spells its principal.
func TestWorkloadDecisions(t *testing.T) {
	r := workloadRegistry()
	e, err := Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := broker.User{Email: broker.WorkloadPrincipal("deploy")}
	other := broker.User{Email: broker.WorkloadPrincipal("other")}
	for _, tc := range []struct {
		name     string
		u        broker.User
		act      broker.Action
		acct, ps string
		want     bool
	}{
		{"listed set in listed account", w, broker.ActRequest, dev, "ReadOnly", true},
		{"listed set, scope by group only", w, broker.ActRequest, dev, "PowerUser", true},
		{"listed set whose scope lacks the account", w, broker.ActRequest, dev, "DataSci", false},
		{"open-to-everyone set in an unlisted account", w, broker.ActRequest, prod, "ReadOnly", false},
		{"unlisted set", w, broker.ActRequest, prod, "Admin", false},
		{"unknown workload", other, broker.ActRequest, dev, "ReadOnly", false},
		{"administer", w, broker.ActAdminister, "", "", false},
		{"request for others", w, broker.ActRequestForOthers, dev, "ReadOnly", false},
	} {
		got, err := e.Allowed(ctx, tc.u, tc.act, tc.acct, tc.ps)
		if err != nil || got != tc.want {
			t.Errorf("%s: Allowed = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	for stage := range 2 {
		if ok, _ := e.MayApprove(ctx, w, prod, "ReadOnly", stage); ok {
			t.Errorf("a workload approves stage %d", stage)
		}
	}
	// A person whose groups would include a workload's name gets nothing of it.
	if ok, _ := e.Allowed(ctx, broker.User{Email: "x@x.com", Groups: []string{"workload:deploy"}}, broker.ActRequest, dev, "PowerUser"); ok {
		t.Error("a group named workload:deploy is the workload")
	}
	ws, err := e.Workloads(ctx)
	if err != nil || len(ws) != 1 || ws[0].Name != "deploy" {
		t.Errorf("Workloads = %v, %v", ws, err)
	}
	// Removed from the registry: refused from the next decision on.
	r.Workloads = nil
	if err := e.Reload(r); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.Allowed(ctx, w, broker.ActRequest, dev, "ReadOnly"); ok {
		t.Error("a removed workload may still request")
	}
	if ws, _ := e.Workloads(ctx); len(ws) != 0 {
		t.Errorf("Workloads after removal = %v", ws)
	}
}

// TestWorkloadRegistryChecks: the one validator refuses a bad workload
// entry, naming the field.
func TestWorkloadRegistryChecks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(w *broker.Workload, r *broker.RegistryData)
		want   string
	}{
		{"bad name", func(w *broker.Workload, _ *broker.RegistryData) { w.Name = "Deploy Prod" }, `workloads[0].name: "Deploy Prod" must be`},
		{"duplicate name", func(w *broker.Workload, r *broker.RegistryData) {
			r.Workloads = append(r.Workloads, *w)
		}, `workloads[1].name: "deploy" is also the name of workloads[0]`},
		{"no issuer", func(w *broker.Workload, _ *broker.RegistryData) { w.Issuer = "" }, "workloads[0].issuer: is required"},
		{"http issuer", func(w *broker.Workload, _ *broker.RegistryData) { w.Issuer = "http://token.example.com" }, "must use https"},
		{"issuer with a query", func(w *broker.Workload, _ *broker.RegistryData) { w.Issuer = "https://x.example.com/?a=b" }, "must not carry user info, a query or a fragment"},
		{"issuer with user info", func(w *broker.Workload, _ *broker.RegistryData) { w.Issuer = "https://u:p@x.example.com" }, "must not carry user info"},
		{"relative issuer", func(w *broker.Workload, _ *broker.RegistryData) { w.Issuer = "token.example.com" }, "is not an absolute URL"},
		{"no audience", func(w *broker.Workload, _ *broker.RegistryData) { w.Audience = "" }, "workloads[0].audience: is required"},
		{"no claims", func(w *broker.Workload, _ *broker.RegistryData) { w.Claims = nil }, "workloads[0].claims: at least one claim is required"},
		{"reserved claim", func(w *broker.Workload, _ *broker.RegistryData) { w.Claims["aud"] = "jit" }, "workloads[0].claims.aud: is checked by JIT itself"},
		{"empty claim value", func(w *broker.Workload, _ *broker.RegistryData) { w.Claims["ref"] = "" }, "workloads[0].claims.ref: must not be empty"},
		{"hidden character in a claim", func(w *broker.Workload, _ *broker.RegistryData) { w.Claims["ref"] = "main\u202e" }, "workloads[0].claims.ref:"},
		{"no accounts", func(w *broker.Workload, _ *broker.RegistryData) { w.Accounts = nil }, "workloads[0].accounts: at least one account is required"},
		{"every account", func(w *broker.Workload, _ *broker.RegistryData) { w.Accounts = []string{"*"} }, `workloads[0].accounts[0]: account "*" is not registered`},
		{"unknown account", func(w *broker.Workload, _ *broker.RegistryData) { w.Accounts = []string{unknown} }, "is not registered"},
		{"unknown set", func(w *broker.Workload, _ *broker.RegistryData) { w.PermissionSets = []string{"Nope"} }, `workloads[0].permission_sets[0]: permission set "Nope" is not registered`},
		{"identity center set", func(w *broker.Workload, r *broker.RegistryData) {
			r.PermissionSets = append(r.PermissionSets, broker.PermissionSet{Name: "SSO", ARN: "arn:aws:sso:::permissionSet/ssoins-72230000jitdemo1/ps-88a9e02b271ad7b5", GrantPath: broker.GrantIdentityCenter, MaxDuration: time.Hour})
			w.PermissionSets = []string{"SSO"}
		}, "workloads[0].permission_sets[0]: permission set SSO grants through Identity Center"},
		{"set without approval", func(w *broker.Workload, r *broker.RegistryData) {
			r.PermissionSets[0].ApprovalRequired = false
		}, "workloads[0].permission_sets[0]: permission set ReadOnly needs no approval"},
		{"no duration", func(w *broker.Workload, _ *broker.RegistryData) { w.MaxDuration = 0 }, "workloads[0].max_duration: must be positive"},
		{"a workload approves", func(_ *broker.Workload, r *broker.RegistryData) {
			r.ApprovalRules[5].Stages[0].Approvers = []string{"workload:deploy"}
		}, `approval_rules[5].stages[0].approvers[0]: "workload:deploy" names a workload`},
		{"a workload administers", func(_ *broker.Workload, r *broker.RegistryData) {
			r.Admins = append(r.Admins, "Workload:deploy")
		}, `admins[2]: "workload:deploy" names a workload`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := workloadRegistry()
			tc.change(&r.Workloads[0], &r)
			_, err := Compile(r)
			if err == nil || broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile = %v, want invalid containing %q", err, tc.want)
			}
		})
	}
	r := workloadRegistry()
	r.Workloads[0].Issuer = "http://127.0.0.1:8080"
	if _, err := Compile(r); err != nil {
		t.Errorf("http issuer on loopback: %v", err)
	}
}
