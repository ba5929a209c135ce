package broker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Break-glass tickets: the requester grants themself access at once under
// a BreakGlassRule; the rule's people are told; a second person must review
// the ticket by its ReviewBy, or the review is escalated.
const (
	// ActionBreakGlass is the history action of a break-glass filing.
	ActionBreakGlass = "break glass"
	// ActionReviewOverdue is the history action of an escalated review.
	ActionReviewOverdue = "review overdue"
	// TaskReviewOverdue escalates a break-glass ticket nobody reviewed in time.
	TaskReviewOverdue TaskKind = "ticket:review_overdue"
	// NotifyBreakGlass tells a break-glass rule's people of a new ticket.
	NotifyBreakGlass = "break_glass"
	// NotifyReviewOverdue tells a rule's escalate_to of an overdue review.
	NotifyReviewOverdue = "review_overdue"
)

// BreakGlass marks a ticket filed under a break-glass rule: granted
// without approval, to be reviewed by a second person by ReviewBy.
type BreakGlass struct {
	// ReviewBy is when the review is due (the rule's review_within after filing).
	ReviewBy time.Time `json:"review_by"`
	// Notified are the rule's people and notify list when it was filed:
	// they were told, and may see and review the ticket.
	Notified []string `json:"notified"`
	// EscalateTo are told when the review is overdue; they may see and
	// review the ticket too.
	EscalateTo []string `json:"escalate_to"`
	// EscalatedAt is when the overdue review was escalated (once).
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
}

// Names reports whether u is among those told of the break-glass ticket
// (Notified or EscalateTo), by email or through a group.
func (b *BreakGlass) Names(u User) bool {
	return b != nil && (slices.ContainsFunc(b.Notified, u.Is) || slices.ContainsFunc(b.EscalateTo, u.Is))
}

func (b *BreakGlass) clone() *BreakGlass {
	if b == nil {
		return nil
	}
	c := *b
	c.Notified, c.EscalateTo = slices.Clone(b.Notified), slices.Clone(b.EscalateTo)
	return &c
}

// requestAction is the history action of filing t.
func (t *Ticket) requestAction() string {
	if t.BreakGlass != nil {
		return ActionBreakGlass
	}
	return "request"
}

// breakGlassRule returns the rule that lets u break glass into
// permissionSet in accountID. EFORBIDDEN when none does.
func (s *Service) breakGlassRule(ctx context.Context, u User, accountID, permissionSet string) (BreakGlassRule, error) {
	if s.cfg.BreakGlass == nil {
		return BreakGlassRule{}, Errorf(EFORBIDDEN, "break-glass is not available on this server")
	}
	rule, ok, err := s.cfg.BreakGlass.BreakGlass(ctx, u, accountID, permissionSet)
	if err != nil {
		return BreakGlassRule{}, err
	} else if !ok {
		return BreakGlassRule{}, Errorf(EFORBIDDEN, "%s may not break glass into %s in account %s: no break-glass rule names them for it", u.Email, permissionSet, accountID)
	}
	return rule, nil
}

// breakGlass checks a break-glass request (validated as any ticket, the
// requester entitled by a break-glass rule: entitled) against its rule, and
// marks t: it is for the requester alone, starts now and lasts at most
// the rule's max_duration. Errors: EFORBIDDEN, EINVALID.
func (s *Service) breakGlass(ctx context.Context, u User, t *Ticket, now time.Time) error {
	if len(t.Beneficiaries) != 1 || t.Beneficiaries[0] != u.Email {
		return Errorf(EINVALID, "a break-glass ticket is for its requester alone")
	}
	if t.Start.After(now) {
		return Errorf(EINVALID, "a break-glass ticket starts now; for later access, request it for approval")
	}
	rule, err := s.breakGlassRule(ctx, u, t.AccountID, t.PermissionSet)
	if err != nil {
		return err
	}
	if d := t.End.Sub(t.Start); d > rule.MaxDuration {
		return Errorf(EINVALID, "duration %s exceeds the break-glass maximum of %s", d.Round(time.Second), FormatDuration(rule.MaxDuration))
	}
	notified := slices.Clone(rule.People)
	for _, p := range rule.Notify {
		if !slices.Contains(notified, p) {
			notified = append(notified, p)
		}
	}
	t.BreakGlass = &BreakGlass{ReviewBy: now.Add(rule.ReviewWithin).Truncate(time.Second), Notified: notified, EscalateTo: slices.Clone(rule.EscalateTo)}
	return nil
}

// scheduleBreakGlass schedules the review deadline of a break-glass ticket.
func (s *Service) scheduleBreakGlass(ctx context.Context, t *Ticket) error {
	if t.BreakGlass == nil {
		return nil
	}
	return s.cfg.Scheduler.Schedule(ctx, TaskReviewOverdue, t.ID, t.BreakGlass.ReviewBy)
}

// notifyBreakGlass tells the rule's people (all but the requester) of a
// new break-glass ticket.
func (s *Service) notifyBreakGlass(ctx context.Context, t *Ticket) {
	if t.BreakGlass == nil {
		return
	}
	to := slices.DeleteFunc(slices.Clone(t.BreakGlass.Notified), func(p string) bool { return p == t.Requester })
	s.notify(ctx, Notification{Kind: NotifyBreakGlass, TicketID: t.ID, To: to,
		Message: fmt.Sprintf("%s broke glass: %s in %s until %s: %s. A second person must review it by %s.",
			t.Requester, t.PermissionSet, t.AccountID, t.End.UTC().Format(time.RFC3339), t.Reason, t.BreakGlass.ReviewBy.UTC().Format(time.RFC3339))})
}

// ReviewOverdue escalates a break-glass ticket nobody reviewed by its
// ReviewBy: its history and the audit log record it, and the rule's
// escalate_to are told. It is run by the scheduler and is safe to repeat:
// a ticket reviewed meanwhile, not yet due, or already escalated is left
// alone, so the escalation happens once. A review after it still counts.
func (s *Service) ReviewOverdue(ctx context.Context, id string) error {
	now := s.now()
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		b := t.BreakGlass
		if b == nil || len(t.Reviews) > 0 || !b.EscalatedAt.IsZero() || now.Before(b.ReviewBy) {
			return errNoop
		}
		b.EscalatedAt = now
		t.History = append(t.History, Event{At: now, Actor: "jit", Action: ActionReviewOverdue,
			Comment: fmt.Sprintf("nobody reviewed this break-glass ticket by %s: escalated to %s", b.ReviewBy.UTC().Format(time.RFC3339), strings.Join(b.EscalateTo, ", "))})
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	} else if err != nil {
		return ignoreNotFound(err)
	}
	s.notify(ctx, Notification{Kind: NotifyReviewOverdue, TicketID: t.ID, To: slices.Clone(t.BreakGlass.EscalateTo),
		Message: fmt.Sprintf("review overdue: nobody reviewed break-glass ticket %s (%s broke glass into %s in %s) by %s", t.ID, t.Requester, t.PermissionSet, t.AccountID, t.BreakGlass.ReviewBy.UTC().Format(time.RFC3339))})
	return nil
}
