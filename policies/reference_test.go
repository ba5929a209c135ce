package policies

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// reference answers the same questions as the Enforcer straight from the
// registry data with plain maps and loops, written independently of the
// link compiler.
type reference struct {
	r       broker.RegistryData
	sets    map[string]broker.PermissionSet
	members map[string][]string // permission set group -> sets
}

func newReference(r broker.RegistryData) *reference {
	f := &reference{r: r, sets: map[string]broker.PermissionSet{}, members: map[string][]string{}}
	for _, p := range r.PermissionSets {
		f.sets[p.Name] = p
	}
	for _, g := range r.PermissionSetGroups {
		f.members[g.Name] = append(f.members[g.Name], g.PermissionSets...)
	}
	return f
}

// is reports whether principal (an email or "group:<name>") is u.
func is(principal string, u broker.User) bool {
	principal = broker.NormalizePrincipal(principal)
	if g, ok := strings.CutPrefix(principal, "group:"); ok {
		for _, ug := range u.Groups {
			if ug == g {
				return true
			}
		}
		return false
	}
	return u.Email != "" && principal == u.Email
}

func (f *reference) allowed(u broker.User, act broker.Action, acct, ps string) bool {
	switch act {
	case broker.ActAdminister:
		return slices.ContainsFunc(f.r.Admins, func(p string) bool { return is(p, u) })
	case broker.ActRequestForOthers:
		return slices.ContainsFunc(f.r.RequestForOthers, func(p string) bool { return is(p, u) })
	case broker.ActRequest:
	default:
		return false
	}
	var names []string
	if ps == "" {
		for _, p := range f.r.PermissionSets {
			names = append(names, p.Name)
		}
	} else if g, ok := strings.CutPrefix(ps, "group:"); ok {
		names = f.members[g]
	} else {
		names = []string{ps}
	}
	for _, n := range names {
		p, ok := f.sets[n]
		if !ok {
			continue
		}
		inAccount := acct == "" && len(p.Scope.Accounts) > 0 ||
			acct != "" && (slices.Contains(p.Scope.Accounts, acct) || slices.Contains(p.Scope.Accounts, "*"))
		inGroup := false
		for _, g := range p.Scope.RequesterGroups {
			if g == "*" || is("group:"+strings.TrimPrefix(g, "group:"), u) {
				inGroup = true
			}
		}
		if inAccount && inGroup {
			return true
		}
	}
	return false
}

// rule scores every rule: an exact account is worth 10, then a named set 2,
// a group holding it 1, any 0.
func (f *reference) rule(acct, ps string) (int, bool) {
	best, bestScore := -1, -1
	for i, r := range f.r.ApprovalRules {
		score := 0
		switch {
		case r.Account == acct && acct != "" && acct != "*":
			score += 10
		case r.Account == "*":
		default:
			continue
		}
		switch g, isGroup := strings.CutPrefix(r.PermissionSet, "group:"); {
		case r.PermissionSet == "":
		case r.PermissionSet == ps:
			score += 2
			if isGroup {
				score--
			}
		case isGroup && slices.Contains(f.members[g], ps):
			score++
		default:
			continue
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best, best >= 0
}

func (f *reference) mayApprove(u broker.User, acct, ps string, stage int) bool {
	i, ok := f.rule(acct, ps)
	if !ok || stage < 0 || stage >= len(f.r.ApprovalRules[i].Stages) {
		return false
	}
	return slices.ContainsFunc(f.r.ApprovalRules[i].Stages[stage].Approvers, func(p string) bool { return is(p, u) })
}

// genSize says how big a generated registry is.
type genSize struct {
	accounts, sets, setGroups, userGroups, users int
	// scopeAccounts and scopeGroups are per permission set.
	scopeAccounts, scopeGroups, rules int
}

// generated is a random valid registry and the users that go with it.
type generated struct {
	r     broker.RegistryData
	users []broker.User
}

func generate(seed uint64, n genSize) generated {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var g generated
	acct := func(i int) string { return fmt.Sprintf("%012d", 100000000000+i) }
	for i := range n.accounts {
		g.r.Accounts = append(g.r.Accounts, broker.Account{ID: acct(i), Name: fmt.Sprintf("acct-%d", i)})
	}
	ugroup := func(i int) string { return fmt.Sprintf("team-%d", i) }
	for i := range n.sets {
		p := broker.PermissionSet{Name: fmt.Sprintf("Set%d", i), RoleName: "r", MaxDuration: time.Hour, ApprovalRequired: true}
		if rnd.IntN(10) == 0 {
			p.Scope.Accounts = []string{"*"}
		} else {
			for range 1 + rnd.IntN(n.scopeAccounts) {
				p.Scope.Accounts = append(p.Scope.Accounts, acct(rnd.IntN(n.accounts)))
			}
		}
		if rnd.IntN(10) == 0 {
			p.Scope.RequesterGroups = []string{"*"}
		} else {
			for range 1 + rnd.IntN(n.scopeGroups) {
				p.Scope.RequesterGroups = append(p.Scope.RequesterGroups, ugroup(rnd.IntN(n.userGroups)))
			}
		}
		g.r.PermissionSets = append(g.r.PermissionSets, p)
	}
	// Sets are dealt round-robin into groups; a few also join a second
	// group so that group rules can overlap.
	members := make([][]string, n.setGroups)
	for i := range n.sets {
		members[i%n.setGroups] = append(members[i%n.setGroups], fmt.Sprintf("Set%d", i))
		if rnd.IntN(8) == 0 {
			j := rnd.IntN(n.setGroups)
			if !slices.Contains(members[j], fmt.Sprintf("Set%d", i)) {
				members[j] = append(members[j], fmt.Sprintf("Set%d", i))
			}
		}
	}
	for i, m := range members {
		g.r.PermissionSetGroups = append(g.r.PermissionSetGroups, broker.PermissionSetGroup{Name: fmt.Sprintf("grp%d", i), PermissionSets: m})
	}
	user := func(i int) string { return fmt.Sprintf("user%d@example.com", i) }
	principal := func() string {
		if rnd.IntN(2) == 0 {
			return "group:" + ugroup(rnd.IntN(n.userGroups))
		}
		return user(rnd.IntN(n.users))
	}
	for range 3 {
		if p := principal(); !slices.Contains(g.r.Admins, p) {
			g.r.Admins = append(g.r.Admins, p)
		}
		if p := principal(); !slices.Contains(g.r.RequestForOthers, p) {
			g.r.RequestForOthers = append(g.r.RequestForOthers, p)
		}
	}
	// Rules: unique (account, permission set) keys, and no two group rules
	// for one account sharing a set.
	keys := map[string]bool{}
	covered := map[string]bool{}
	for attempts := 0; len(g.r.ApprovalRules) < n.rules && attempts < 10*n.rules; attempts++ {
		r := broker.ApprovalRule{Account: "*"}
		if rnd.IntN(20) != 0 {
			r.Account = acct(rnd.IntN(n.accounts))
		}
		var cover []string
		switch rnd.IntN(3) {
		case 0:
			r.PermissionSet = fmt.Sprintf("Set%d", rnd.IntN(n.sets))
		case 1:
			j := rnd.IntN(n.setGroups)
			r.PermissionSet = fmt.Sprintf("group:grp%d", j)
			cover = members[j]
		}
		if keys[r.Account+"|"+r.PermissionSet] || slices.ContainsFunc(cover, func(p string) bool { return covered[r.Account+"|"+p] }) {
			continue
		}
		keys[r.Account+"|"+r.PermissionSet] = true
		for _, p := range cover {
			covered[r.Account+"|"+p] = true
		}
		for range 1 + rnd.IntN(3) {
			var st broker.RuleStage
			seen := map[string]bool{}
			for range 1 + rnd.IntN(3) {
				if p := principal(); !seen[p] {
					seen[p] = true
					st.Approvers = append(st.Approvers, p)
				}
			}
			st.Required = 1 + rnd.IntN(len(st.Approvers))
			r.Stages = append(r.Stages, st)
		}
		if planned := stagesOf(r.Stages); broker.CheckStages(planned) != nil {
			continue // a rule that could wait for ever is refused
		}
		g.r.ApprovalRules = append(g.r.ApprovalRules, r)
	}
	for i := range n.users {
		u := broker.User{Email: user(i)}
		for range rnd.IntN(4) {
			u.Groups = append(u.Groups, ugroup(rnd.IntN(n.userGroups)))
		}
		g.users = append(g.users, u)
	}
	return g
}

// decision is one random question for the enforcer.
type decision struct {
	u       broker.User
	act     broker.Action
	acct    string
	ps      string
	stage   int
	approve bool
}

func (g generated) decisions(ref *reference, seed uint64, n int) []decision {
	rnd := rand.New(rand.NewPCG(seed, 7))
	out := make([]decision, n)
	for i := range out {
		d := decision{u: g.users[rnd.IntN(len(g.users))]}
		switch k := rnd.IntN(20); {
		case k < 2:
			d.acct = ""
		case k < 3:
			d.acct = "999999999999" // not registered
		default:
			d.acct = g.r.Accounts[rnd.IntN(len(g.r.Accounts))].ID
		}
		if rnd.IntN(2) == 0 {
			// Aim at accounts that rules name, so specific rules are hit.
			r := g.r.ApprovalRules[rnd.IntN(len(g.r.ApprovalRules))]
			if r.Account != "*" {
				d.acct = r.Account
			}
		}
		switch k := rnd.IntN(20); {
		case k < 1:
			d.ps = ""
		case k < 3:
			d.ps = "group:" + g.r.PermissionSetGroups[rnd.IntN(len(g.r.PermissionSetGroups))].Name
		case k < 4:
			d.ps = "NoSuchSet"
		default:
			d.ps = g.r.PermissionSets[rnd.IntN(len(g.r.PermissionSets))].Name
		}
		switch k := rnd.IntN(10); {
		case k < 5:
			d.approve = true
			d.stage = rnd.IntN(4)
			// Half the time ask as an approver of some stage of the rule
			// that covers the question, so that yes is a common answer.
			if j, ok := ref.rule(d.acct, d.ps); ok && rnd.IntN(2) == 0 {
				st := g.r.ApprovalRules[j].Stages[rnd.IntN(len(g.r.ApprovalRules[j].Stages))]
				p := st.Approvers[rnd.IntN(len(st.Approvers))]
				// Half of these ask with a look-alike of the approver
				// (another case, a long s), which must not match.
				lookAlike := func(s string) string { return s }
				if rnd.IntN(2) == 0 {
					lookAlike = func(s string) string { return strings.ReplaceAll(strings.ToUpper(s), "S", "\u017f") }
				}
				if grp, ok := strings.CutPrefix(p, "group:"); ok {
					d.u = broker.User{Email: "someone@example.com", Groups: []string{lookAlike(grp)}}
				} else {
					d.u = broker.User{Email: lookAlike(p)}
				}
			}
		case k < 8:
			d.act = broker.ActRequest
		case k < 9:
			d.act = broker.ActAdminister
		default:
			d.act = broker.ActRequestForOthers
		}
		out[i] = d
	}
	return out
}

// stagesOf returns a rule's stages as a plan's.
func stagesOf(in []broker.RuleStage) []broker.Stage {
	out := make([]broker.Stage, len(in))
	for i, s := range in {
		out[i] = broker.Stage(s)
	}
	return out
}
