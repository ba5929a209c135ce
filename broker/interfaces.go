package broker

import (
	"context"
	"time"
)

// TicketStore keeps tickets. Every change is a compare-and-set on the
// ticket's Version, so concurrent writers can never both win.
type TicketStore interface {
	// CreateTicket stores a new ticket with Version 1. ECONFLICT if the id
	// exists; EINVALID when a limit the store enforces refuses it (the
	// requester's pending tickets, redisstore.Options).
	CreateTicket(ctx context.Context, t *Ticket) error
	// Ticket returns the ticket with the given id. ENOTFOUND if there is none.
	Ticket(ctx context.Context, id string) (*Ticket, error)
	// Tickets returns the tickets matching f, newest first (oldest first
	// with f.Asc), ties broken by id, starting past f.After when set.
	Tickets(ctx context.Context, f TicketFilter) ([]*Ticket, error)
	// UpdateTicket replaces the stored ticket if its version is still
	// t.Version, and sets t.Version to the new version. ECONFLICT if another
	// writer got there first; ENOTFOUND if the ticket is gone.
	UpdateTicket(ctx context.Context, t *Ticket) error
	// DeleteTicket removes a ticket and its index entries (used to undo a
	// create whose follow-up failed). Deleting a missing ticket is not an error.
	DeleteTicket(ctx context.Context, id string) error
}

// TicketFilter selects tickets; empty fields match everything. The fields
// that are set are combined with AND.
type TicketFilter struct {
	State       State
	Requester   string
	Beneficiary string
	Limit       int
	// All lifts the store's cap on how many tickets one call returns
	// (Limit is then ignored): ListTickets counts and pages them itself.
	All bool
	// After, when set, starts the read just past this position in the
	// read's order, so that a long index is read a piece at a time.
	After *IndexPos
	// Asc reads oldest first (default newest first).
	Asc bool
}

// IndexPos is a ticket's place in the store's order: its CreatedAt in
// unix microseconds, ties broken by id.
type IndexPos struct {
	Micros int64
	ID     string
}

// PosOf returns t's place in the store's order.
func PosOf(t *Ticket) IndexPos { return IndexPos{Micros: t.CreatedAt.UnixMicro(), ID: t.ID} }

// TaskKind names a scheduled job about one ticket.
type TaskKind string

// Scheduled job kinds.
const (
	TaskActivate TaskKind = "ticket:activate"
	TaskExpire   TaskKind = "ticket:expire"
	TaskRevoke   TaskKind = "ticket:revoke"
)

// Scheduler runs ticket jobs at a given time. Scheduling is idempotent: the
// same kind, ticket and time scheduled twice runs once.
type Scheduler interface {
	// Schedule arranges for kind to run for the ticket at the given time.
	Schedule(ctx context.Context, kind TaskKind, ticketID string, at time.Time) error
	// Unschedule removes a job that has not run yet; a missing job is not an error.
	Unschedule(ctx context.Context, kind TaskKind, ticketID string) error
}

// Account is an AWS account JIT grants access to.
type Account struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	// Environment labels the account for people ("prod", "staging",
	// "dev"): the approver page shows it as a badge beside the name.
	// Optional: lower-case letters, digits and '-', at most 32.
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
}

// PermissionSet is what access a ticket grants and how, with its access scope.
type PermissionSet struct {
	Name string `json:"name" yaml:"name"`
	// ARN is the Identity Center permission set ARN (identity_center path).
	ARN string `json:"arn,omitempty" yaml:"arn,omitempty"`
	// RoleName is the IAM role assumed in each account (role path).
	RoleName         string        `json:"role_name,omitempty" yaml:"role_name,omitempty"`
	MaxDuration      time.Duration `json:"max_duration" yaml:"max_duration"`
	ApprovalRequired bool          `json:"approval_required" yaml:"approval_required"`
	// GrantPath defaults to GrantRole.
	GrantPath GrantPath `json:"grant_path,omitempty" yaml:"grant_path,omitempty"`
	// AllowRoleChaining lets the sessions JIT mints for this set (role
	// path) assume other roles. Off, their session policy denies
	// sts:AssumeRole and its kin. On, JIT makes the ticket tag transitive
	// and cuts the ticket on every role it manages in the account, at
	// terminate and at the ticket's end (docs/revocation.md). Identity
	// Center sessions may never chain.
	AllowRoleChaining bool  `json:"allow_role_chaining,omitempty" yaml:"allow_role_chaining,omitempty"`
	Scope             Scope `json:"scope" yaml:"scope"`
	// A request for this set (filing or resending a ticket) needs a recent
	// strong sign-in when any of these is set:
	// StepUpMaxAge, StepUpACR and StepUpAMR ask for a recent strong
	// sign-in (StepUp, docs/registry.md "Step-up").
	StepUpMaxAge time.Duration `json:"step_up_max_age,omitempty" yaml:"step_up_max_age,omitempty"`
	StepUpACR    []string      `json:"step_up_acr,omitempty" yaml:"step_up_acr,omitempty"`
	StepUpAMR    []string      `json:"step_up_amr,omitempty" yaml:"step_up_amr,omitempty"`
}

// StepUp returns the permission set's step-up requirement for requests.
func (p PermissionSet) StepUp() StepUp {
	return StepUp{MaxAge: p.StepUpMaxAge, ACR: p.StepUpACR, AMR: p.StepUpAMR}
}

// Registry answers which accounts and permission sets are registered.
type Registry interface {
	// Account returns a registered account. ENOTFOUND otherwise.
	Account(ctx context.Context, id string) (Account, error)
	// PermissionSet returns a registered permission set. ENOTFOUND otherwise.
	PermissionSet(ctx context.Context, name string) (PermissionSet, error)
}

// Action is something a user asks to do, as the Authorizer sees it.
type Action string

// Authorizer actions.
const (
	ActRequest          Action = "request"
	ActRequestForOthers Action = "request_for_others"
	ActAdminister       Action = "administer"
)

// Authorizer decides what a user may do in an account with a permission set.
type Authorizer interface {
	// Allowed reports whether u may perform act on the account and
	// permission set ("" for either means any).
	Allowed(ctx context.Context, u User, act Action, accountID, permissionSet string) (bool, error)
}

// ApprovalEngine plans and counts approvals (see Plan, Round, Delegation).
type ApprovalEngine interface {
	// Plan returns the approval plan for t, or for an extension of t when
	// extension is true; a plan without stages means no approval is
	// needed. EINVALID if no rule covers t or a stage cannot be met.
	Plan(ctx context.Context, t *Ticket, extension bool) (Plan, error)
	// Decide returns the decision u would make on t's open round at the
	// given time: By u, and For the delegator when u acts through one of
	// dels. EFORBIDDEN if u may not decide the current stage; ECONFLICT if
	// nothing waits for a decision or u (or the one u acts for) already
	// approved.
	Decide(t *Ticket, u User, dels []Delegation, at time.Time) (Decision, error)
	// Approves reports whether u may decide stage s of t at the given
	// time, as themself or for a delegator through one of dels, whatever
	// was already decided: the one rule of who approves a stage, which
	// Decide applies too.
	Approves(t *Ticket, s Stage, u User, dels []Delegation, at time.Time) bool
	// Approve records u's approval on t's open round (stage, quorum,
	// separation of duties, delegation) and reports whether every stage is
	// now complete. Errors as Decide.
	Approve(t *Ticket, u User, dels []Delegation, comment string, at time.Time) (done bool, err error)
}

// Credentials are temporary AWS credentials.
type Credentials struct {
	AccessKeyID     string    `json:"access_key_id"`
	SecretAccessKey string    `json:"secret_access_key"`
	SessionToken    string    `json:"session_token"`
	Expiration      time.Time `json:"expiration"`
}

// MintRequest asks for a session for one beneficiary of an active ticket.
type MintRequest struct {
	TicketID    string
	AccountID   string
	RoleName    string
	Requester   string
	Beneficiary string
	End         time.Time
	// AllowRoleChaining is the permission set's allow_role_chaining: the
	// session may assume other roles and carries the ticket to them.
	AllowRoleChaining bool
}

// SessionMinter issues AWS sessions for tickets.
type SessionMinter interface {
	// Mint returns credentials that stop working at r.End.
	Mint(ctx context.Context, r MintRequest) (Credentials, error)
}

// RevokeRequest asks to cut every session issued for a ticket.
type RevokeRequest struct {
	TicketID  string
	AccountID string
	RoleName  string
	// User, when set, narrows the cut to that beneficiary's sessions of
	// the ticket (a beneficiary who said they were done); the others'
	// keep working.
	User string
	// Until is when the last session issued for the ticket expires; the
	// deny entry may be removed after it.
	Until time.Time
}

// Revoker cuts sessions that were already handed out.
type Revoker interface {
	// Revoke makes every session of the ticket fail from now on.
	Revoke(ctx context.Context, r RevokeRequest) error
}

// Clock tells the time. Tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ConsoleSigner turns session credentials into an AWS console sign-in URL.
type ConsoleSigner interface {
	// CheckDestination validates a region and destination before any
	// session is issued. EINVALID when they are not acceptable.
	CheckDestination(region, destination string) error
	// SigninURL returns a sign-in URL opening destination (default: the
	// console home of region). EINVALID for a destination outside the console.
	SigninURL(ctx context.Context, c Credentials, region, destination string) (string, error)
}
