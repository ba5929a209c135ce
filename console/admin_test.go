package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
)

// adminFake is a service with the registry routes: the ticket methods are
// never called here (the embedded nil interface), and the admin methods
// behave like broker.Service's on a small in-memory registry, with carol
// as the only administrator.
type adminFake struct {
	console.TicketService

	mu      sync.Mutex
	reg     broker.RegistryData
	version int64
	applied []broker.ApplyInput
}

var _ console.AdminService = (*adminFake)(nil)

func newAdminFake() *adminFake {
	return &adminFake{version: 1, reg: broker.RegistryData{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 12 * time.Hour, GrantPath: broker.GrantRole}},
		ApprovalRules:  []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}}},
		Admins:         []string{"carol@example.com"},
	}}
}

func (f *adminFake) admin(ctx context.Context) error {
	u, ok := broker.UserFrom(ctx)
	if !ok {
		return broker.Errorf(broker.EUNAUTHENTICATED, "authentication required")
	}
	if u.Email != "carol@example.com" {
		return broker.Errorf(broker.EFORBIDDEN, "%s is not an administrator", u.Email)
	}
	return nil
}

func (f *adminFake) change(ctx context.Context, fn func(r *broker.RegistryData) error) (broker.ApplyResult, error) {
	if err := f.admin(ctx); err != nil {
		return broker.ApplyResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	next := f.reg.Clone()
	if err := fn(&next); err != nil {
		return broker.ApplyResult{}, err
	}
	broker.NormalizeRegistry(&next)
	if err := broker.CheckRegistry(next); err != nil {
		return broker.ApplyResult{}, err
	}
	d := broker.DiffRegistry(f.reg, next)
	if !d.Empty() {
		f.reg, f.version = next, f.version+1
	}
	return broker.ApplyResult{Version: f.version, Changed: !d.Empty(), Diff: d}, nil
}

func (f *adminFake) Registry(ctx context.Context) (broker.RegistryVersion, error) {
	if err := f.admin(ctx); err != nil {
		return broker.RegistryVersion{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return broker.RegistryVersion{Version: f.version, RegistryData: f.reg.Clone()}, nil
}

func (f *adminFake) ApplyRegistry(ctx context.Context, in broker.ApplyInput) (broker.ApplyResult, error) {
	if err := f.admin(ctx); err != nil {
		return broker.ApplyResult{}, err
	}
	f.mu.Lock()
	f.applied = append(f.applied, in)
	cur, v := f.reg.Clone(), f.version
	f.mu.Unlock()
	if in.Version != 0 && in.Version != v {
		return broker.ApplyResult{}, broker.Errorf(broker.ECONFLICT, "stale version")
	}
	if in.DryRun {
		next := in.Registry.Clone()
		broker.NormalizeRegistry(&next)
		if err := broker.CheckRegistry(next); err != nil {
			return broker.ApplyResult{}, err
		}
		d := broker.DiffRegistry(cur, next)
		return broker.ApplyResult{Version: v, DryRun: true, Changed: !d.Empty(), Diff: d}, nil
	}
	return f.change(ctx, func(r *broker.RegistryData) error { *r = in.Registry.Clone(); return nil })
}

func (f *adminFake) Accounts(context.Context) ([]broker.Account, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reg.Clone().Accounts, nil
}

func (f *adminFake) RegisterAccount(ctx context.Context, a broker.Account) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error { r.Accounts = append(r.Accounts, a); return nil })
}

func (f *adminFake) UnregisterAccount(ctx context.Context, id string, force bool) (broker.UnregisterResult, error) {
	if err := f.admin(ctx); err != nil {
		return broker.UnregisterResult{}, err
	}
	if !force {
		return broker.UnregisterResult{}, broker.Errorf(broker.ECONFLICT, "account %s has 1 open ticket(s) (t1)", id)
	}
	return broker.UnregisterResult{Ended: []string{"t1"}}, nil
}

func (f *adminFake) ImportAccounts(ctx context.Context, in broker.ImportAccountsInput) (broker.ApplyResult, error) {
	return broker.ApplyResult{}, broker.Errorf(broker.EUNAVAILABLE, "import from AWS is not configured")
}

func (f *adminFake) PermissionSets(context.Context) ([]broker.PermissionSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reg.Clone().PermissionSets, nil
}

func (f *adminFake) RegisterPermissionSet(ctx context.Context, p broker.PermissionSet) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error { r.PermissionSets = append(r.PermissionSets, p); return nil })
}

func (f *adminFake) UnregisterPermissionSet(ctx context.Context, name string, force bool) (broker.UnregisterResult, error) {
	return broker.UnregisterResult{}, broker.Errorf(broker.ENOTFOUND, "permission set %s is not registered", name)
}

func (f *adminFake) ImportPermissionSets(ctx context.Context, in broker.ImportPermissionSetsInput) (broker.ApplyResult, error) {
	if err := f.admin(ctx); err != nil {
		return broker.ApplyResult{}, err
	}
	return broker.ApplyResult{DryRun: in.DryRun, Warnings: []string{"max_duration " + broker.FormatDuration(in.MaxDuration)}}, nil
}

func (f *adminFake) PermissionSetGroups(context.Context) ([]broker.PermissionSetGroup, error) {
	return []broker.PermissionSetGroup{}, nil
}

func (f *adminFake) PutPermissionSetGroup(ctx context.Context, g broker.PermissionSetGroup) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error {
		r.PermissionSetGroups = append(r.PermissionSetGroups, g)
		return nil
	})
}

func (f *adminFake) DeletePermissionSetGroup(ctx context.Context, name string) (broker.ApplyResult, error) {
	return broker.ApplyResult{}, broker.Errorf(broker.ENOTFOUND, "permission set group %s is not defined", name)
}

func (f *adminFake) ApprovalRules(ctx context.Context) ([]broker.ApprovalRule, error) {
	r, err := f.Registry(ctx)
	return r.ApprovalRules, err
}

func (f *adminFake) PutApprovalRule(ctx context.Context, rule broker.ApprovalRule) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error { r.ApprovalRules = append(r.ApprovalRules, rule); return nil })
}

func (f *adminFake) DeleteApprovalRule(ctx context.Context, account, ps, rg string) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error {
		for i, x := range r.ApprovalRules {
			if x.Account == account && x.PermissionSet == ps && x.RequesterGroup == rg {
				r.ApprovalRules = append(r.ApprovalRules[:i], r.ApprovalRules[i+1:]...)
				return nil
			}
		}
		return broker.Errorf(broker.ENOTFOUND, "no approval rule for %s/%s", account, ps)
	})
}

func (f *adminFake) Admins(ctx context.Context) ([]string, error) {
	r, err := f.Registry(ctx)
	return r.Admins, err
}

func (f *adminFake) SetAdmins(ctx context.Context, admins []string) (broker.ApplyResult, error) {
	return f.change(ctx, func(r *broker.RegistryData) error { r.Admins = admins; return nil })
}

func (f *adminFake) Access(ctx context.Context) (broker.Access, error) {
	u, _ := broker.UserFrom(ctx)
	return broker.Access{Admin: u.Email == "carol@example.com", MayRequest: []broker.Requestable{}, Approves: []string{}}, nil
}

// adminCall makes one request to app as email ("" for no token) and
// returns the status and the decoded JSON answer.
func adminCall(t *testing.T, f *adminFake, email, method, path, body string) (int, map[string]any) {
	t.Helper()
	app := console.New(console.Config{Service: f, Admin: f, Verifier: verifier})
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if email != "" {
		tok, err := issuer.Token(email, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := app.Test(req, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, data)
	}
	return resp.StatusCode, out
}

const (
	carol = "carol@example.com"
	alice = "alice@example.com"
)

func TestAdminRoutes(t *testing.T) {
	goodRegistry := `{"accounts":[{"id":"111111111111","name":"dev"},{"id":"222222222222","name":"staging"}],
		"permission_sets":[{"name":"ReadOnlyAccess","role_name":"ReadOnlyAccess","max_duration":"8h","approval_required":true,"grant_path":"role","scope":{"accounts":["*"],"requester_groups":["*"]}}],
		"approval_rules":[{"account":"*","stages":[{"approvers":["bob@example.com"],"required":1}]}],
		"admins":["carol@example.com"]}`
	for _, tc := range []struct {
		name, user, method, path, body string
		status                         int
		code, message                  string
	}{
		{"no token", "", "GET", "/api/v1/registry", "", 401, "unauthenticated", ""},
		{"non-admin reads the registry", alice, "GET", "/api/v1/registry", "", 403, "forbidden", "not an administrator"},
		{"non-admin applies", alice, "PUT", "/api/v1/registry", goodRegistry, 403, "forbidden", "not an administrator"},
		{"non-admin registers an account", alice, "POST", "/api/v1/accounts", `{"id":"333333333333","name":"prod"}`, 403, "forbidden", ""},
		{"non-admin sets admins", alice, "PUT", "/api/v1/admins", `{"admins":["alice@example.com"]}`, 403, "forbidden", ""},
		{"anyone lists accounts", alice, "GET", "/api/v1/accounts", "", 200, "", ""},
		{"unknown field", carol, "PUT", "/api/v1/registry", `{"accounts":[],"colour":"red"}`, 400, "invalid", "unknown field \"colour\""},
		{"unknown field in a permission set", carol, "PUT", "/api/v1/registry", strings.Replace(goodRegistry, `"grant_path"`, `"grnat_path"`, 1), 400, "invalid", "grnat_path"},
		{"duration as a number", carol, "PUT", "/api/v1/registry", strings.Replace(goodRegistry, `"8h"`, `8`, 1), 400, "invalid", "max_duration"},
		{"wrong type", carol, "PUT", "/api/v1/registry", `{"accounts":"111111111111"}`, 400, "invalid", "accounts"},
		{"invalid registry", carol, "PUT", "/api/v1/registry", strings.Replace(goodRegistry, `"required":1`, `"required":3`, 1), 400, "invalid", "approval_rules[0].stages[0].required"},
		{"bad dry_run", carol, "PUT", "/api/v1/registry?dry_run=maybe", goodRegistry, 400, "invalid", "dry_run"},
		{"stale version", carol, "PUT", "/api/v1/registry", `{"version":7,` + goodRegistry[1:], 409, "conflict", ""},
		{"bad account", carol, "POST", "/api/v1/accounts", `{"id":"12","name":"x"}`, 400, "invalid", "12 digits"},
		{"unregister with open tickets", carol, "DELETE", "/api/v1/accounts/111111111111", "", 409, "conflict", "open ticket"},
		{"bad force", carol, "DELETE", "/api/v1/accounts/111111111111?force=yes", "", 400, "invalid", "force"},
		{"import not configured", carol, "POST", "/api/v1/accounts/import", "", 503, "unavailable", "not configured"},
		{"import bad duration", carol, "POST", "/api/v1/permission-sets/import", `{"max_duration":"long"}`, 400, "invalid", "max_duration"},
		{"delete rule without account", carol, "DELETE", "/api/v1/approval-rules", "", 400, "invalid", "account is required"},
		{"delete missing rule", carol, "DELETE", "/api/v1/approval-rules?account=111111111111", "", 404, "not_found", ""},
		{"remove every admin", carol, "PUT", "/api/v1/admins", `{"admins":[]}`, 400, "invalid", "admins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newAdminFake()
			status, out := adminCall(t, f, tc.user, tc.method, tc.path, tc.body)
			if status != tc.status || (tc.code != "" && out["code"] != tc.code) {
				t.Fatalf("got %d %v, want %d %s", status, out, tc.status, tc.code)
			}
			if msg, _ := out["message"].(string); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q, want it to contain %q", msg, tc.message)
			}
			if f.version != 1 && status >= 300 {
				t.Errorf("a refused request changed the registry to version %d", f.version)
			}
		})
	}
}

func TestAdminRoutes_dryRunAndApply(t *testing.T) {
	f := newAdminFake()
	status, got := adminCall(t, f, carol, "GET", "/api/v1/registry", "")
	if status != 200 || got["version"] != float64(1) {
		t.Fatalf("GET registry: %d %v", status, got)
	}
	ps := got["permission_sets"].([]any)[0].(map[string]any)
	if ps["max_duration"] != "12h" {
		t.Errorf("max_duration in JSON is %v, want \"12h\"", ps["max_duration"])
	}
	// What GET answers, PUT takes back; with one more account.
	got["accounts"] = append(got["accounts"].([]any), map[string]any{"id": "222222222222", "name": "staging"})
	body, _ := json.Marshal(got)

	status, out := adminCall(t, f, carol, "PUT", "/api/v1/registry?dry_run=true", string(body))
	if status != 200 || out["dry_run"] != true || out["changed"] != true {
		t.Fatalf("dry run: %d %v", status, out)
	}
	if added := out["diff"].(map[string]any)["accounts"].(map[string]any)["added"]; len(added.([]any)) != 1 {
		t.Errorf("dry run diff: %v, want one added account", out["diff"])
	}
	if f.version != 1 || len(f.reg.Accounts) != 1 {
		t.Fatalf("dry run changed the registry: version %d, %d accounts", f.version, len(f.reg.Accounts))
	}
	status, out = adminCall(t, f, carol, "PUT", "/api/v1/registry", string(body))
	if status != 200 || out["changed"] != true || out["version"] != float64(2) || len(f.reg.Accounts) != 2 {
		t.Fatalf("apply: %d %v", status, out)
	}
	if in := f.applied[len(f.applied)-1]; in.Version != 1 || in.Registry.PermissionSets[0].MaxDuration != 12*time.Hour {
		t.Errorf("service got %+v; want version 1 and max_duration 12h", in)
	}
}

func TestAdminRoutes_items(t *testing.T) {
	f := newAdminFake()
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/accounts", `{"id":"222222222222","name":"staging"}`, 201},
		{"POST", "/api/v1/permission-sets", `{"name":"PowerUserAccess","role_name":"PowerUserAccess","max_duration":"4h","approval_required":true,"scope":{"accounts":["222222222222"],"requester_groups":["engineers"]}}`, 201},
		{"POST", "/api/v1/permission-set-groups", `{"name":"all","permission_sets":["ReadOnlyAccess","PowerUserAccess"]}`, 201},
		{"POST", "/api/v1/approval-rules", `{"account":"222222222222","permission_set":"group:all","stages":[{"approvers":["bob@example.com"],"required":1}],"deadline":"2h"}`, 201},
		{"PUT", "/api/v1/admins", `{"admins":["carol@example.com","group:admins"]}`, 200},
		{"DELETE", "/api/v1/accounts/222222222222?force=true", "", 200},
		{"POST", "/api/v1/permission-sets/import", `{"dry_run":true,"max_duration":"8h"}`, 200},
		{"GET", "/api/v1/approval-rules", "", 200},
		{"GET", "/api/v1/admins", "", 200},
		{"GET", "/api/v1/permission-sets", "", 200},
		{"GET", "/api/v1/permission-set-groups", "", 200},
	} {
		status, out := adminCall(t, f, carol, tc.method, tc.path, tc.body)
		if status != tc.status {
			t.Errorf("%s %s: %d %v, want %d", tc.method, tc.path, status, out, tc.status)
		}
	}
	if f.reg.ApprovalRules[1].Deadline != 2*time.Hour || len(f.reg.Admins) != 2 {
		t.Errorf("registry after the calls: %+v", f.reg)
	}
	status, me := adminCall(t, f, carol, "GET", "/api/v1/me", "")
	if status != 200 || me["admin"] != true || me["email"] != carol {
		t.Errorf("GET /me as carol: %d %v, want admin true", status, me)
	}
}
