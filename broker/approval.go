package broker

import (
	"context"
	"slices"
	"time"
)

// Plan is how a ticket (or an extension of it) gets approved, from the
// approval rule that covers it.
type Plan struct {
	// Stages run in order; none means no approval is needed.
	Stages []Stage
	// LateApproval says what happens to the window when the last approval
	// comes after the requested start; "" means LateKeepEnd.
	LateApproval LatePolicy
	// Deadline, when set, expires a pending ticket this long after it was
	// filed (it always expires at its end).
	Deadline time.Duration
	// RemindEvery, when set, reminds approvers who have not acted.
	RemindEvery time.Duration
	// EscalateBefore and EscalateTo come from the rule
	// (ApprovalRule.EscalateBefore): EscalateTo less the ticket's people.
	EscalateBefore time.Duration
	EscalateTo     []string
	// OnCall is the rule's on-call auto-approval (ticket rounds only).
	OnCall *OnCallRule
	// StepUp is what an approval under the rule needs of the approver's
	// sign-in (ApprovalRule.StepUpMaxAge and friends).
	StepUp StepUp
}

// apply puts a ticket plan on t, filed (or resent) at now.
func (p Plan) apply(t *Ticket, now time.Time) {
	t.Stages, t.Stage, t.Approvals = p.Stages, 0, []Decision{}
	t.LateApproval = p.LateApproval
	if t.LateApproval == "" {
		t.LateApproval = LateKeepEnd
	}
	t.RemindEvery = Duration(p.RemindEvery)
	t.PlannedAt = now
	t.PendingApprovers = nil
	t.ApprovalDeadline = time.Time{}
	if len(p.Stages) > 0 {
		t.PendingApprovers = slices.Clone(p.Stages[0].Approvers)
		t.ApprovalDeadline = t.End
		if p.Deadline > 0 && now.Add(p.Deadline).Before(t.End) {
			t.ApprovalDeadline = now.Add(p.Deadline).Truncate(time.Second)
		}
	}
	t.Escalation = nil
	if len(p.Stages) > 0 && p.EscalateBefore > 0 && len(p.EscalateTo) > 0 {
		t.Escalation = &Escalation{At: t.ApprovalDeadline.Add(-p.EscalateBefore), To: slices.Clone(p.EscalateTo)}
	}
}

// Notification tells people about a ticket.
type Notification struct {
	// Kind is what happened: NotifyApprovalNeeded, NotifyReminder,
	// NotifyApproved, NotifyRejected.
	Kind     string
	TicketID string
	// To are emails and "group:<name>" recipients.
	To      []string
	Message string
}

// Notification kinds.
const (
	NotifyApprovalNeeded = "approval_needed"
	NotifyReminder       = "reminder"
	NotifyApproved       = "approved"
	NotifyRejected       = "rejected"
)

// Notifier delivers notifications (mail, chat, a log).
type Notifier interface {
	// Notify delivers n. Failures are logged by the caller, never shown to users.
	Notify(ctx context.Context, n Notification) error
}

// Directory resolves users in the Identity Store.
type Directory interface {
	// ResolveUser returns the Identity Store user id of email. ENOTFOUND
	// when there is no such user; EINVALID for an address it cannot look up.
	ResolveUser(ctx context.Context, email string) (userID string, err error)
}

// notify sends n, logging (never returning) failures.
func (s *Service) notify(ctx context.Context, n Notification) {
	if s.cfg.Notifier == nil || len(n.To) == 0 {
		return
	}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), n); err != nil {
		s.cfg.Logger.Warn("notify", "ticket", n.TicketID, "kind", n.Kind, "err", err)
	}
}

// waitingFor returns whom the open round of t waits for: the current
// stage's approvers who have not decided, and the delegates acting for them
// now.
func (s *Service) waitingFor(ctx context.Context, t *Ticket, now time.Time) []string {
	r, ok := t.OpenRound()
	if !ok {
		return nil
	}
	var out []string
	for _, a := range r.Undecided() {
		out = append(out, a)
		if s.cfg.Delegations != nil {
			ds, err := s.cfg.Delegations.Delegations(ctx, DelegationFilter{From: a})
			if err != nil {
				s.cfg.Logger.Warn("delegations for notification", "ticket", t.ID, "err", err)
				continue
			}
			for _, d := range ds {
				if d.ActiveAt(now) && !t.Involves(d.To) && !slices.Contains(out, d.To) {
					out = append(out, d.To)
				}
			}
		}
	}
	return out
}
