package broker

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	// permissionSetNamePattern is Identity Center's rule for permission set names.
	permissionSetNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,32}$`) })
	// roleNamePattern is IAM's rule for role names.
	roleNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{1,64}$`) })
	// permissionSetARNPattern is Identity Center's rule for permission set ARNs.
	permissionSetARNPattern = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)
	})
	// groupNamePattern bounds permission set group and user group names.
	groupNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[^\s*:,]{1,128}$`) })
	// environmentPattern bounds an account's environment label.
	environmentPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`) })
)

// minMaxDuration is the shortest max_duration accepted. It catches a
// number written without its unit, which would otherwise mean nanoseconds.
const minMaxDuration = time.Minute

// GroupPrefix marks a group where a list takes emails or groups
// ("group:oncall"), and a permission set group where a rule takes a
// permission set ("group:readonly").
const GroupPrefix = "group:"

// NormalizeRegistry fills defaults and canonical forms in place, so that
// equal registries compare equal: grant_path defaults to role, a stage's
// required count to 1, emails are trimmed and ASCII-lowered (NormalizePrincipal).
func NormalizeRegistry(r *RegistryData) {
	for i := range r.Accounts {
		r.Accounts[i].ID = strings.TrimSpace(r.Accounts[i].ID)
		r.Accounts[i].Name = strings.TrimSpace(r.Accounts[i].Name)
		r.Accounts[i].Environment = strings.ToLower(strings.TrimSpace(r.Accounts[i].Environment))
	}
	for i := range r.PermissionSets {
		p := &r.PermissionSets[i]
		p.Name = strings.TrimSpace(p.Name)
		if p.GrantPath == "" {
			p.GrantPath = GrantRole
		}
	}
	for i := range r.ApprovalRules {
		rule := &r.ApprovalRules[i]
		rule.Account = strings.TrimSpace(rule.Account)
		if rule.Account == "" {
			rule.Account = "*"
		}
		rule.RequesterGroup = strings.TrimSpace(rule.RequesterGroup)
		for _, stages := range [][]RuleStage{rule.Stages, rule.ExtensionStages} {
			for j := range stages {
				st := &stages[j]
				if st.Required == 0 {
					st.Required = 1
				}
				normalizePrincipals(st.Approvers)
			}
		}
		normalizePrincipals(rule.EscalateTo)
	}
	normalizePrincipals(r.Admins)
	normalizePrincipals(r.RequestForOthers)
	normalizeWorkloads(r.Workloads)
	normalizeBreakGlass(r)
	r.Limits.OverlappingTickets = strings.ToLower(strings.TrimSpace(r.Limits.OverlappingTickets))
	if r.Limits.OverlappingTickets == OverlapRefuse {
		r.Limits.OverlappingTickets = "" // the default, written once
	}
	canonicalEmpties(r)
}

// canonicalEmpties makes every empty list nil, so that a registry read back
// from JSON or YAML (where an empty list may come back as [] or as nothing)
// compares equal to the one written.
func canonicalEmpties(r *RegistryData) {
	r.Accounts = nilIfEmpty(r.Accounts)
	r.PermissionSets = nilIfEmpty(r.PermissionSets)
	r.PermissionSetGroups = nilIfEmpty(r.PermissionSetGroups)
	r.ApprovalRules = nilIfEmpty(r.ApprovalRules)
	r.Admins = nilIfEmpty(r.Admins)
	r.RequestForOthers = nilIfEmpty(r.RequestForOthers)
	r.Workloads = nilIfEmpty(r.Workloads)
	for i := range r.PermissionSets {
		sc := &r.PermissionSets[i].Scope
		sc.Accounts, sc.RequesterGroups = nilIfEmpty(sc.Accounts), nilIfEmpty(sc.RequesterGroups)
		p := &r.PermissionSets[i]
		p.StepUpACR, p.StepUpAMR = nilIfEmpty(p.StepUpACR), nilIfEmpty(p.StepUpAMR)
	}
	for i := range r.PermissionSetGroups {
		r.PermissionSetGroups[i].PermissionSets = nilIfEmpty(r.PermissionSetGroups[i].PermissionSets)
	}
	for i := range r.ApprovalRules {
		rule := &r.ApprovalRules[i]
		rule.Stages, rule.ExtensionStages = nilIfEmpty(rule.Stages), nilIfEmpty(rule.ExtensionStages)
		rule.EscalateTo = nilIfEmpty(rule.EscalateTo)
		rule.StepUpACR, rule.StepUpAMR = nilIfEmpty(rule.StepUpACR), nilIfEmpty(rule.StepUpAMR)
		for _, stages := range [][]RuleStage{rule.Stages, rule.ExtensionStages} {
			for j := range stages {
				stages[j].Approvers = nilIfEmpty(stages[j].Approvers)
			}
		}
	}
}

func nilIfEmpty[T any](xs []T) []T {
	if len(xs) == 0 {
		return nil
	}
	return xs
}

// normalizePrincipals applies NormalizePrincipal: emails lowered (ASCII
// only) and trimmed; groups exactly as written.
func normalizePrincipals(xs []string) {
	for i, x := range xs {
		xs[i] = NormalizePrincipal(x)
	}
}

// CheckRegistry is the one registry validator: it reports the first
// problem in r as an EINVALID error whose message starts with the path of
// the bad field ("approval_rules[1].stages[0].required: ..."). The broker
// runs it on every change, the authorizer before compiling a registry,
// and the CLI before sending one. r should be normalized first
// (NormalizeRegistry).
func CheckRegistry(r RegistryData) error {
	bad := func(path, format string, args ...any) error {
		return Errorf(EINVALID, "%s: %s", path, fmt.Sprintf(format, args...))
	}
	accounts := map[string]bool{}
	accountNames := map[string]string{}
	for i, a := range r.Accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		switch {
		case !accountIDPattern().MatchString(a.ID):
			return bad(path+".id", "%q must be 12 digits", a.ID)
		case accounts[a.ID]:
			return bad(path+".id", "account %s is listed twice", a.ID)
		case a.Name == "":
			return bad(path+".name", "is required")
		case textError(path+".name", a.Name) != nil:
			return textError(path+".name", a.Name)
		case accountNames[a.Name] != "":
			return bad(path+".name", "%q is also the name of account %s; names must be unique", a.Name, accountNames[a.Name])
		case a.Environment != "" && !environmentPattern().MatchString(a.Environment):
			return bad(path+".environment", "%q must be 1 to 32 lower-case letters, digits or '-' (such as prod, staging, dev)", a.Environment)
		}
		accounts[a.ID], accountNames[a.Name] = true, a.ID
	}
	sets := map[string]bool{}
	for i, p := range r.PermissionSets {
		path := fmt.Sprintf("permission_sets[%d]", i)
		if err := checkPermissionSet(path, p, accounts); err != nil {
			return err
		}
		if sets[p.Name] {
			return bad(path+".name", "permission set %s is listed twice", p.Name)
		}
		sets[p.Name] = true
	}
	groups := map[string]bool{}
	for i, g := range r.PermissionSetGroups {
		path := fmt.Sprintf("permission_set_groups[%d]", i)
		switch {
		case !validGroupName(g.Name):
			return bad(path+".name", "%q must be 1 to 128 characters without spaces, '*', ':' or ','", g.Name)
		case groups[g.Name]:
			return bad(path+".name", "group %s is listed twice", g.Name)
		case len(g.PermissionSets) == 0:
			return bad(path+".permission_sets", "at least one permission set is required")
		}
		for j, ps := range g.PermissionSets {
			if !sets[ps] {
				return bad(fmt.Sprintf("%s.permission_sets[%d]", path, j), "permission set %q is not registered", ps)
			}
			if slices.Index(g.PermissionSets, ps) != j {
				return bad(fmt.Sprintf("%s.permission_sets[%d]", path, j), "permission set %s is listed twice", ps)
			}
		}
		groups[g.Name] = true
	}
	type ruleKey struct{ account, ps, group string }
	rules := map[ruleKey]int{}
	ties := newGroupTies(r)
	for i, rule := range r.ApprovalRules {
		path := fmt.Sprintf("approval_rules[%d]", i)
		if rule.Account != "*" && !accounts[rule.Account] {
			return bad(path+".account", "account %q is not registered (use \"*\" for every account)", rule.Account)
		}
		if ps := rule.PermissionSet; ps != "" {
			if g, ok := strings.CutPrefix(ps, GroupPrefix); ok {
				if !groups[g] {
					return bad(path+".permission_set", "permission set group %q is not defined", g)
				}
			} else if !sets[ps] {
				return bad(path+".permission_set", "permission set %q is not registered", ps)
			}
		}
		if g := rule.RequesterGroup; g != "" && !validGroupName(g) {
			return bad(path+".requester_group", "%q must be one group name of 1 to 128 characters without spaces, '*', ':' or ',' (leave it out for anyone)", g)
		}
		k := ruleKey{rule.Account, rule.PermissionSet, rule.RequesterGroup}
		if j, dup := rules[k]; dup {
			if rule.RequesterGroup != "" {
				return bad(path, "approval_rules[%d] already covers account %q, permission set %q and requester group %q", j, rule.Account, rule.PermissionSet, rule.RequesterGroup)
			}
			return bad(path, "approval_rules[%d] already covers account %q and permission set %q", j, rule.Account, rule.PermissionSet)
		}
		rules[k] = i
		if len(rule.Stages) == 0 {
			return bad(path+".stages", "at least one stage is required")
		}
		if err := checkStages(path+".stages", rule.Stages); err != nil {
			return err
		}
		if err := checkStages(path+".extension_stages", rule.ExtensionStages); err != nil {
			return err
		}
		if err := ties.check(r.ApprovalRules, i); err != nil {
			return err
		}
		switch rule.LateApproval {
		case "", LateKeepEnd, LateKeepLength:
		default:
			return bad(path+".late_approval", "%q must be %s or %s", rule.LateApproval, LateKeepEnd, LateKeepLength)
		}
		if rule.Deadline < 0 {
			return bad(path+".deadline", "must not be negative")
		}
		if rule.RemindEvery < 0 {
			return bad(path+".remind_every", "must not be negative")
		}
		switch {
		case rule.EscalateBefore < 0:
			return bad(path+".escalate_before", "must not be negative")
		case rule.EscalateBefore > 0 && len(rule.EscalateTo) == 0:
			return bad(path+".escalate_to", "is required with escalate_before: whom to escalate to")
		case rule.EscalateBefore == 0 && len(rule.EscalateTo) > 0:
			return bad(path+".escalate_before", "is required with escalate_to: how long before the approval deadline to escalate")
		}
		if err := checkPrincipals(path+".escalate_to", rule.EscalateTo); err != nil {
			return err
		}
		if err := checkOnCall(bad, path+".auto_approve_on_call", rule.AutoApproveOnCall); err != nil {
			return err
		}
		if err := checkStepUp(path, rule.StepUpMaxAge, rule.StepUpACR, rule.StepUpAMR); err != nil {
			return err
		}
	}
	if err := checkBreakGlass(r, accounts, sets, groups); err != nil {
		return err
	}
	switch r.Limits.OverlappingTickets {
	case "", OverlapRefuse, OverlapAllow:
	default:
		return bad("limits.overlapping_tickets", "%q must be %s (the default) or %s", r.Limits.OverlappingTickets, OverlapRefuse, OverlapAllow)
	}
	if r.Limits.MaxOpenTicketsPerBeneficiary < 0 {
		return bad("limits.max_open_tickets_per_beneficiary", "must not be negative (0 or absent: no cap)")
	}
	if len(r.Admins) == 0 {
		return bad("admins", "at least one admin is required, or nobody could change the registry again")
	}
	if err := checkPrincipals("admins", r.Admins); err != nil {
		return err
	}
	if err := checkPrincipals("request_for_others", r.RequestForOthers); err != nil {
		return err
	}
	return checkWorkloads(r)
}

// checkStages checks a rule's ordered stages: each names approvers and
// needs between 1 and as many approvals as it names entries (the registry
// does not know a group's members, so a group counts once), and no stage
// can be left waiting for approvers who used their one approval on an
// earlier stage (CheckStages).
func checkStages(path string, stages []RuleStage) error {
	for j, st := range stages {
		spath := fmt.Sprintf("%s[%d]", path, j)
		if len(st.Approvers) == 0 {
			return Errorf(EINVALID, "%s.approvers: at least one approver is required", spath)
		}
		if err := checkPrincipals(spath+".approvers", st.Approvers); err != nil {
			return err
		}
		switch {
		case st.Required < 1:
			return Errorf(EINVALID, "%s.required: %d must be at least 1", spath, st.Required)
		case st.Required > len(st.Approvers):
			return Errorf(EINVALID, "%s.required: needs %d approvals but the stage names only %d approvers (a group counts once)", spath, st.Required, len(st.Approvers))
		}
	}
	if err := CheckStages(ruleStages(stages)); err != nil {
		return Errorf(EINVALID, "%s: %s", path, ErrorMessage(err))
	}
	return nil
}

// groupTies finds approval rules that tie through permission set groups:
// two rules for the same account naming two groups that share a
// permission set are equally specific for it, and neither could win.
type groupTies struct {
	members map[string][]string // permission set group -> its sets
	covered map[[3]string]int   // {account, set, requester group} -> the rule covering it through a group
}

func newGroupTies(r RegistryData) *groupTies {
	g := &groupTies{members: map[string][]string{}, covered: map[[3]string]int{}}
	for _, psg := range r.PermissionSetGroups {
		g.members[psg.Name] = psg.PermissionSets
	}
	return g
}

// check refuses rule i of rules when an earlier rule ties with it.
func (g *groupTies) check(rules []ApprovalRule, i int) error {
	rule := rules[i]
	name, ok := strings.CutPrefix(rule.PermissionSet, GroupPrefix)
	if !ok {
		return nil
	}
	for _, ps := range g.members[name] {
		k := [3]string{rule.Account, ps, rule.RequesterGroup}
		if j, tie := g.covered[k]; tie {
			return Errorf(EINVALID, "approval_rules[%d]: ties with approval_rules[%d]: both cover permission set %q in account %s through groups %q and %q",
				i, j, ps, rule.Account, rules[j].PermissionSet, rule.PermissionSet)
		}
		g.covered[k] = i
	}
	return nil
}

// checkStepUp checks a rule's or permission set's step_up_* fields.
func checkStepUp(path string, maxAge time.Duration, acr, amr []string) error {
	if maxAge < 0 {
		return Errorf(EINVALID, "%s.step_up_max_age: must not be negative", path)
	}
	if maxAge > 0 && maxAge < time.Minute {
		return Errorf(EINVALID, "%s.step_up_max_age: %s is less than a minute; write a duration such as 15m", path, maxAge)
	}
	for field, vs := range map[string][]string{"step_up_acr": acr, "step_up_amr": amr} {
		for i, v := range vs {
			if v == "" || len(v) > 256 || strings.ContainsAny(v, " \t\r\n") || textError("", v) != nil {
				return Errorf(EINVALID, "%s.%s[%d]: %q must be one value of the identity provider's %s claim, without spaces", path, field, i, v, strings.TrimPrefix(field, "step_up_"))
			}
		}
	}
	return nil
}

func checkPermissionSet(path string, p PermissionSet, accounts map[string]bool) error {
	bad := func(field, format string, args ...any) error {
		return Errorf(EINVALID, "%s.%s: %s", path, field, fmt.Sprintf(format, args...))
	}
	if !permissionSetNamePattern().MatchString(p.Name) {
		return bad("name", "%q must be 1 to 32 letters, digits or +=,.@_-", p.Name)
	}
	if err := checkStepUp(path, p.StepUpMaxAge, p.StepUpACR, p.StepUpAMR); err != nil {
		return err
	}
	switch {
	case p.MaxDuration <= 0:
		return bad("max_duration", "must be positive (a duration such as 8h)")
	case p.MaxDuration < minMaxDuration:
		return bad("max_duration", "%s is less than a minute; write a duration such as 8h", p.MaxDuration)
	}
	switch p.GrantPath {
	case GrantRole, GrantIdentityCenter, GrantBoth:
	default:
		return bad("grant_path", "%q must be %s, %s or %s", p.GrantPath, GrantRole, GrantIdentityCenter, GrantBoth)
	}
	if p.GrantPath == GrantRole || p.GrantPath == GrantBoth {
		if p.RoleName == "" {
			return bad("role_name", "is required for grant_path %s", p.GrantPath)
		} else if !roleNamePattern().MatchString(p.RoleName) {
			return bad("role_name", "%q is not a valid IAM role name", p.RoleName)
		}
	}
	if p.GrantPath == GrantIdentityCenter || p.GrantPath == GrantBoth {
		if p.ARN == "" {
			return bad("arn", "is required for grant_path %s", p.GrantPath)
		}
	}
	if p.AllowRoleChaining && p.GrantPath == GrantIdentityCenter {
		return bad("allow_role_chaining", "applies only to sessions JIT mints (grant_path %s or %s); Identity Center portal sessions carry no ticket tag that a chained session would keep, so JIT always denies them role chaining", GrantRole, GrantBoth)
	}
	if p.ARN != "" && !permissionSetARNPattern().MatchString(p.ARN) {
		return bad("arn", "%q is not an Identity Center permission set ARN", p.ARN)
	}
	for i, a := range p.Scope.Accounts {
		if a != "*" && !accounts[a] {
			return bad(fmt.Sprintf("scope.accounts[%d]", i), "account %q is not registered (use \"*\" for every account)", a)
		}
	}
	for i, g := range p.Scope.RequesterGroups {
		if g != "*" && !validGroupName(g) {
			return bad(fmt.Sprintf("scope.requester_groups[%d]", i), "%q is not a group name (a plain name without \"group:\", or \"*\" for everyone)", g)
		}
	}
	return nil
}

// checkPrincipals checks a list of emails and "group:<name>" entries.
func checkPrincipals(path string, xs []string) error {
	for i, x := range xs {
		if err := textError(fmt.Sprintf("%s[%d]", path, i), x); err != nil {
			return err
		}
		if IsWorkload(x) {
			return Errorf(EINVALID, "%s[%d]: %q names a workload; workloads cannot approve, administer or request for others", path, i, x)
		}
		if g, ok := strings.CutPrefix(x, GroupPrefix); ok {
			if !validGroupName(g) {
				return Errorf(EINVALID, "%s[%d]: %q is not a valid group", path, i, x)
			}
		} else if a, err := mail.ParseAddress(x); err != nil || a.Address != x {
			return Errorf(EINVALID, "%s[%d]: %q is neither an email address nor group:<name>", path, i, x)
		}
		if slices.Index(xs, x) != i {
			return Errorf(EINVALID, "%s[%d]: %s is listed twice", path, i, x)
		}
	}
	return nil
}

// validGroupName reports whether g may name a group: groupNamePattern,
// and none of the characters CleanText refuses.
func validGroupName(g string) bool {
	return groupNamePattern().MatchString(g) && textError("name", g) == nil
}

// textError is CleanText's verdict on a single-line registry name.
func textError(field, s string) error {
	_, err := CleanText(TextRule{Field: field, Max: 256, Identifier: true}, s)
	return err
}

// onCallSchedulePattern is what PagerDuty and Opsgenie schedule ids look
// like (PagerDuty "PABC123", Opsgenie a UUID); anything else could not be
// put in a URL as is.
var onCallSchedulePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`) })

// checkOnCall checks a rule's on-call auto-approval.
func checkOnCall(bad func(path, format string, args ...any) error, path string, oc *OnCallRule) error {
	if oc == nil {
		return nil
	}
	switch oc.Provider {
	case OnCallPagerDuty, OnCallOpsgenie:
	case "":
		return bad(path+".provider", "is required: %s or %s", OnCallPagerDuty, OnCallOpsgenie)
	default:
		return bad(path+".provider", "%q must be %s or %s", oc.Provider, OnCallPagerDuty, OnCallOpsgenie)
	}
	if !onCallSchedulePattern().MatchString(oc.Schedule) {
		return bad(path+".schedule", "%q must be the provider's schedule id: letters, digits, - and _, at most 128", oc.Schedule)
	}
	return nil
}
