package broker

import (
	"slices"
	"time"
)

// State is where a ticket is in its lifecycle.
type State string

// Ticket states. pending -> approved -> active -> expired is the happy path;
// pending -> rejected, pending|approved -> cancelled and
// approved|active -> terminated end it early.
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

// Final reports whether no further transition can leave s.
func (s State) Final() bool {
	return s == StateExpired || s == StateRejected || s == StateCancelled || s == StateTerminated
}

// Ticket is a request for temporary access to one account with one
// permission set, for one or more beneficiaries.
type Ticket struct {
	ID            string    `json:"id"`
	Revision      int       `json:"revision"`
	Version       int64     `json:"version"`
	State         State     `json:"state"`
	Requester     string    `json:"requester"`
	Beneficiaries []string  `json:"beneficiaries"`
	AccountID     string    `json:"account_id"`
	PermissionSet string    `json:"permission_set"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Reason        string    `json:"reason"`

	// Stages is the approval plan chosen when the ticket was filed; Stage is
	// the index of the stage waiting for decisions while pending.
	Stages    []Stage    `json:"stages,omitempty"`
	Stage     int        `json:"stage"`
	Approvals []Decision `json:"approvals"`
	// PendingApprovers are those who may decide the current stage now; the
	// store indexes them.
	PendingApprovers []string `json:"pending_approvers,omitempty"`

	// Closed records who ended the ticket early (reject, terminate, cancel).
	Closed *Decision `json:"closed,omitempty"`

	Sessions []Session `json:"sessions,omitempty"`
	History  []Event   `json:"history"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Stage is one step of an approval plan: who may approve and how many
// approvals it needs.
type Stage struct {
	Approvers []string `json:"approvers"`
	Required  int      `json:"required"`
}

// Decision is one person's approval, rejection or termination.
type Decision struct {
	Stage   int       `json:"stage"`
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Session is a credential JIT issued for the ticket; its AccessKeyID ties
// the ticket to CloudTrail activity.
type Session struct {
	AccessKeyID string    `json:"access_key_id"`
	User        string    `json:"user"`
	IssuedAt    time.Time `json:"issued_at"`
	Expiration  time.Time `json:"expiration"`
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

// IsBeneficiary reports whether email is one of the ticket's beneficiaries.
func (t *Ticket) IsBeneficiary(email string) bool { return slices.Contains(t.Beneficiaries, email) }

// Involves reports whether email requested or benefits from the ticket.
func (t *Ticket) Involves(email string) bool { return t.Requester == email || t.IsBeneficiary(email) }

// IsApprover reports whether email appears in any stage of the plan.
func (t *Ticket) IsApprover(email string) bool {
	for _, s := range t.Stages {
		if slices.Contains(s.Approvers, email) {
			return true
		}
	}
	return false
}

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

// Clone returns a deep copy of t.
func (t *Ticket) Clone() *Ticket {
	c := *t
	c.Beneficiaries = slices.Clone(t.Beneficiaries)
	c.Stages = make([]Stage, len(t.Stages))
	for i, s := range t.Stages {
		c.Stages[i] = Stage{Approvers: slices.Clone(s.Approvers), Required: s.Required}
	}
	c.Approvals = slices.Clone(t.Approvals)
	c.PendingApprovers = slices.Clone(t.PendingApprovers)
	if t.Closed != nil {
		d := *t.Closed
		c.Closed = &d
	}
	c.Sessions = slices.Clone(t.Sessions)
	c.History = slices.Clone(t.History)
	return &c
}
