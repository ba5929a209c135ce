package policies

import (
	"context"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker"
)

// TestCompileRefusesBadRegistries: Compile checks every registry with the
// one validator, broker.CheckRegistry, and refuses it with its error.
func TestCompileRefusesBadRegistries(t *testing.T) {
	if _, err := Compile(tableRegistry()); err != nil {
		t.Fatalf("the table registry is invalid: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(r *broker.RegistryData)
		want   string
	}{
		{"too few approvers", func(r *broker.RegistryData) {
			r.ApprovalRules[2].Stages[0].Required = 3
		}, "approval_rules[2].stages[0].required: needs 3 approvals but the stage names only 2 approvers (a group counts once)"},
		{"a repeated approver counts once", func(r *broker.RegistryData) {
			r.ApprovalRules[1].Stages[1].Approvers = []string{"ciso@x.com", "CISO@x.com"}
		}, "approval_rules[1].stages[1].approvers[1]: ciso@x.com is listed twice"},
		{"a group approver counts as one", func(r *broker.RegistryData) {
			r.ApprovalRules[3].Stages[0].Required = 2
		}, "approval_rules[3].stages[0].required: needs 2 approvals but the stage names only 1 approvers (a group counts once)"},
		{"no stages", func(r *broker.RegistryData) {
			r.ApprovalRules[5].Stages = nil
		}, "approval_rules[5].stages: at least one stage is required"},
		{"bad approver", func(r *broker.RegistryData) {
			r.ApprovalRules[5].Stages[0].Approvers = []string{"paul"}
		}, `approval_rules[5].stages[0].approvers[0]: "paul" is neither an email address nor group:<name>`},
		{"same key twice", func(r *broker.RegistryData) {
			r.ApprovalRules = append(r.ApprovalRules, broker.ApprovalRule{Account: prod, PermissionSet: "Admin", Stages: []broker.RuleStage{stage(1, "a@x.com")}})
		}, `approval_rules[6]: approval_rules[2] already covers account "222222222222" and permission set "Admin"`},
		{"two groups share a set", func(r *broker.RegistryData) {
			r.PermissionSetGroups = append(r.PermissionSetGroups, broker.PermissionSetGroup{Name: "power", PermissionSets: []string{"PowerUser", "Admin"}})
			r.ApprovalRules = append(r.ApprovalRules, broker.ApprovalRule{Account: dev, PermissionSet: "group:power", Stages: []broker.RuleStage{stage(1, "a@x.com")}})
		}, `approval_rules[6]: ties with approval_rules[4]: both cover permission set "PowerUser" in account 111111111111 through groups "group:dev-sets" and "group:power"`},
		{"unknown permission set in rule", func(r *broker.RegistryData) {
			r.ApprovalRules[5].PermissionSet = "Nope"
		}, `approval_rules[5].permission_set: permission set "Nope" is not registered`},
		{"unknown group in rule", func(r *broker.RegistryData) {
			r.ApprovalRules[3].PermissionSet = "group:nope"
		}, `approval_rules[3].permission_set: permission set group "nope" is not defined`},
		{"unknown account in rule", func(r *broker.RegistryData) {
			r.ApprovalRules[1].Account = unknown
		}, "approval_rules[1].account: account \"999999999999\" is not registered (use \"*\" for every account)"},
		{"bad account in rule", func(r *broker.RegistryData) {
			r.ApprovalRules[1].Account = "prod"
		}, `approval_rules[1].account: account "prod" is not registered (use "*" for every account)`},
		{"rule without account", func(r *broker.RegistryData) {
			r.ApprovalRules[1].Account = ""
		}, "approval_rules[1]: approval_rules[0] already covers account \"*\" and permission set \"\""},
		{"bad late policy", func(r *broker.RegistryData) {
			r.ApprovalRules[1].LateApproval = "never"
		}, `approval_rules[1].late_approval: "never" must be keep_end or keep_length`},
		{"negative deadline", func(r *broker.RegistryData) {
			r.ApprovalRules[1].Deadline = -1
		}, "approval_rules[1].deadline: must not be negative"},
		{"unknown set in group", func(r *broker.RegistryData) {
			r.PermissionSetGroups[1].PermissionSets = append(r.PermissionSetGroups[1].PermissionSets, "Nope")
		}, `permission_set_groups[1].permission_sets[2]: permission set "Nope" is not registered`},
		{"duplicate group", func(r *broker.RegistryData) {
			r.PermissionSetGroups[1].Name = "dev-sets"
		}, `permission_set_groups[1].name: group dev-sets is listed twice`},
		{"group without name", func(r *broker.RegistryData) {
			r.PermissionSetGroups[0].Name = ""
		}, `permission_set_groups[0].name: "" must be 1 to 128 characters without spaces, '*', ':' or ','`},
		{"short account id", func(r *broker.RegistryData) {
			r.Accounts[1].ID = "22222222222"
		}, `accounts[1].id: "22222222222" must be 12 digits`},
		{"duplicate account", func(r *broker.RegistryData) {
			r.Accounts[2].ID = dev
		}, "accounts[2].id: account 111111111111 is listed twice"},
		{"duplicate permission set", func(r *broker.RegistryData) {
			r.PermissionSets[3].Name = "Admin"
		}, `permission_sets[3].name: permission set Admin is listed twice`},
		{"permission set without name", func(r *broker.RegistryData) {
			r.PermissionSets[3].Name = ""
		}, "permission_sets[3].name: \"\" must be 1 to 32 letters, digits or +=,.@_-"},
		{"bad permission set name", func(r *broker.RegistryData) {
			r.PermissionSets[3].Name = "group:x|y"
		}, `permission_sets[3].name: "group:x|y" must be 1 to 32 letters, digits or +=,.@_-`},
		{"unknown account in scope", func(r *broker.RegistryData) {
			r.PermissionSets[1].Scope.Accounts = append(r.PermissionSets[1].Scope.Accounts, unknown)
		}, "permission_sets[1].scope.accounts[2]: account \"999999999999\" is not registered (use \"*\" for every account)"},
		{"bad account in scope", func(r *broker.RegistryData) {
			r.PermissionSets[1].Scope.Accounts[0] = "dev"
		}, `permission_sets[1].scope.accounts[0]: account "dev" is not registered (use "*" for every account)`},
		{"empty requester group", func(r *broker.RegistryData) {
			r.PermissionSets[1].Scope.RequesterGroups = []string{"group:"}
		}, "permission_sets[1].scope.requester_groups[0]: \"group:\" is not a group name (a plain name without \"group:\", or \"*\" for everyone)"},
		{"bad admin", func(r *broker.RegistryData) {
			r.Admins = append(r.Admins, "carol")
		}, `admins[2]: "carol" is neither an email address nor group:<name>`},
		{"bad request for others", func(r *broker.RegistryData) {
			r.RequestForOthers[0] = "group:"
		}, "request_for_others[0]: \"group:\" is not a valid group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tableRegistry()
			tc.change(&r)
			_, err := Compile(r)
			if err == nil {
				t.Fatalf("Compile accepted it, want an error containing %q", tc.want)
			}
			if code := broker.ErrorCode(err); code != broker.EINVALID {
				t.Errorf("code %q, want %q", code, broker.EINVALID)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestReloadBadRegistryKeepsOld: nothing half-compiled.
func TestReloadBadRegistryKeepsOld(t *testing.T) {
	e, err := Compile(tableRegistry())
	if err != nil {
		t.Fatal(err)
	}
	bad := tableRegistry()
	bad.PermissionSets[1].Scope.RequesterGroups = []string{"*"} // would let anyone request PowerUser...
	bad.ApprovalRules[0].Stages[0].Required = 2                 // ...but the registry is invalid
	err = e.Reload(bad)
	if err == nil || !strings.Contains(err.Error(), "approval_rules[0].stages[0].required") {
		t.Fatalf("Reload = %v, want the stage error", err)
	}
	ctx := context.Background()
	if ok, _ := e.Allowed(ctx, user("alice@x.com"), broker.ActRequest, dev, "PowerUser"); ok {
		t.Error("half of the bad registry was applied: alice may request PowerUser")
	}
	if ok, _ := e.MayApprove(ctx, user("mgr@x.com"), sandbox, "ReadOnly", 0); !ok {
		t.Error("the old registry is gone: mgr may not approve the default rule")
	}
}
