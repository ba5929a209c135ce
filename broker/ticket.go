package broker

import (
	"encoding/json"
	"slices"
	"time"
)

// State is where a ticket is in its lifecycle.
type State string

// Ticket states. pending -> approved -> active -> expired is the happy path;
// pending -> rejected, pending|approved -> cancelled and
// approved|active -> terminated end it early; a rejected ticket can be
// edited and resent as a new revision (pending again).
const (
	StatePending    State = "pending"
	StateApproved   State = "approved"
	StateActive     State = "active"
	StateExpired    State = "expired"
	StateRejected   State = "rejected"
	StateCancelled  State = "cancelled"
	StateTerminated State = "terminated"
)

// States lists every state, in lifecycle order.
var States = []State{StatePending, StateApproved, StateActive, StateExpired, StateRejected, StateCancelled, StateTerminated}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Final reports whether no further transition can leave s. A rejected
// ticket is final for the lifecycle; only its requester's edit (a new
// revision) brings it back to pending.
func (s State) Final() bool {
	return s == StateExpired || s == StateRejected || s == StateCancelled || s == StateTerminated
}

// Ticket is a request for temporary access to one account with one
// permission set, for one or more beneficiaries.
type Ticket struct {
	ID        string `json:"id"`
	Revision  int    `json:"revision"`
	Version   int64  `json:"version"`
	State     State  `json:"state"`
	Requester string `json:"requester"`
	// RequesterGroups are the groups the requester's sign-in carried when
	// they filed (or last edited) the ticket: what Activate and every
	// session re-check under the registry in force.
	RequesterGroups []string  `json:"requester_groups,omitempty"`
	Beneficiaries   []string  `json:"beneficiaries"`
	AccountID       string    `json:"account_id"`
	PermissionSet   string    `json:"permission_set"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Reason          string    `json:"reason"`
	// Group links the tickets of one request for several accounts: the
	// group's id, and GroupTickets the ids of all its tickets (this one
	// included) in the order of the accounts asked for. Each member is an
	// ordinary ticket, approved, granted and cut under its own account's
	// rule (group.go).
	Group        string   `json:"group,omitempty"`
	GroupTickets []string `json:"group_tickets,omitempty"`

	// Stages is the approval plan chosen when the ticket (revision) was
	// filed; Stage is the index of the stage waiting for decisions while
	// pending.
	Stages    []Stage    `json:"stages,omitempty"`
	Stage     int        `json:"stage"`
	Approvals []Decision `json:"approvals"`
	// PendingApprovers are those who may decide the current stage now
	// (emails and "group:<name>"); the store indexes them while pending.
	PendingApprovers []string `json:"pending_approvers,omitempty"`
	// LateApproval, ApprovalDeadline and RemindEvery come from the rule that
	// planned the ticket. PlannedAt is when the current plan started, the
	// anchor of the reminders.
	LateApproval     LatePolicy `json:"late_approval,omitempty"`
	ApprovalDeadline time.Time  `json:"approval_deadline,omitzero"`
	RemindEvery      Duration   `json:"remind_every,omitempty"`
	PlannedAt        time.Time  `json:"planned_at,omitzero"`
	// Escalation, from the rule that planned the ticket, widens who may
	// approve its open stage from a time before the approval deadline.
	Escalation *Escalation `json:"escalation,omitempty"`

	// Closed records who ended the ticket early (reject, terminate, cancel).
	Closed *Decision `json:"closed,omitempty"`
	// Done records the beneficiaries who said they were done while the
	// ticket went on for the others: they get no new sessions, and their
	// open ones were cut.
	Done []Decision `json:"done,omitempty"`

	// Reviews are the reviews of the ticket's activity after the fact
	// (Service.Review), oldest first.
	Reviews []Decision `json:"reviews,omitempty"`
	// BreakGlass marks a ticket granted at once under a break-glass rule,
	// to be reviewed by a second person by its deadline.
	BreakGlass *BreakGlass `json:"break_glass,omitempty"`
	// Hint is the ticket's settled least-privilege hint (Service.Hint).
	Hint *Hint `json:"hint,omitempty"`

	// Extension is the latest request to move the end of the active ticket.
	Extension *Extension `json:"extension,omitempty"`
	// Revisions are the earlier revisions of an edited ticket, oldest first.
	Revisions []Revision `json:"revisions,omitempty"`

	Sessions []Session `json:"sessions,omitempty"`
	// Grants is what JIT did in AWS for the ticket, in order (see Grant).
	Grants  []Grant `json:"grants,omitempty"`
	History []Event `json:"history"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Escalation says that from At the people and groups of To may also
// approve a pending ticket's open stage (ApprovalRule.EscalateBefore).
type Escalation struct {
	At time.Time `json:"at"`
	To []string  `json:"to"`
}

// Widen returns stage s of t as it stands at the given time: from the
// ticket's escalation on (and while the ticket itself, not an extension,
// waits), with the escalation's people and groups among its approvers.
func (t *Ticket) Widen(s Stage, at time.Time) Stage {
	e := t.Escalation
	if e == nil || t.State != StatePending || at.Before(e.At) {
		return s
	}
	out := Stage{Approvers: slices.Clone(s.Approvers), Required: s.Required}
	for _, a := range e.To {
		if !slices.Contains(out.Approvers, a) {
			out.Approvers = append(out.Approvers, a)
		}
	}
	return out
}

// Stage is one step of an approval plan: who may approve (emails and
// "group:<name>") and how many approvals it needs.
type Stage struct {
	Approvers []string `json:"approvers"`
	Required  int      `json:"required"`
}

// Includes reports whether u is one of the stage's approvers, by email or
// through one of their groups, compared exactly (see User).
func (s Stage) Includes(u User) bool {
	return slices.ContainsFunc(s.Approvers, u.Is)
}

// Decision is one person's approval, rejection or termination. For names
// the delegator when the person acted as their delegate ("bob for alice").
type Decision struct {
	Stage   int       `json:"stage"`
	By      string    `json:"by"`
	For     string    `json:"for,omitempty"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
	// Auto is set on a decision nobody made by pressing Approve: a
	// pre-approval of By's, or the rule's on-call auto-approval (By "jit").
	Auto *AutoApproval `json:"auto,omitempty"`
}

// Actor returns who decided, as the audit shows it: "bob" or "bob for alice".
func (d Decision) Actor() string {
	if d.For != "" {
		return d.By + " for " + d.For
	}
	return d.By
}

// ExtensionState is where an extension request is.
type ExtensionState string

// Extension states.
const (
	ExtensionPending  ExtensionState = "pending"
	ExtensionApproved ExtensionState = "approved"
	ExtensionRejected ExtensionState = "rejected"
	// ExtensionClosed: the ticket ended (expired or terminated) before
	// the extension was decided; Closed says why.
	ExtensionClosed ExtensionState = "closed"
)

// Extension is a request to move the end of an active ticket later. It has
// its own approval round; the ticket stays active meanwhile.
type Extension struct {
	End         time.Time      `json:"end"`
	PreviousEnd time.Time      `json:"previous_end"`
	Reason      string         `json:"reason"`
	RequestedBy string         `json:"requested_by"`
	RequestedAt time.Time      `json:"requested_at"`
	State       ExtensionState `json:"state"`

	Stages           []Stage    `json:"stages,omitempty"`
	Stage            int        `json:"stage"`
	Approvals        []Decision `json:"approvals"`
	PendingApprovers []string   `json:"pending_approvers,omitempty"`
	Closed           *Decision  `json:"closed,omitempty"`
}

// Revision is a snapshot of an earlier revision of an edited ticket: what
// was asked and how it was decided.
type Revision struct {
	Revision      int        `json:"revision"`
	Beneficiaries []string   `json:"beneficiaries"`
	PermissionSet string     `json:"permission_set"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Reason        string     `json:"reason"`
	Stages        []Stage    `json:"stages,omitempty"`
	Approvals     []Decision `json:"approvals"`
	Closed        *Decision  `json:"closed,omitempty"`
}

// Round is the approval round of a ticket that is waiting for decisions:
// the ticket's own while pending, or its extension's while it is active
// with an extension pending. Its fields point into the ticket.
type Round struct {
	Extension        bool
	Stages           []Stage
	Stage            *int
	Approvals        *[]Decision
	PendingApprovers *[]string
}

// OpenRound returns the round waiting for decisions, if any.
func (t *Ticket) OpenRound() (Round, bool) {
	switch {
	case t.State == StatePending && t.Stage < len(t.Stages):
		return Round{Stages: t.Stages, Stage: &t.Stage, Approvals: &t.Approvals, PendingApprovers: &t.PendingApprovers}, true
	case t.State == StateActive && t.Extension != nil && t.Extension.State == ExtensionPending && t.Extension.Stage < len(t.Extension.Stages):
		e := t.Extension
		return Round{Extension: true, Stages: e.Stages, Stage: &e.Stage, Approvals: &e.Approvals, PendingApprovers: &e.PendingApprovers}, true
	}
	return Round{}, false
}

// Session is a credential JIT issued for the ticket; its AccessKeyID ties
// the ticket to CloudTrail activity.
type Session struct {
	AccessKeyID string    `json:"access_key_id"`
	User        string    `json:"user"`
	IssuedAt    time.Time `json:"issued_at"`
	Expiration  time.Time `json:"expiration"`
	// RoleChaining: the session was minted allowing role chaining, so its
	// ticket's cut covers every role JIT manages, whatever the permission
	// set says by then.
	RoleChaining bool `json:"role_chaining,omitempty"`
}

// Event is one entry in a ticket's history.
type Event struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	From    State     `json:"from,omitempty"`
	To      State     `json:"to,omitempty"`
	Comment string    `json:"comment,omitempty"`
}

// Duration is a time.Duration written in JSON as a Go duration string ("1h30m0s").
type Duration time.Duration

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// IsBeneficiary reports whether email is one of the ticket's beneficiaries.
func (t *Ticket) IsBeneficiary(email string) bool { return slices.Contains(t.Beneficiaries, email) }

// Outcome says in words how a ticket that reached a final state ended,
// from the history event that ended it: "not approved in time" (expired
// while pending), "ran out" (expired at its end), "ended by requester"
// (the requester's "I'm done"), "ended by <beneficiary> (done)" (the
// last beneficiary's), "terminated by <who>", "activation failed",
// "rejected by <who>", "cancelled" (by the requester) or "cancelled by
// <who>". An open ticket has none (""). It is the one place that tells
// the endings apart: the ticket JSON carries it as "outcome", and the
// CLI and the web app show it.
func (t *Ticket) Outcome() string {
	if !t.State.Final() {
		return ""
	}
	var e Event
	for i := len(t.History) - 1; i >= 0; i-- {
		if t.History[i].To == t.State {
			e = t.History[i]
			break
		}
	}
	switch t.State {
	case StateExpired:
		if e.From == StatePending {
			return "not approved in time"
		}
		return "ran out"
	case StateTerminated:
		switch {
		case e.Action == ActionDone && e.Actor == t.Requester:
			return "ended by requester"
		case e.Action == ActionDone:
			return "ended by " + e.Actor + " (done)"
		case e.Action == "activation failed":
			return "activation failed"
		case e.Actor != "":
			return "terminated by " + e.Actor
		}
		return "terminated"
	case StateRejected:
		if e.Actor != "" {
			return "rejected by " + e.Actor
		}
		return "rejected"
	case StateCancelled:
		if e.Actor != "" && e.Actor != t.Requester {
			return "cancelled by " + e.Actor
		}
		return "cancelled"
	}
	return string(t.State)
}

// MarshalJSON writes the ticket with its derived "outcome" (Outcome).
func (t Ticket) MarshalJSON() ([]byte, error) {
	type plain Ticket
	return json.Marshal(struct {
		plain
		Outcome string `json:"outcome,omitempty"`
	}{plain(t), t.Outcome()})
}

// IsDone reports whether the beneficiary email said they were done with
// the ticket while it went on for the others.
func (t *Ticket) IsDone(email string) bool {
	return slices.ContainsFunc(t.Done, func(d Decision) bool { return d.By == email })
}

// ActiveBeneficiaries returns the beneficiaries who may still use the
// ticket: all but those who said they were done.
func (t *Ticket) ActiveBeneficiaries() []string {
	return slices.DeleteFunc(slices.Clone(t.Beneficiaries), t.IsDone)
}

// Involves reports whether email requested or benefits from the ticket.
func (t *Ticket) Involves(email string) bool { return t.Requester == email || t.IsBeneficiary(email) }

// SessionsExpireBy returns when the last session issued for the ticket
// expires, or zero if none was issued.
func (t *Ticket) SessionsExpireBy() time.Time {
	var last time.Time
	for _, s := range t.Sessions {
		if s.Expiration.After(last) {
			last = s.Expiration
		}
	}
	return last
}

func cloneStages(in []Stage) []Stage {
	if in == nil {
		return nil
	}
	out := make([]Stage, len(in))
	for i, s := range in {
		out[i] = Stage{Approvers: slices.Clone(s.Approvers), Required: s.Required}
	}
	return out
}

func cloneDecision(d *Decision) *Decision {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

// Clone returns a deep copy of t.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Beneficiaries = slices.Clone(t.Beneficiaries)
	c.RequesterGroups = slices.Clone(t.RequesterGroups)
	c.Stages = cloneStages(t.Stages)
	if c.Stages == nil {
		c.Stages = []Stage{}
	}
	c.Approvals = slices.Clone(t.Approvals)
	c.PendingApprovers = slices.Clone(t.PendingApprovers)
	c.Closed = cloneDecision(t.Closed)
	c.Done = slices.Clone(t.Done)
	c.Reviews = slices.Clone(t.Reviews)
	c.BreakGlass = t.BreakGlass.clone()
	if t.Escalation != nil {
		e := *t.Escalation
		e.To = slices.Clone(e.To)
		c.Escalation = &e
	}
	if t.Extension != nil {
		e := *t.Extension
		e.Stages = cloneStages(e.Stages)
		e.Approvals = slices.Clone(e.Approvals)
		e.PendingApprovers = slices.Clone(e.PendingApprovers)
		e.Closed = cloneDecision(e.Closed)
		c.Extension = &e
	}
	if t.Revisions != nil {
		c.Revisions = make([]Revision, len(t.Revisions))
		for i, r := range t.Revisions {
			r.Beneficiaries = slices.Clone(r.Beneficiaries)
			r.Stages = cloneStages(r.Stages)
			r.Approvals = slices.Clone(r.Approvals)
			r.Closed = cloneDecision(r.Closed)
			c.Revisions[i] = r
		}
	}
	c.Sessions = slices.Clone(t.Sessions)
	c.Grants = slices.Clone(t.Grants)
	c.History = slices.Clone(t.History)
	return &c
}
