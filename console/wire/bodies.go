package wire

import (
	"time"

	"github.com/jitaccess/jit/broker"
)

// Delegate is the body of POST /api/v1/delegations.
type Delegate struct {
	To string `json:"to"`
	// Start is an RFC 3339 time or "now"; empty means now.
	Start string `json:"start,omitempty"`
	End   string `json:"end"`
}

// Input validates the body's times and returns the service's input.
// EINVALID for a bad time.
func (r Delegate) Input() (broker.DelegateInput, error) {
	start, _, err := ParseStart(r.Start) // "now" is the zero start: the service's now
	if err != nil {
		return broker.DelegateInput{}, err
	}
	end, err := ParseTime("end", r.End)
	return broker.DelegateInput{To: r.To, Start: start, End: end}, err
}

// NewDelegation returns d with its times in UTC.
func NewDelegation(d broker.Delegation) broker.Delegation {
	d.Start, d.End, d.CreatedAt = d.Start.UTC(), d.End.UTC(), d.CreatedAt.UTC()
	return d
}

// Delegations is the body of GET /api/v1/delegations.
type Delegations struct {
	Delegations []broker.Delegation `json:"delegations"`
}

// PreApprove is the body of POST /api/v1/preapprovals.
type PreApprove struct {
	For           string `json:"for"`
	AccountID     string `json:"account_id"`
	PermissionSet string `json:"permission_set"`
	// Start is an RFC 3339 time or "now"; empty means now.
	Start string `json:"start,omitempty"`
	// End (RFC 3339) or Duration (a Go duration, "168h"): exactly one;
	// at most 30 days.
	End      string `json:"end,omitempty"`
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason"`
}

// Input validates the body's times and returns the service's input.
// EINVALID for a bad time.
func (r PreApprove) Input() (broker.PreApproveInput, error) {
	start, _, err := ParseStart(r.Start)
	if err != nil {
		return broker.PreApproveInput{}, err
	}
	end, d, err := EndOrDuration(r.End, r.Duration, true)
	return broker.PreApproveInput{For: r.For, AccountID: r.AccountID, PermissionSet: r.PermissionSet,
		Start: start, End: end, Duration: d, Reason: r.Reason}, err
}

// NewPreApproval returns p with its times in UTC.
func NewPreApproval(p broker.PreApproval) broker.PreApproval {
	p.Start, p.End, p.CreatedAt = p.Start.UTC(), p.End.UTC(), p.CreatedAt.UTC()
	if p.RevokedAt != nil {
		at := p.RevokedAt.UTC()
		p.RevokedAt = &at
	}
	return p
}

// PreApprovals is the body of GET /api/v1/preapprovals: one page.
type PreApprovals struct {
	PreApprovals []broker.PreApproval `json:"preapprovals"`
	// Total counts every pre-approval the query matches, on every page.
	Total int `json:"total"`
	// NextCursor, as cursor, gives the next page; empty on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Me is the body of GET /api/v1/me: who the caller is and, when the
// server can answer it, what they may request and approve.
type Me struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	*broker.Access
}

// CredentialProcess is the body of POST /api/v1/tickets/{id}/credentials:
// the AWS CLI credential_process document. Its field names are fixed by
// the AWS CLI, so they are not snake_case.
type CredentialProcess struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// NewCredentialProcess returns the document of c.
func NewCredentialProcess(c broker.Credentials) CredentialProcess {
	return CredentialProcess{
		Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expiration: c.Expiration.UTC().Format(time.RFC3339),
	}
}

// ConsoleLink is the body of GET /api/v1/tickets/{id}/console when the
// request accepts only JSON (otherwise the answer is a 302 to URL).
type ConsoleLink struct {
	URL string `json:"url"`
}

// NewActivityEvent returns e as the API shows it: its time in UTC, to the
// second (as CloudTrail records it).
func NewActivityEvent(e broker.ActivityEvent) broker.ActivityEvent {
	e.EventTime = e.EventTime.UTC().Truncate(time.Second)
	return e
}

// Activity is the body of GET /api/v1/tickets/{id}/activity, newest first.
type Activity struct {
	Events []broker.ActivityEvent `json:"events"`
}

// Timeline is the body of GET /api/v1/tickets/{id}/timeline: the ticket's
// audit events, oldest first.
type Timeline struct {
	Events []broker.AuditEvent `json:"events"`
}

// Registry is the body of PUT /api/v1/registry: the document GET returns.
// A non-zero version makes the apply fail with 409 unless the registry is
// still at that version.
type Registry struct {
	Version int64 `json:"version,omitempty"`
	broker.RegistryData
}

// Accounts is the body of GET /api/v1/accounts.
type Accounts struct {
	Accounts []broker.Account `json:"accounts"`
}

// PermissionSets is the body of GET /api/v1/permission-sets.
type PermissionSets struct {
	PermissionSets []broker.PermissionSet `json:"permission_sets"`
}

// PermissionSetGroups is the body of GET /api/v1/permission-set-groups.
type PermissionSetGroups struct {
	PermissionSetGroups []broker.PermissionSetGroup `json:"permission_set_groups"`
}

// ApprovalRules is the body of GET /api/v1/approval-rules.
type ApprovalRules struct {
	ApprovalRules []broker.ApprovalRule `json:"approval_rules"`
}

// Admins is the body of GET and PUT /api/v1/admins.
type Admins struct {
	Admins []string `json:"admins"`
}

// ImportAccounts is the body of POST /api/v1/accounts/import.
type ImportAccounts struct {
	AccountIDs []string `json:"account_ids,omitempty"`
	DryRun     bool     `json:"dry_run,omitempty"`
}

// ImportPermissionSets is the body of POST /api/v1/permission-sets/import.
type ImportPermissionSets struct {
	Names []string `json:"names,omitempty"`
	// MaxDuration is a duration ("8h") for new permission sets.
	MaxDuration string           `json:"max_duration,omitempty"`
	GrantPath   broker.GrantPath `json:"grant_path,omitempty"`
	NoApproval  bool             `json:"no_approval,omitempty"`
	Scope       broker.Scope     `json:"scope,omitzero"`
	DryRun      bool             `json:"dry_run,omitempty"`
}

// Input validates the body and returns the service's input. EINVALID for
// a bad max_duration.
func (r ImportPermissionSets) Input() (broker.ImportPermissionSetsInput, error) {
	in := broker.ImportPermissionSetsInput{Names: r.Names, GrantPath: r.GrantPath, NoApproval: r.NoApproval, Scope: r.Scope, DryRun: r.DryRun}
	var err error
	in.MaxDuration, err = ParseDuration("max_duration", "8h", r.MaxDuration)
	return in, err
}

// Status is the body of GET /healthz and GET /readyz.
type Status struct {
	Status string `json:"status"`
}

// WebConfig is the body of GET /config.json: how the web app and `jit
// login` sign in.
type WebConfig struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// CLIClientID is for `jit login`; omitted when it is ClientID.
	CLIClientID string `json:"cli_client_id,omitempty"`
	Scopes      string `json:"scopes"`
	// TerminateReason is "required" or "optional".
	TerminateReason string `json:"terminate_reason"`
}

// Error is the body of every error answer: a code (broker's error codes,
// and the edge's method_not_allowed, unsupported_media_type,
// headers_too_large and too_many_requests) and a message for people.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// TicketID names the other ticket of a duplicate_ticket error.
	TicketID string `json:"ticket_id,omitempty"`
	// MaxAge is, for step_up_required, the most seconds since the
	// caller's sign-in at the identity provider the decision accepts: sign
	// in again (OIDC max_age) and retry.
	MaxAge int64 `json:"max_age,omitempty"`
}
