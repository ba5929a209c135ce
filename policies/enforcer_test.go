package policies

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
)

const (
	dev     = "111111111111"
	prod    = "222222222222"
	sandbox = "333333333333"
	unknown = "999999999999"
)

func stage(req int, approvers ...string) broker.RuleStage {
	return broker.RuleStage{Approvers: approvers, Required: req}
}

// tableRegistry is the registry of the decision table.
func tableRegistry() broker.RegistryData {
	return broker.RegistryData{
		Accounts: []broker.Account{{ID: dev, Name: "dev"}, {ID: prod, Name: "prod"}, {ID: sandbox, Name: "sandbox"}},
		PermissionSets: []broker.PermissionSet{
			{Name: "ReadOnly", RoleName: "ReadOnly", MaxDuration: time.Hour, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}},
			{Name: "PowerUser", RoleName: "PowerUser", MaxDuration: time.Hour, Scope: broker.Scope{Accounts: []string{dev, sandbox}, RequesterGroups: []string{"devs"}}},
			{Name: "Admin", RoleName: "Admin", MaxDuration: time.Hour, Scope: broker.Scope{Accounts: []string{prod}, RequesterGroups: []string{"ops", "SRE"}}},
			{Name: "Billing", RoleName: "Billing", MaxDuration: time.Hour, Scope: broker.Scope{Accounts: []string{prod}, RequesterGroups: []string{"finance"}}},
			{Name: "DataSci", RoleName: "DataSci", MaxDuration: time.Hour, Scope: broker.Scope{Accounts: []string{sandbox}}},
		},
		PermissionSetGroups: []broker.PermissionSetGroup{
			{Name: "dev-sets", PermissionSets: []string{"PowerUser", "DataSci"}},
			{Name: "prod-sets", PermissionSets: []string{"Admin", "Billing"}},
		},
		Admins:           []string{"carol@x.com", "group:platform"},
		RequestForOthers: []string{"group:leads", "Lee@x.com"},
		ApprovalRules: []broker.ApprovalRule{
			0: {Account: "*", Stages: []broker.RuleStage{stage(1, "mgr@x.com")}},
			1: {Account: prod, Stages: []broker.RuleStage{stage(1, "group:ops-leads"), stage(2, "ciso@x.com", "cto@x.com")}},
			2: {Account: prod, PermissionSet: "Admin", Stages: []broker.RuleStage{stage(2, "group:sec", "sam@x.com")}},
			3: {Account: "*", PermissionSet: "group:dev-sets", Stages: []broker.RuleStage{stage(1, "group:dev-leads")}},
			4: {Account: dev, PermissionSet: "group:dev-sets", Stages: []broker.RuleStage{stage(1, "dana@x.com")}},
			5: {Account: sandbox, PermissionSet: "PowerUser", Stages: []broker.RuleStage{stage(1, "paul@x.com")}},
		},
	}
}

func user(email string, groups ...string) broker.User {
	return broker.User{Email: email, Groups: groups}
}

func TestDecisionTable(t *testing.T) {
	reg := tableRegistry()
	e, err := Compile(reg)
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(reg)
	ctx := context.Background()
	var (
		anyone   = user("alice@x.com")
		devU     = user("dave@x.com", "devs")
		opsU     = user("olga@x.com", "ops")
		sreU     = user("sid@x.com", "SRE")
		opsUpper = user("otto@x.com", "OPS")
		finance  = user("fin@x.com", "finance")
		carol    = user("carol@x.com")
		platform = user("pat@x.com", "platform")
		lee      = user("lee@x.com")
		lead     = user("lou@x.com", "leads")
	)
	type req struct {
		u        broker.User
		act      broker.Action
		acct, ps string
		want     bool
	}
	for _, tc := range []struct {
		name string
		req
	}{
		{"star accounts and star groups", req{anyone, broker.ActRequest, dev, "ReadOnly", true}},
		{"star accounts cover an unregistered id", req{anyone, broker.ActRequest, unknown, "ReadOnly", true}},
		{"group in scope, account in scope", req{devU, broker.ActRequest, dev, "PowerUser", true}},
		{"group in scope, second account", req{devU, broker.ActRequest, sandbox, "PowerUser", true}},
		{"account out of scope", req{devU, broker.ActRequest, prod, "PowerUser", false}},
		{"group out of scope", req{anyone, broker.ActRequest, dev, "PowerUser", false}},
		{"one of two requester groups", req{opsU, broker.ActRequest, prod, "Admin", true}},
		{"requester group written group:SRE", req{sreU, broker.ActRequest, prod, "Admin", true}},
		{"group names are case-sensitive", req{opsUpper, broker.ActRequest, prod, "Admin", false}},
		{"lower-case look-alike of SRE", req{user("s@x.com", "sre"), broker.ActRequest, prod, "Admin", false}},
		{"padded group name", req{user("s@x.com", " ops "), broker.ActRequest, prod, "Admin", false}},
		{"group with a long s", req{user("s@x.com", "\u017fRE"), broker.ActRequest, prod, "Admin", false}},
		{"group in fullwidth letters", req{user("s@x.com", "\uff4f\uff50\uff53"), broker.ActRequest, prod, "Admin", false}},
		{"admin group in another case", req{user("s@x.com", "Platform"), broker.ActAdminister, "", "", false}},
		{"right group, wrong account", req{opsU, broker.ActRequest, dev, "Admin", false}},
		{"wrong group, right account", req{devU, broker.ActRequest, prod, "Admin", false}},
		{"via permission set group", req{devU, broker.ActRequest, dev, "group:dev-sets", true}},
		{"via permission set group, no member in scope", req{finance, broker.ActRequest, dev, "group:dev-sets", false}},
		{"via permission set group, other group", req{finance, broker.ActRequest, prod, "group:prod-sets", true}},
		{"unknown permission set group", req{devU, broker.ActRequest, dev, "group:nope", false}},
		{"any permission set", req{devU, broker.ActRequest, sandbox, "", true}},
		{"any permission set via ReadOnly everywhere", req{anyone, broker.ActRequest, unknown, "", true}},
		{"any account", req{devU, broker.ActRequest, "", "PowerUser", true}},
		{"any account, not in group", req{anyone, broker.ActRequest, "", "Billing", false}},
		{"scope with no requester groups", req{devU, broker.ActRequest, sandbox, "DataSci", false}},
		{"admins are not in scope by being admins", req{carol, broker.ActRequest, dev, "PowerUser", false}},
		{"unknown permission set", req{devU, broker.ActRequest, dev, "NoSuch", false}},
		{"request for others by email, registry spelling normalised", req{lee, broker.ActRequestForOthers, dev, "ReadOnly", true}},
		{"an email is not normalised again", req{user("Lee@x.com"), broker.ActRequestForOthers, dev, "ReadOnly", false}},
		{"email with a zero-width space", req{user("carol@x.com\u200b"), broker.ActAdminister, "", "", false}},
		{"email in fullwidth letters", req{user("\uff43arol@x.com"), broker.ActAdminister, "", "", false}},
		{"request for others by group", req{lead, broker.ActRequestForOthers, "", "", true}},
		{"no request for others", req{anyone, broker.ActRequestForOthers, dev, "ReadOnly", false}},
		{"admin of everything", req{carol, broker.ActAdminister, "", "", true}},
		{"admin through group", req{platform, broker.ActAdminister, "", "", true}},
		{"admin of one account", req{carol, broker.ActAdminister, prod, "", true}},
		{"requester is no admin", req{devU, broker.ActAdminister, "", "", false}},
		{"lead is no admin", req{lead, broker.ActAdminister, dev, "ReadOnly", false}},
		{"unknown action", req{carol, broker.Action("delete"), "", "", false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Allowed(ctx, tc.u, tc.act, tc.acct, tc.ps)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Allowed(%v, %s, %q, %q) = %v, want %v", tc.u, tc.act, tc.acct, tc.ps, got, tc.want)
			}
			if r := ref.allowed(tc.u, tc.act, tc.acct, tc.ps); r != tc.want {
				t.Errorf("reference says %v, want %v", r, tc.want)
			}
		})
	}

	for _, tc := range []struct {
		name     string
		u        broker.User
		acct, ps string
		stage    int
		want     bool
		rule     int // the winning rule, -1 for none
	}{
		{"default rule", user("mgr@x.com"), sandbox, "ReadOnly", 0, true, 0},
		{"account rule beats default", user("mgr@x.com"), prod, "ReadOnly", 0, false, 1},
		{"stage 0 through group", user("x@x.com", "ops-leads"), prod, "ReadOnly", 0, true, 1},
		{"stage 1 approver", user("ciso@x.com"), prod, "ReadOnly", 1, true, 1},
		{"stage 1 approver is not stage 0", user("ciso@x.com"), prod, "ReadOnly", 0, false, 1},
		{"stage 0 approver is not stage 1", user("x@x.com", "ops-leads"), prod, "ReadOnly", 1, false, 1},
		{"no such stage", user("ciso@x.com"), prod, "ReadOnly", 2, false, 1},
		{"negative stage", user("ciso@x.com"), prod, "ReadOnly", -1, false, 1},
		{"named set beats account default", user("s@x.com", "sec"), prod, "Admin", 0, true, 2},
		{"named set rule hides account default", user("x@x.com", "ops-leads"), prod, "Admin", 0, false, 2},
		{"set group beats any set", user("d@x.com", "dev-leads"), sandbox, "DataSci", 0, true, 3},
		{"exact account group beats star group", user("d@x.com", "dev-leads"), dev, "DataSci", 0, false, 4},
		{"exact account group rule", user("dana@x.com"), dev, "PowerUser", 0, true, 4},
		{"email approver in another case is someone else", user("Dana@X.com"), dev, "PowerUser", 0, false, 4},
		{"email approver with a long s", user("\u017fam@x.com"), prod, "Admin", 0, false, 2},
		{"exact account named set beats star group", user("paul@x.com"), sandbox, "PowerUser", 0, true, 5},
		{"star group loses to exact named set", user("d@x.com", "dev-leads"), sandbox, "PowerUser", 0, false, 5},
		{"default approver loses to exact named set", user("mgr@x.com"), sandbox, "PowerUser", 0, false, 5},
		{"exact account any set beats star group", user("x@x.com", "ops-leads"), prod, "Billing", 0, true, 1},
		{"asked about the group itself", user("d@x.com", "dev-leads"), sandbox, "group:dev-sets", 0, true, 3},
		{"unregistered account falls to default", user("mgr@x.com"), unknown, "ReadOnly", 0, true, 0},
		{"stranger approves nothing", user("alice@x.com"), dev, "ReadOnly", 0, false, 0},
	} {
		t.Run("approve/"+tc.name, func(t *testing.T) {
			got, err := e.MayApprove(ctx, tc.u, tc.acct, tc.ps, tc.stage)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("MayApprove(%v, %q, %q, %d) = %v, want %v", tc.u, tc.acct, tc.ps, tc.stage, got, tc.want)
			}
			if r := ref.mayApprove(tc.u, tc.acct, tc.ps, tc.stage); r != tc.want {
				t.Errorf("reference says %v, want %v", r, tc.want)
			}
			rule, ok, _ := e.Rule(ctx, tc.acct, tc.ps, nil)
			if !ok {
				t.Fatalf("Rule(%q, %q) found none, want approval_rules[%d]", tc.acct, tc.ps, tc.rule)
			}
			if diff := cmp.Diff(reg.ApprovalRules[tc.rule], rule); diff != "" {
				t.Errorf("Rule(%q, %q) is not approval_rules[%d] (-want +got):\n%s", tc.acct, tc.ps, tc.rule, diff)
			}
		})
	}
}

func TestNoRuleCovers(t *testing.T) {
	reg := tableRegistry()
	reg.ApprovalRules = reg.ApprovalRules[1:] // drop the default
	e, err := Compile(reg)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := e.Rule(context.Background(), sandbox, "ReadOnly", nil); ok {
		t.Errorf("Rule found %+v, want none", r)
	}
	if ok, err := e.MayApprove(context.Background(), user("mgr@x.com"), sandbox, "ReadOnly", 0); ok || err != nil {
		t.Errorf("MayApprove = %v, %v; want false, nil", ok, err)
	}
}

// TestRandomAgainstReference compares 2,000 random decisions on a generated
// registry with the reference.
func TestRandomAgainstReference(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		g := generate(seed, genSize{accounts: 60, sets: 25, setGroups: 5, userGroups: 15, users: 40,
			scopeAccounts: 6, scopeGroups: 4, rules: 150})
		e, err := Compile(g.r)
		if err != nil {
			t.Fatal(err)
		}
		ref := newReference(g.r)
		yes := map[string]int{}
		for i, d := range g.decisions(ref, seed, 1000) {
			var got, want bool
			name := string(d.act)
			if d.approve {
				name = fmt.Sprintf("approve stage %d", d.stage)
				got, err = e.MayApprove(context.Background(), d.u, d.acct, d.ps, d.stage)
				want = ref.mayApprove(d.u, d.acct, d.ps, d.stage)
				ri, rok := ref.rule(d.acct, d.ps)
				rule, ok, _ := e.Rule(context.Background(), d.acct, d.ps, nil)
				if ok != rok || ok && !cmp.Equal(rule, g.r.ApprovalRules[ri]) {
					t.Errorf("seed %d decision %d: Rule(%q, %q) = %+v, %v; reference approval_rules[%d], %v", seed, i, d.acct, d.ps, rule, ok, ri, rok)
				}
			} else {
				got, err = e.Allowed(context.Background(), d.u, d.act, d.acct, d.ps)
				want = ref.allowed(d.u, d.act, d.acct, d.ps)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("seed %d decision %d: %s %v %q %q = %v, reference %v", seed, i, name, d.u, d.acct, d.ps, got, want)
			}
			if want {
				yes[name]++
			}
		}
		t.Logf("seed %d: yes answers by kind: %v", seed, yes)
		if yes[string(broker.ActRequest)] == 0 || yes["approve stage 0"] == 0 {
			t.Errorf("seed %d: too few yes answers to mean anything: %v", seed, yes)
		}
	}
}

// TestConcurrentDecisionsAndReloads runs decisions while the registry is
// reloaded (for the race detector), and checks every answer is one of the
// two registries' answers.
func TestConcurrentDecisionsAndReloads(t *testing.T) {
	a := tableRegistry()
	b := tableRegistry()
	b.PermissionSets[1].Scope.RequesterGroups = []string{"*"} // everyone may request PowerUser
	e, err := Compile(a)
	if err != nil {
		t.Fatal(err)
	}
	anyone := user("alice@x.com")
	devU := user("dave@x.com", "devs")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if ok, err := e.Allowed(context.Background(), devU, broker.ActRequest, dev, "PowerUser"); !ok || err != nil {
					t.Errorf("devs lost PowerUser during reload: %v, %v", ok, err)
					return
				}
				if _, err := e.Allowed(context.Background(), anyone, broker.ActRequest, dev, "PowerUser"); err != nil {
					t.Error(err)
					return
				}
				if _, err := e.MayApprove(context.Background(), anyone, dev, "PowerUser", 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 10 {
		r := a
		if i%2 == 0 {
			r = b
		}
		if err := e.Reload(r); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if ok, _ := e.Allowed(context.Background(), anyone, broker.ActRequest, dev, "PowerUser"); ok {
		t.Errorf("after the last reload (registry a), alice may still request PowerUser")
	}
}

// Rule with requester groups: a rule naming one of the requester's groups
// refines the rule for the same account and set, never a more specific
// one; of two matching groups, the first in byte order wins; a group rule
// never covers someone outside the group; rules for the same account, set
// and group are refused.
func TestRuleByRequesterGroup(t *testing.T) {
	reg := tableRegistry()
	n := len(reg.ApprovalRules)
	reg.ApprovalRules = append(reg.ApprovalRules,
		broker.ApprovalRule{Account: "*", RequesterGroup: "contractors", Stages: []broker.RuleStage{stage(1, "vm@x.com")}},                 // n
		broker.ApprovalRule{Account: "*", RequesterGroup: "auditors", Stages: []broker.RuleStage{stage(1, "audit@x.com")}},                 // n+1
		broker.ApprovalRule{Account: prod, PermissionSet: "Admin", RequesterGroup: "sec", Stages: []broker.RuleStage{stage(1, "x@x.com")}}, // n+2
	)
	e, err := Compile(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		acct, ps string
		groups   []string
		rule     int
	}{
		{"no groups: the rule naming none", sandbox, "ReadOnly", nil, 0},
		{"group rule refines the default", sandbox, "ReadOnly", []string{"contractors"}, n},
		{"first group in byte order", sandbox, "ReadOnly", []string{"contractors", "auditors"}, n + 1},
		{"other groups do not matter", sandbox, "ReadOnly", []string{"x", "contractors"}, n},
		{"exact account beats a star group rule", prod, "ReadOnly", []string{"contractors"}, 1},
		{"group rule at the named set", prod, "Admin", []string{"sec"}, n + 2},
		{"named set without the group", prod, "Admin", []string{"contractors"}, 2},
	} {
		rule, ok, err := e.Rule(ctx, tc.acct, tc.ps, tc.groups)
		if err != nil || !ok {
			t.Fatalf("%s: Rule found none (%v)", tc.name, err)
		}
		if diff := cmp.Diff(reg.ApprovalRules[tc.rule], rule); diff != "" {
			t.Errorf("%s: not approval_rules[%d] (-want +got):\n%s", tc.name, tc.rule, diff)
		}
	}
	dup := reg.Clone()
	dup.ApprovalRules = append(dup.ApprovalRules, broker.ApprovalRule{Account: "*", RequesterGroup: "contractors", Stages: []broker.RuleStage{stage(1, "y@x.com")}})
	if _, err := Compile(dup); err == nil || !strings.Contains(err.Error(), `requester group "contractors"`) {
		t.Errorf("two rules for the same account, set and group: %v, want refused", err)
	}
}
