package policies

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/jitaccess/jit/broker"
)

//go:embed model.conf
var modelText string

const groupPrefix = "group:"

// Node names. Subjects are "*", "user:<email>" and "group:<name>", so no
// subject can ever equal a registry node. Emails and group names are used
// exactly as given: they are normalised once where they enter JIT (see
// broker.User), and folding them again here would make look-alikes equal.
const (
	everyone      = "*"
	roleAdmin     = "role:admin"
	roleForOthers = "role:request_for_others"
)

func userNode(email string) string { return "user:" + email }

func groupNode(name string) string { return groupPrefix + name }

// principalNode names an admin, approver or request_for_others entry,
// normalised as the registry stores it (broker.NormalizePrincipal).
func principalNode(p string) string {
	p = broker.NormalizePrincipal(p)
	if name, ok := strings.CutPrefix(p, groupPrefix); ok {
		return groupNode(name)
	}
	return userNode(p)
}

func psNode(name string) string { return "ps:" + name }

func psgNode(name string) string { return "psg:" + name }

func acctNode(id string) string { return "acct:" + id }

func grantNode(ps string) string { return "grant|" + psNode(ps) }

// ruleKey is "<account or *>|<ps:set, psg:group or *>", followed by
// "|rg:<requester group>" for a rule that names one.
func ruleKey(account, permissionSet, requesterGroup string) string {
	var k string
	switch name, isGroup := strings.CutPrefix(permissionSet, groupPrefix); {
	case permissionSet == "":
		k = account + "|*"
	case isGroup:
		k = account + "|" + psgNode(name)
	default:
		k = account + "|" + psNode(permissionSet)
	}
	if requesterGroup != "" {
		k += "|" + rgNode(requesterGroup)
	}
	return k
}

func rgNode(group string) string { return "rg:" + group }

func stageNode(key string, stage int) string { return "appr|" + key + "|stage:" + strconv.Itoa(stage) }

// workloadNode names a workload subject. A workload stands for this node
// only: not "*", so no scope open to everyone lets it in, and not
// "user:...", so no admin, approver or request_for_others entry can name it.
func workloadNode(name string) string { return "workload:" + name }

// workloadAccountNode -> workload:<name> in g4: the workload may request in
// the account.
func workloadAccountNode(acct string) string { return "wlacct|" + acctNode(acct) }

// subject is a request's r.sub: the nodes the caller stands for, and the
// workload node when the caller is a workload.
type subject struct {
	nodes    []string
	workload string
}

// bgNode is break-glass rule i, which its people hold.
func bgNode(i int) string { return "bg#" + strconv.Itoa(i) }

func subjectOf(u broker.User) *subject {
	if name, ok := u.Workload(); ok {
		n := workloadNode(name)
		return &subject{nodes: []string{n}, workload: n}
	}
	s := &subject{nodes: make([]string, 0, len(u.Groups)+2)}
	if u.Email != "" {
		s.nodes = append(s.nodes, userNode(u.Email))
	}
	for _, g := range u.Groups {
		if g != "" {
			s.nodes = append(s.nodes, groupNode(g))
		}
	}
	s.nodes = append(s.nodes, everyone)
	return s
}

// snapshot is one compiled registry. It is never changed after compile.
type snapshot struct {
	ce *casbin.Enforcer
	// the role managers of g .. g5 (see model.conf), read without copying
	psGroups, scopeAccounts, grants, holders, ruleIndex *linkGraph
	rules                                               []broker.ApprovalRule
	workloads                                           []broker.Workload
	breakGlass                                          []broker.BreakGlassRule
	// requesterGroups are the groups some rule names (requester_group).
	requesterGroups map[string]bool
	psNames         []string
	nLinks          int
	// version is the stored version this was compiled from (0: unknown).
	version int64
}

// gTypes are the model's role definitions, in the order compile fills them.
var gTypes = [5]string{"g", "g2", "g3", "g4", "g5"}

// compile validates r (broker.CheckRegistry, on a normalized copy) and
// builds its enforcer.
func compile(r broker.RegistryData) (*snapshot, error) {
	norm := r.Clone()
	broker.NormalizeRegistry(&norm)
	if err := broker.CheckRegistry(norm); err != nil {
		return nil, err
	}
	// Count the links first so each g type's rows share one backing array.
	var n [5]int // g .. g5
	for _, p := range r.PermissionSets {
		n[1] += len(p.Scope.Accounts)
		n[2] += len(p.Scope.RequesterGroups)
	}
	for _, g := range r.PermissionSetGroups {
		n[0] += len(g.PermissionSets)
	}
	n[3] = len(r.Admins) + len(r.RequestForOthers)
	for _, w := range r.Workloads {
		n[2] += len(w.PermissionSets)
		n[3] += len(w.Accounts)
	}
	for _, b := range norm.BreakGlass {
		n[3] += len(b.People)
	}
	for _, rule := range r.ApprovalRules {
		n[4]++
		for _, st := range rule.Stages {
			n[3] += len(st.Approvers)
		}
	}
	var links [5][][]string
	var flat [5][]string
	for i := range links {
		links[i] = make([][]string, 0, n[i])
		flat[i] = make([]string, 0, 2*n[i])
	}
	add := func(g int, a, b string) {
		flat[g] = append(flat[g], a, b)
		links[g] = append(links[g], flat[g][len(flat[g])-2:len(flat[g]):len(flat[g])])
	}
	// Principals recur in thousands of links; share their strings.
	interned := map[string]string{}
	principal := func(p string) string {
		if node, ok := interned[p]; ok {
			return node
		}
		node := principalNode(p)
		interned[p] = node
		return node
	}
	s := &snapshot{}
	for _, p := range r.PermissionSets {
		s.psNames = append(s.psNames, p.Name)
		ps, grant := psNode(p.Name), grantNode(p.Name)
		for _, a := range p.Scope.Accounts {
			add(1, acctNode(a), ps)
		}
		for _, g := range p.Scope.RequesterGroups {
			if g == everyone {
				add(2, everyone, grant)
			} else {
				add(2, groupNode(strings.TrimPrefix(g, groupPrefix)), grant)
			}
		}
	}
	for _, g := range r.PermissionSetGroups {
		psg := psgNode(g.Name)
		for _, p := range g.PermissionSets {
			add(0, psNode(p), psg)
		}
	}
	s.workloads = norm.Workloads
	for _, w := range r.Workloads {
		node := workloadNode(w.Name)
		for _, p := range w.PermissionSets {
			add(2, node, grantNode(p))
		}
		for _, a := range w.Accounts {
			add(3, workloadAccountNode(a), node)
		}
	}
	for _, a := range r.Admins {
		add(3, roleAdmin, principal(a))
	}
	for _, a := range r.RequestForOthers {
		add(3, roleForOthers, principal(a))
	}
	s.breakGlass = norm.BreakGlass
	for i, b := range norm.BreakGlass {
		for _, p := range b.People {
			add(3, bgNode(i), principal(p))
		}
	}
	s.rules = make([]broker.ApprovalRule, len(r.ApprovalRules))
	s.requesterGroups = map[string]bool{}
	for i, rule := range r.ApprovalRules {
		s.rules[i] = cloneRule(rule)
		if rule.RequesterGroup != "" {
			s.requesterGroups[rule.RequesterGroup] = true
		}
		key := ruleKey(rule.Account, rule.PermissionSet, rule.RequesterGroup)
		add(4, "rule|"+key, "rule#"+strconv.Itoa(i))
		for j, st := range rule.Stages {
			node := stageNode(key, j)
			for _, a := range st.Approvers {
				add(3, node, principal(a))
			}
		}
	}

	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("casbin model: %w", err)
	}
	ce, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("casbin enforcer: %w", err)
	}
	ce.EnableAutoNotifyWatcher(false)
	s.psGroups, s.scopeAccounts, s.grants, s.holders, s.ruleIndex =
		newLinkGraph(n[0]), newLinkGraph(n[1]), newLinkGraph(n[2]), newLinkGraph(n[3]), newLinkGraph(n[4])
	ce.SetNamedRoleManager("g", s.psGroups)
	ce.SetNamedRoleManager("g2", s.scopeAccounts)
	ce.SetNamedRoleManager("g3", s.grants)
	ce.SetNamedRoleManager("g4", s.holders)
	ce.SetNamedRoleManager("g5", s.ruleIndex)
	ce.AddFunction("mayRequest", s.mayRequestFunc)
	ce.AddFunction("ruleStage", s.ruleStageFunc)
	ce.AddFunction("holds", s.holdsFunc)
	ce.AddFunction("breakGlass", s.breakGlassFunc)
	for i, ls := range links {
		g := gTypes[i]
		if err := m.AddPolicies("g", g, ls); err != nil {
			return nil, fmt.Errorf("casbin links %s: %w", g, err)
		}
		s.nLinks += len(ls)
	}
	if err := ce.BuildRoleLinks(); err != nil {
		return nil, fmt.Errorf("casbin role links: %w", err)
	}
	// The first decision parses the matcher; do it here, before the swap.
	if _, err := ce.Enforce(&subject{nodes: []string{everyone}}, actApprove, "", "", 0); err != nil {
		return nil, fmt.Errorf("casbin warm-up: %w", err)
	}
	s.ce = ce
	return s, nil
}

func has(g *linkGraph, a, b string) bool {
	ok, _ := g.HasLink(a, b)
	return ok
}

// mayRequest(r.sub, r.acct, r.ps): the scope join.
func (s *snapshot) mayRequestFunc(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("mayRequest: want 3 arguments, got %d", len(args))
	}
	sub, ok1 := args[0].(*subject)
	acct, ok2 := args[1].(string)
	ps, ok3 := args[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("mayRequest: bad argument types %T, %T, %T", args...)
	}
	return s.mayRequest(sub, acct, ps), nil
}

func (s *snapshot) mayRequest(sub *subject, acct, ps string) bool {
	var sets []string
	switch name, isGroup := strings.CutPrefix(ps, groupPrefix); {
	case ps == "":
		sets = s.psNames
	case isGroup:
		for _, m := range s.psGroups.users[psgNode(name)] {
			sets = append(sets, strings.TrimPrefix(m, "ps:"))
		}
	default:
		sets = []string{ps}
	}
	for _, p := range sets {
		if s.requestable(sub, acct, p) {
			return true
		}
	}
	return false
}

// requestable: acct:<account or *> -> ps:<set>, and one of the subject's
// nodes -> grant|ps:<set>; for a workload also wlacct|acct:<account> ->
// workload:<name>.
func (s *snapshot) requestable(sub *subject, acct, ps string) bool {
	node := psNode(ps)
	if acct == "" {
		if len(s.scopeAccounts.users[node]) == 0 {
			return false
		}
	} else if !has(s.scopeAccounts, acctNode(acct), node) && !has(s.scopeAccounts, acctNode(everyone), node) {
		return false
	}
	if sub.workload != "" && acct != "" && !has(s.holders, workloadAccountNode(acct), sub.workload) {
		return false // a workload names its accounts too
	}
	grant := grantNode(ps)
	for _, n := range sub.nodes {
		if has(s.grants, n, grant) {
			return true
		}
	}
	return false
}

// ruleStage(r.acct, r.ps, r.stage): the stage node of the winning rule, or
// "" if there is none.
func (s *snapshot) ruleStageFunc(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("ruleStage: want 3 arguments, got %d", len(args))
	}
	acct, ok1 := args[0].(string)
	ps, ok2 := args[1].(string)
	var stage int
	ok3 := true
	switch n := args[2].(type) { // govaluate hands numbers over as float64
	case float64:
		stage = int(n)
	case int:
		stage = n
	default:
		ok3 = false
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("ruleStage: bad argument types %T, %T, %T", args...)
	}
	i, key, ok := s.resolve(acct, ps, nil)
	if !ok || stage < 0 || stage >= len(s.rules[i].Stages) {
		return "", nil
	}
	return stageNode(key, stage), nil
}

// breakGlass(r.acct, r.ps, r.stage): the node of break-glass rule r.stage
// when it covers the set in the account, or "" if it does not.
func (s *snapshot) breakGlassFunc(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("breakGlass: want 3 arguments, got %d", len(args))
	}
	acct, ok1 := args[0].(string)
	ps, ok2 := args[1].(string)
	var i int
	ok3 := true
	switch n := args[2].(type) { // govaluate hands numbers over as float64
	case float64:
		i = int(n)
	case int:
		i = n
	default:
		ok3 = false
	}
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("breakGlass: bad argument types %T, %T, %T", args...)
	}
	if i < 0 || i >= len(s.breakGlass) || acct == "" || ps == "" {
		return "", nil
	}
	var groups []string
	for _, g := range s.psGroups.roles[psNode(ps)] {
		groups = append(groups, strings.TrimPrefix(g, "psg:"))
	}
	if !s.breakGlass[i].Covers(acct, ps, groups) {
		return "", nil
	}
	return bgNode(i), nil
}

// holds(r.sub, node): node -> one of the subject's nodes.
func (s *snapshot) holdsFunc(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("holds: want 2 arguments, got %d", len(args))
	}
	sub, ok1 := args[0].(*subject)
	node, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("holds: bad argument types %T, %T", args...)
	}
	if node == "" {
		return false, nil
	}
	for _, n := range sub.nodes {
		if has(s.holders, node, n) {
			return true, nil
		}
	}
	return false, nil
}

// resolve finds the most specific rule for (acct, ps) and a requester in
// groups by probing rule nodes: exact account, then "*"; within each, the
// set, then its groups, then any; within each of those, a rule naming one
// of groups (the first in byte order), then the rule naming none.
func (s *snapshot) resolve(acct, ps string, groups []string) (index int, key string, ok bool) {
	var refs []string
	switch name, isGroup := strings.CutPrefix(ps, groupPrefix); {
	case ps == "":
	case isGroup:
		refs = append(refs, psgNode(name))
	default:
		refs = append(refs, psNode(ps))
		refs = append(refs, s.psGroups.roles[psNode(ps)]...)
	}
	refs = append(refs, everyone)
	accounts := []string{acct, everyone}
	if acct == "" || acct == everyone {
		accounts = accounts[1:]
	}
	var rgs []string
	for _, g := range groups {
		if g != "" && s.requesterGroups[g] {
			rgs = append(rgs, "|"+rgNode(g))
		}
	}
	slices.Sort(rgs)
	rgs = append(slices.Compact(rgs), "")
	for _, a := range accounts {
		for _, ref := range refs {
			for _, rg := range rgs {
				k := a + "|" + ref + rg
				idx := s.ruleIndex.roles["rule|"+k]
				if len(idx) == 0 {
					continue
				}
				i, err := strconv.Atoi(strings.TrimPrefix(idx[0], "rule#"))
				if err != nil || i < 0 || i >= len(s.rules) {
					continue
				}
				return i, k, true
			}
		}
	}
	return 0, "", false
}
