package wire

import (
	"encoding/json"
	"time"

	"github.com/jitaccess/jit/broker"
)

// CreateTicket is the body of POST /api/v1/tickets.
type CreateTicket struct {
	AccountID string `json:"account_id,omitempty"`
	// Accounts asks for the same permission set in several accounts (with
	// account_id, if given): one ticket per account, created all or none,
	// linked by group and group_tickets; the answer is the first of them.
	Accounts      []string `json:"accounts,omitempty"`
	PermissionSet string   `json:"permission_set"`
	Beneficiaries []string `json:"beneficiaries,omitempty"`
	// Start is an RFC 3339 time or "now"; empty means now.
	Start string `json:"start,omitempty"`
	// End is an RFC 3339 time; exactly one of End and Duration is required.
	End string `json:"end,omitempty"`
	// Duration is a Go duration ("1h30m") counted from Start.
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason"`
	// BreakGlass grants the caller access at once, without approval,
	// under a break-glass rule of the registry: for the caller alone,
	// starting now, for at most the rule's max_duration; the rule's
	// people are told and a second person must review it.
	BreakGlass bool `json:"break_glass,omitempty"`
}

// Input validates the body's times and returns the service's input.
// EINVALID for a bad time.
func (r CreateTicket) Input() (broker.CreateTicketInput, error) {
	in := broker.CreateTicketInput{
		AccountID:     r.AccountID,
		Accounts:      r.Accounts,
		PermissionSet: r.PermissionSet,
		Beneficiaries: r.Beneficiaries,
		Reason:        r.Reason,
		BreakGlass:    r.BreakGlass,
	}
	start, _, err := ParseStart(r.Start) // "now" is the zero start: the service's now
	if err != nil {
		return in, err
	}
	in.Start = start
	// The service counts a duration from the start it settles on (a start
	// just in the past becomes now), so the window keeps its length.
	in.End, in.Duration, err = EndOrDuration(r.End, r.Duration, true)
	return in, err
}

// EditTicket is the body of PUT /api/v1/tickets/{id}: every field is
// optional and keeps the ticket's value when left out.
type EditTicket struct {
	PermissionSet string   `json:"permission_set,omitempty"`
	Beneficiaries []string `json:"beneficiaries,omitempty"`
	// Start is an RFC 3339 time or "now".
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Input validates the body's times and returns the service's input; now
// is the start "now" stands for. EINVALID for a bad time.
func (r EditTicket) Input(now time.Time) (broker.EditInput, error) {
	in := broker.EditInput{PermissionSet: r.PermissionSet, Beneficiaries: r.Beneficiaries, Reason: r.Reason}
	start, isNow, err := ParseStart(r.Start)
	if err != nil {
		return in, err
	}
	in.Start = start
	if isNow {
		in.Start = now.UTC()
	}
	// A duration counts from the start the broker keeps.
	in.End, in.Duration, err = EndOrDuration(r.End, r.Duration, false)
	return in, err
}

// ExtendTicket is the body of POST /api/v1/tickets/{id}/extend.
type ExtendTicket struct {
	// End is an RFC 3339 time; exactly one of End and Duration is required.
	End string `json:"end,omitempty"`
	// Duration is counted from the ticket's current end.
	Duration string `json:"duration,omitempty"`
	Reason   string `json:"reason"`
}

// Input validates the body's times and returns the service's input.
// EINVALID for a bad time.
func (r ExtendTicket) Input() (broker.ExtendInput, error) {
	end, dur, err := EndOrDuration(r.End, r.Duration, true)
	return broker.ExtendInput{Reason: r.Reason, End: end, By: dur}, err
}

// Decide is the body of approve and reject: the comment, and the revision
// of the ticket the approver saw. A decision on a revision the ticket is no
// longer at is refused with 409; 0 (left out) is not checked, for scripts
// written before revisions were sent.
type Decide struct {
	Comment  string `json:"comment,omitempty"`
	Revision int    `json:"revision,omitempty"`
}

// Comment is the body of terminate, cancel and done.
type Comment struct {
	Comment string `json:"comment,omitempty"`
}

// Ticket is a ticket as the API answers it: the stored ticket with every
// time in UTC, its outcome in words (broker.Ticket.Outcome), and, while it
// waits for decisions, what its open round needs as the caller sees it
// (broker.Deciding).
type Ticket struct {
	broker.Ticket
	Outcome  string           `json:"outcome,omitempty"`
	Deciding *broker.Deciding `json:"deciding,omitempty"`
}

// MarshalJSON writes the ticket's fields with outcome and deciding.
func (t Ticket) MarshalJSON() ([]byte, error) {
	type plain broker.Ticket // without broker.Ticket's own MarshalJSON
	return json.Marshal(struct {
		plain
		Outcome  string           `json:"outcome,omitempty"`
		Deciding *broker.Deciding `json:"deciding,omitempty"`
	}{plain(t.Ticket), t.Ticket.Outcome(), t.Deciding})
}

// NewTicket returns t as the API answers it, with d (nil when nothing
// waits for the caller's view).
func NewTicket(t *broker.Ticket, d *broker.Deciding) Ticket {
	c := utcTicket(t)
	return Ticket{Ticket: *c, Outcome: c.Outcome(), Deciding: d}
}

// TicketList is the body of GET /api/v1/tickets: one page of the tickets
// the query matches, how many match in all, and the cursor of the next
// page (absent on the last one). A list in creation order (the default)
// is read only as far as its page: total then counts the tickets read,
// and total_is_minimum says more may match.
type TicketList struct {
	Tickets        []Ticket `json:"tickets"`
	Total          int      `json:"total"`
	TotalIsMinimum bool     `json:"total_is_minimum,omitempty"`
	NextCursor     string   `json:"next_cursor,omitempty"`
	// Groups, with grouped=true, are the members of each group listed
	// (those the caller may see), by group id.
	Groups map[string][]broker.GroupMember `json:"groups,omitempty"`
}

// TicketEvent is one "ticket" event of GET /api/v1/events: a ticket the
// caller may see was created or changed. The page reads the ticket again.
type TicketEvent struct {
	ID        string       `json:"id"`
	State     broker.State `json:"state"`
	Version   int64        `json:"version"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// utcTicket returns a copy of t with every time in UTC, so the API always
// answers in RFC 3339 UTC whatever location the service used.
func utcTicket(t *broker.Ticket) *broker.Ticket {
	c := t.Clone()
	// The stored least-privilege hint is shown only through
	// GET /tickets/{id}/hint, to those who may see the ticket's activity.
	c.Hint = nil
	c.Start, c.End = c.Start.UTC(), c.End.UTC()
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	utcDecisions(c.Approvals)
	utcDecisions(c.Done)
	if c.Closed != nil {
		c.Closed.At = c.Closed.At.UTC()
	}
	for i := range c.Sessions {
		c.Sessions[i].IssuedAt = c.Sessions[i].IssuedAt.UTC()
		c.Sessions[i].Expiration = c.Sessions[i].Expiration.UTC()
	}
	for i := range c.Grants {
		c.Grants[i].At, c.Grants[i].Until = c.Grants[i].At.UTC(), c.Grants[i].Until.UTC()
	}
	for i := range c.History {
		c.History[i].At = c.History[i].At.UTC()
	}
	c.ApprovalDeadline, c.PlannedAt = c.ApprovalDeadline.UTC(), c.PlannedAt.UTC()
	if b := c.BreakGlass; b != nil {
		b.ReviewBy = b.ReviewBy.UTC()
		if !b.EscalatedAt.IsZero() {
			b.EscalatedAt = b.EscalatedAt.UTC()
		}
	}
	if e := c.Extension; e != nil {
		e.End, e.PreviousEnd, e.RequestedAt = e.End.UTC(), e.PreviousEnd.UTC(), e.RequestedAt.UTC()
		utcDecisions(e.Approvals)
		if e.Closed != nil {
			e.Closed.At = e.Closed.At.UTC()
		}
	}
	for i := range c.Revisions {
		r := &c.Revisions[i]
		r.Start, r.End = r.Start.UTC(), r.End.UTC()
		utcDecisions(r.Approvals)
		if r.Closed != nil {
			r.Closed.At = r.Closed.At.UTC()
		}
	}
	return c
}

func utcDecisions(ds []broker.Decision) {
	for i := range ds {
		ds[i].At = ds[i].At.UTC()
	}
}
