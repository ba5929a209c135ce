package policies

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/jitaccess/jit/broker"
)

var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	// psNameRe is Identity Center's pattern for permission set names.
	psNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
)

// maxProblems caps how many problems one Validate error lists.
const maxProblems = 20

// Validate reports whether r can be compiled. It returns a broker.Error with
// code EINVALID listing every problem (up to 20), each naming its field, for
// example "approval_rules[2].stages[0].required: 3 approvals needed but only
// 2 approvers". It rejects:
//   - account ids that are not 12 digits, and duplicate ids;
//   - permission set names that are empty, not Identity Center names, or
//     duplicated; scopes naming unknown accounts ("*" is all) or empty
//     requester groups ("*" is everyone);
//   - permission set groups with empty or duplicate names, or naming unknown
//     permission sets (groups do not nest);
//   - approval rules for unknown accounts, unknown permission sets or
//     unknown groups ("group:<name>"), with no stages, with a stage needing
//     fewer than one approval or more approvals than it lists distinct
//     approvers, or bad late_approval, deadline or remind_every values;
//   - two rules that are equally specific for some account and permission
//     set (the same account and permission set, or two groups that share a
//     permission set), since neither could win;
//   - admins, request_for_others and approvers that are neither an email nor
//     "group:<name>".
//
// Group approvers count as one approver each: the registry does not know
// group members (they come from the identity provider at sign-in), so a
// stage requiring 2 approvals must name at least 2 entries.
func Validate(r broker.RegistryData) error {
	v := &validator{}
	v.check(r)
	if len(v.problems) == 0 {
		return nil
	}
	msg := strings.Join(v.problems, "; ")
	if v.more > 0 {
		msg += fmt.Sprintf("; and %d more", v.more)
	}
	return broker.Errorf(broker.EINVALID, "invalid registry: %s", msg)
}

type validator struct {
	problems []string
	more     int
}

func (v *validator) addf(field, format string, args ...any) {
	if len(v.problems) >= maxProblems {
		v.more++
		return
	}
	v.problems = append(v.problems, field+": "+fmt.Sprintf(format, args...))
}

func (v *validator) check(r broker.RegistryData) {
	accounts := map[string]int{}
	for i, a := range r.Accounts {
		f := fmt.Sprintf("accounts[%d].id", i)
		switch j, dup := accounts[a.ID]; {
		case !accountIDRe.MatchString(a.ID):
			v.addf(f, "%q is not a 12-digit account id", a.ID)
		case dup:
			v.addf(f, "duplicate account %s (also accounts[%d])", a.ID, j)
		default:
			accounts[a.ID] = i
		}
	}
	sets := map[string]int{}
	for i, p := range r.PermissionSets {
		f := fmt.Sprintf("permission_sets[%d]", i)
		switch j, dup := sets[p.Name]; {
		case p.Name == "":
			v.addf(f+".name", "is required")
		case !psNameRe.MatchString(p.Name):
			v.addf(f+".name", "%q is not a permission set name (1-32 of letters, digits and +=,.@_-)", p.Name)
		case dup:
			v.addf(f+".name", "duplicate permission set %q (also permission_sets[%d])", p.Name, j)
		default:
			sets[p.Name] = i
		}
		for j, a := range p.Scope.Accounts {
			if msg := accountProblem(a, accounts); msg != "" {
				v.addf(fmt.Sprintf("%s.scope.accounts[%d]", f, j), "%s", msg)
			}
		}
		for j, g := range p.Scope.RequesterGroups {
			if strings.TrimPrefix(g, groupPrefix) == "" {
				v.addf(fmt.Sprintf("%s.scope.requester_groups[%d]", f, j), "group name is required (\"*\" is everyone)")
			}
		}
	}
	groups := map[string][]string{}
	groupIndex := map[string]int{}
	for i, g := range r.PermissionSetGroups {
		f := fmt.Sprintf("permission_set_groups[%d]", i)
		switch j, dup := groupIndex[g.Name]; {
		case g.Name == "" || strings.ContainsAny(g.Name, "|*"):
			v.addf(f+".name", "%q is not a group name", g.Name)
		case dup:
			v.addf(f+".name", "duplicate permission set group %q (also permission_set_groups[%d])", g.Name, j)
		default:
			groupIndex[g.Name] = i
			groups[g.Name] = nil // declared, maybe without members
		}
		for j, p := range g.PermissionSets {
			if _, ok := sets[p]; !ok {
				v.addf(fmt.Sprintf("%s.permission_sets[%d]", f, j), "unknown permission set %q", p)
				continue
			}
			if !slices.Contains(groups[g.Name], p) {
				groups[g.Name] = append(groups[g.Name], p)
			}
		}
	}
	for i, a := range r.Admins {
		if msg := principalProblem(a); msg != "" {
			v.addf(fmt.Sprintf("admins[%d]", i), "%s", msg)
		}
	}
	for i, a := range r.RequestForOthers {
		if msg := principalProblem(a); msg != "" {
			v.addf(fmt.Sprintf("request_for_others[%d]", i), "%s", msg)
		}
	}
	v.rules(r.ApprovalRules, accounts, sets, groups)
}

// accountProblem says what is wrong with an account reference, if anything.
func accountProblem(id string, accounts map[string]int) string {
	if id == "*" {
		return ""
	}
	if !accountIDRe.MatchString(id) {
		return fmt.Sprintf("%q is not a 12-digit account id or \"*\"", id)
	}
	if _, ok := accounts[id]; !ok {
		return "unknown account " + id
	}
	return ""
}

// principalProblem says what is wrong with an email or "group:<name>".
func principalProblem(p string) string {
	if name, ok := strings.CutPrefix(p, groupPrefix); ok {
		if name == "" {
			return "group name is required"
		}
		return ""
	}
	if i := strings.IndexByte(p, '@'); i <= 0 || i == len(p)-1 || strings.ContainsAny(p, " |") {
		return fmt.Sprintf("%q is neither an email nor \"group:<name>\"", p)
	}
	return ""
}

func (v *validator) rules(rules []broker.ApprovalRule, accounts, sets map[string]int, groups map[string][]string) {
	// byKey finds rules with the same account and permission set; byPS finds
	// group rules that cover the same permission set for the same account.
	byKey := map[string]int{}
	type cover struct{ rule int }
	byPS := map[string]cover{}
	for i, r := range rules {
		f := "approval_rules[" + strconv.Itoa(i) + "]"
		ok := true
		if r.Account == "" {
			v.addf(f+".account", "is required (\"*\" for every account)")
			ok = false
		} else if msg := accountProblem(r.Account, accounts); msg != "" {
			v.addf(f+".account", "%s", msg)
			ok = false
		}
		var members []string
		switch name, isGroup := strings.CutPrefix(r.PermissionSet, groupPrefix); {
		case r.PermissionSet == "":
		case isGroup:
			if _, known := groups[name]; !known {
				v.addf(f+".permission_set", "unknown permission set group %q", name)
				ok = false
			}
			members = groups[name]
		default:
			if _, known := sets[r.PermissionSet]; !known {
				v.addf(f+".permission_set", "unknown permission set %q", r.PermissionSet)
				ok = false
			}
		}
		if len(r.Stages) == 0 {
			v.addf(f+".stages", "at least one stage is required")
		}
		for j, st := range r.Stages {
			sf := func() string { return f + ".stages[" + strconv.Itoa(j) + "]" }
			distinct := make(map[string]bool, len(st.Approvers))
			for k, a := range st.Approvers {
				if msg := principalProblem(a); msg != "" {
					v.addf(fmt.Sprintf("%s.approvers[%d]", sf(), k), "%s", msg)
				}
				distinct[normPrincipal(a)] = true
			}
			switch {
			case st.Required < 1:
				v.addf(sf()+".required", "must be at least 1, got %d", st.Required)
			case st.Required > len(distinct):
				v.addf(sf()+".required", "%d approvals needed but only %d approvers", st.Required, len(distinct))
			}
		}
		switch r.LateApproval {
		case "", broker.LateKeepEnd, broker.LateKeepLength:
		default:
			v.addf(f+".late_approval", "%q is neither %q nor %q", r.LateApproval, broker.LateKeepEnd, broker.LateKeepLength)
		}
		if r.Deadline < 0 {
			v.addf(f+".deadline", "must not be negative")
		}
		if r.RemindEvery < 0 {
			v.addf(f+".remind_every", "must not be negative")
		}
		if !ok {
			continue
		}
		key := r.Account + "|" + r.PermissionSet
		if j, dup := byKey[key]; dup {
			v.addf(f, "ties with approval_rules[%d]: same account %s and permission set %q", j, r.Account, r.PermissionSet)
			continue
		}
		byKey[key] = i
		sort.Strings(members)
		for _, p := range members {
			k := r.Account + "|" + p
			if c, dup := byPS[k]; dup {
				v.addf(f, "ties with approval_rules[%d]: both cover permission set %q in account %s through groups %q and %q",
					c.rule, p, r.Account, rules[c.rule].PermissionSet, r.PermissionSet)
				break
			}
			byPS[k] = cover{i}
		}
	}
}
