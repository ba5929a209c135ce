package broker

import "time"

// GrantPath says how a permission set's access is granted.
type GrantPath string

// Grant paths.
const (
	GrantIdentityCenter GrantPath = "identity_center"
	GrantRole           GrantPath = "role"
	GrantBoth           GrantPath = "both"
)

// Scope says who may request a permission set, where, and for how long.
type Scope struct {
	// Accounts the set may be requested in: account ids, or "*" for all.
	Accounts []string `json:"accounts" yaml:"accounts"`
	// RequesterGroups may request it: group names, or "*" for everyone.
	RequesterGroups []string `json:"requester_groups" yaml:"requester_groups"`
}

// PermissionSetGroup is a named set of permission sets that scopes and
// rules can name ("group:<name>") instead of single sets.
type PermissionSetGroup struct {
	Name           string   `json:"name" yaml:"name"`
	PermissionSets []string `json:"permission_sets" yaml:"permission_sets"`
}

// LatePolicy says what happens to a window when approval comes after the
// requested start.
type LatePolicy string

// Late approval policies.
const (
	LateKeepEnd    LatePolicy = "keep_end"    // the window shrinks (default)
	LateKeepLength LatePolicy = "keep_length" // the window moves
)

// RuleStage is one ordered stage of an approval rule: approvers are emails
// or "group:<name>", and Required approvals complete it.
type RuleStage struct {
	Approvers []string `json:"approvers" yaml:"approvers"`
	Required  int      `json:"required" yaml:"required"`
}

// ApprovalRule says who approves tickets for an account ("*" for all) and
// optionally a permission set or "group:<permission set group>" ("" for
// any), and optionally a requester group ("" for anyone). The most
// specific rule wins: the account first, then the permission set, then the
// requester group (see docs/registry.md, "Which rule decides").
type ApprovalRule struct {
	Account       string `json:"account" yaml:"account"`
	PermissionSet string `json:"permission_set,omitempty" yaml:"permission_set,omitempty"`
	// RequesterGroup, when set, limits the rule to tickets whose requester
	// was in this identity provider group when filing (a group name,
	// without "group:"). Among rules for the same account and permission
	// set, one naming a group of the requester beats one naming none; of
	// several such groups, the first in byte order wins.
	RequesterGroup string      `json:"requester_group,omitempty" yaml:"requester_group,omitempty"`
	Stages         []RuleStage `json:"stages" yaml:"stages"`
	// LateApproval defaults to LateKeepEnd.
	LateApproval LatePolicy `json:"late_approval,omitempty" yaml:"late_approval,omitempty"`
	// Deadline, when set, expires a pending ticket this long after it was
	// filed (it always expires at its end).
	Deadline time.Duration `json:"deadline,omitempty" yaml:"deadline,omitempty"`
	// RemindEvery, when set, reminds approvers who have not acted.
	RemindEvery time.Duration `json:"remind_every,omitempty" yaml:"remind_every,omitempty"`
	// EscalateBefore and EscalateTo escalate a ticket nobody decided: this
	// long before its approval deadline, the people and groups of
	// EscalateTo may also approve its open stage (each approval counting
	// toward the stage's quorum, as any other) and are told so. Both or
	// neither; ticket rounds only, not extensions.
	EscalateBefore time.Duration `json:"escalate_before,omitempty" yaml:"escalate_before,omitempty"`
	EscalateTo     []string      `json:"escalate_to,omitempty" yaml:"escalate_to,omitempty"`
	// An approval under this rule (of a ticket or an extension) needs a
	// recent strong sign-in when any of these is set:
	// StepUpMaxAge, StepUpACR and StepUpAMR ask for a recent strong
	// sign-in (StepUp, docs/registry.md "Step-up").
	StepUpMaxAge time.Duration `json:"step_up_max_age,omitempty" yaml:"step_up_max_age,omitempty"`
	StepUpACR    []string      `json:"step_up_acr,omitempty" yaml:"step_up_acr,omitempty"`
	StepUpAMR    []string      `json:"step_up_amr,omitempty" yaml:"step_up_amr,omitempty"`
	// ExtensionStages, when set, approve extensions of active tickets
	// instead of Stages.
	ExtensionStages []RuleStage `json:"extension_stages,omitempty" yaml:"extension_stages,omitempty"`
	// AutoApproveOnCall, when set, approves at once a ticket whose
	// requester and beneficiaries are all on call on the schedule when it
	// is filed, and which starts then (see docs/auto-approval.md).
	AutoApproveOnCall *OnCallRule `json:"auto_approve_on_call,omitempty" yaml:"auto_approve_on_call,omitempty"`
}

// OnCallRule names an on-call schedule: Provider is OnCallPagerDuty or
// OnCallOpsgenie, Schedule the provider's schedule id.
type OnCallRule struct {
	Provider string `json:"provider" yaml:"provider"`
	Schedule string `json:"schedule" yaml:"schedule"`
}

// On-call schedule providers.
const (
	OnCallPagerDuty = "pagerduty"
	OnCallOpsgenie  = "opsgenie"
)

// RegistryData is the whole registry as data: what `jit admin apply`
// reads and `jit admin export` writes, and what the authorizer compiles.
type RegistryData struct {
	Accounts            []Account            `json:"accounts" yaml:"accounts"`
	PermissionSets      []PermissionSet      `json:"permission_sets" yaml:"permission_sets"`
	PermissionSetGroups []PermissionSetGroup `json:"permission_set_groups,omitempty" yaml:"permission_set_groups,omitempty"`
	ApprovalRules       []ApprovalRule       `json:"approval_rules" yaml:"approval_rules"`
	// Admins administer everything: emails or "group:<name>".
	Admins []string `json:"admins" yaml:"admins"`
	// RequestForOthers may file tickets for other people: emails or "group:<name>".
	RequestForOthers []string `json:"request_for_others,omitempty" yaml:"request_for_others,omitempty"`
	// Workloads may file tickets for themselves with their platform's
	// OIDC token (broker/workload.go, docs/automation.md).
	Workloads []Workload `json:"workloads,omitempty" yaml:"workloads,omitempty"`
	// BreakGlass lets the people they name grant themselves access at
	// once, in an emergency (BreakGlassRule).
	BreakGlass []BreakGlassRule `json:"break_glass,omitempty" yaml:"break_glass,omitempty"`
	// Limits are the guard rails on tickets.
	Limits Limits `json:"limits,omitzero" yaml:"limits,omitempty"`
}

// Overlap policies (Limits.OverlappingTickets).
const (
	OverlapRefuse = "refuse" // the default
	OverlapAllow  = "allow"
)

// Limits are guard rails on the tickets people hold. The zero value is the
// default: overlapping tickets refused, no cap on open tickets.
type Limits struct {
	// MaxOpenTicketsPerBeneficiary caps how many open (pending, approved
	// or active) tickets one person may be a beneficiary of; 0: no cap.
	MaxOpenTicketsPerBeneficiary int `json:"max_open_tickets_per_beneficiary,omitempty" yaml:"max_open_tickets_per_beneficiary,omitempty"`
	// OverlappingTickets is OverlapRefuse ("" too): a ticket is refused
	// when one of its beneficiaries already holds or waits for a ticket
	// for the same account and permission set whose window overlaps; or
	// OverlapAllow.
	OverlappingTickets string `json:"overlapping_tickets,omitempty" yaml:"overlapping_tickets,omitempty"`
}
