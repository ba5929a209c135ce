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
	// those who were told then. A record only: who may see and review the
	// ticket is the rule in force (Service.reviewRule).
	Notified []string `json:"notified"`
	// EscalateTo is the rule's escalate_to when it was filed, a record
	// only: an overdue review is escalated to the rule in force.
	EscalateTo []string `json:"escalate_to"`
	// EscalatedAt is when the overdue review was escalated (once).
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
}

func (b *BreakGlass) clone() *BreakGlass {
	if b == nil {
		return nil
	}
	c := *b
	c.Notified, c.EscalateTo = slices.Clone(b.Notified), slices.Clone(b.EscalateTo)
	return &c
}

// reviewRule returns the break-glass rule in force for t: the one that
// would let its requester (with the groups of their sign-in when filing)
// break glass into its account and permission set now, as activation and
// every credential ask. ok is false when no rule does any more (the rule
// was removed, or no longer names the requester or covers the ticket):
// then only administrators review the ticket, and an overdue review is
// escalated to them. EUNAVAILABLE when the registry in force cannot be
// confirmed.
func (s *Service) reviewRule(ctx context.Context, t *Ticket) (BreakGlassRule, bool, error) {
	if t.BreakGlass == nil || s.cfg.BreakGlass == nil {
		return BreakGlassRule{}, false, nil
	}
	return s.cfg.BreakGlass.BreakGlass(ctx, ticketRequester(t), t.AccountID, t.PermissionSet)
}

// reviewsNow reports whether the break-glass rule in force for t names u
// (by email or through a group) among its people, notify or escalate_to:
// those may see and review the ticket.
func (s *Service) reviewsNow(ctx context.Context, t *Ticket, u User) (bool, error) {
	rule, ok, err := s.reviewRule(ctx, t)
	if err != nil || !ok {
		return false, err
	}
	return slices.ContainsFunc(rule.People, u.Is) || slices.ContainsFunc(rule.Notify, u.Is) || slices.ContainsFunc(rule.EscalateTo, u.Is), nil
}

// escalationTargets returns whom an overdue review of t is escalated to:
// the escalate_to of the break-glass rule in force, or the registry's
// administrators when no rule covers t any more (nobody when there is no
// stored registry to name them).
func (s *Service) escalationTargets(ctx context.Context, t *Ticket) ([]string, error) {
	rule, ok, err := s.reviewRule(ctx, t)
	if err != nil {
		return nil, err
	} else if ok {
		return rule.EscalateTo, nil
	}
	if s.cfg.RegistryStore == nil {
		return nil, nil
	}
	r, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return nil, err
	}
	return r.Admins, nil
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
// ReviewBy: its history and the audit log record it, and the escalate_to
// of the break-glass rule in force are told (the administrators, when no
// rule covers the ticket any more: escalationTargets). It is run by the
// scheduler, and by RunOverdue when that task is lost, and is safe to
// repeat: a ticket reviewed meanwhile, not yet due, or already escalated
// is left alone, so the escalation happens once. A review after it still
// counts.
func (s *Service) ReviewOverdue(ctx context.Context, id string) error {
	now := s.now()
	var to []string
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		b := t.BreakGlass
		if b == nil || len(t.Reviews) > 0 || !b.EscalatedAt.IsZero() || now.Before(b.ReviewBy) {
			return errNoop
		}
		var err error
		if to, err = s.escalationTargets(ctx, t); err != nil {
			return err
		}
		who := strings.Join(to, ", ")
		if who == "" {
			who = "the administrators"
		}
		b.EscalatedAt = now
		t.History = append(t.History, Event{At: now, Actor: "jit", Action: ActionReviewOverdue,
			Comment: fmt.Sprintf("nobody reviewed this break-glass ticket by %s: escalated to %s", b.ReviewBy.UTC().Format(time.RFC3339), who)})
		return nil
	})
	if errors.Is(err, errNoop) {
		return nil
	} else if err != nil {
		return ignoreNotFound(err)
	}
	s.notify(ctx, Notification{Kind: NotifyReviewOverdue, TicketID: t.ID, To: slices.Clone(to),
		Message: fmt.Sprintf("review overdue: nobody reviewed break-glass ticket %s (%s broke glass into %s in %s) by %s", t.ID, t.Requester, t.PermissionSet, t.AccountID, t.BreakGlass.ReviewBy.UTC().Format(time.RFC3339))})
	return nil
}
