package broker

import (
	"context"
	"fmt"
	"time"
)

// Approve records the caller's approval of the current stage of the
// ticket's open round: the ticket's own while it is pending, or its pending
// extension's while it is active. The caller may act for a delegator inside
// a delegation's window. When the last stage of a ticket completes, the
// ticket is approved and its activation is scheduled at its start (moved
// to now by a late approval, keeping its end or its length as the rule
// says). When the last stage of an extension completes, the end moves and
// the expiry is rescheduled. Nothing is decided from the approval deadline
// or the ticket's end on (see decidable). Errors: EUNAUTHENTICATED,
// ENOTFOUND, EFORBIDDEN, ECONFLICT (nothing to decide, already approved,
// or too late).
func (s *Service) Approve(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	dels, err := s.delegationsTo(ctx, u.Email, s.now())
	if err != nil {
		return nil, err
	}
	var done, extension bool
	var stage int
	var oldEnd time.Time
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		r, ok := t.OpenRound()
		if !ok {
			return stateError(t, "approved")
		}
		now := s.now()
		if err := decidable(t, r, now); err != nil {
			return err
		}
		d, err := s.cfg.Approvals.Decide(t, u, dels, now)
		if err != nil {
			return err
		}
		if err := s.stillApprover(ctx, t, u, d, r); err != nil {
			return err
		}
		extension, stage, oldEnd = r.Extension, *r.Stage, t.End
		if done, err = s.cfg.Approvals.Approve(t, u, dels, comment, now); err != nil {
			return err
		}
		switch {
		case !done && extension:
			t.History = append(t.History, Event{At: now, Actor: d.Actor(), Action: "approve extension", Comment: comment})
		case !done:
			t.History = append(t.History, Event{At: now, Actor: d.Actor(), Action: "approve", Comment: comment})
		case extension:
			e := t.Extension
			e.State, e.PendingApprovers = ExtensionApproved, nil
			t.End = e.End
			t.History = append(t.History, Event{At: now, Actor: d.Actor(), Action: "extend",
				Comment: fmt.Sprintf("end moved from %s to %s: %s", oldEnd.Format(time.RFC3339), e.End.Format(time.RFC3339), comment)})
		default:
			if err := lateApproval(t, now); err != nil {
				return err
			}
			t.PendingApprovers = nil
			t.move(StateApproved, d.Actor(), "approve", comment, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case done && extension:
		if err := s.reschedule(ctx, TaskExpire, t.ID, oldEnd, t.End); err != nil {
			return nil, err
		}
		s.unscheduleRound(ctx, t.ID)
	case done:
		if err := s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start); err != nil {
			return nil, err
		}
		s.unscheduleRound(ctx, t.ID)
		s.notify(ctx, Notification{Kind: NotifyApproved, TicketID: t.ID, To: []string{t.Requester}, Message: fmt.Sprintf("ticket %s is approved", t.ID)})
	default:
		if r, ok := t.OpenRound(); ok && *r.Stage != stage {
			s.notify(ctx, Notification{Kind: NotifyApprovalNeeded, TicketID: t.ID, To: s.waitingFor(ctx, t, s.now()),
				Message: fmt.Sprintf("ticket %s of %s reached stage %d", t.ID, t.Requester, *r.Stage+1)})
		}
	}
	return t, nil
}

// decidable returns ECONFLICT when the open round r of t can no longer be
// decided at now: the ticket's own round from its approval deadline or its
// end on (whichever comes first; the deadline is never after the end), an
// extension's from the ticket's end on. The deadline and expiry tasks
// close the round too, but they may run late; every decision checks the
// clock itself, so a late task never lets a decision through.
func decidable(t *Ticket, r Round, now time.Time) error {
	switch {
	case r.Extension && !now.Before(t.End):
		return Errorf(ECONFLICT, "ticket %s ended at %s; its extension can no longer be decided", t.ID, t.End.Format(time.RFC3339))
	case r.Extension:
		return nil
	case !now.Before(t.End):
		return Errorf(ECONFLICT, "ticket %s ended at %s before it was decided; it can no longer be decided", t.ID, t.End.Format(time.RFC3339))
	case !t.ApprovalDeadline.IsZero() && !now.Before(t.ApprovalDeadline):
		return Errorf(ECONFLICT, "the approval deadline of ticket %s passed at %s; it can no longer be decided", t.ID, t.ApprovalDeadline.Format(time.RFC3339))
	}
	return nil
}

// lateApproval moves the window of a ticket approved after its start (and,
// as decidable makes sure, before its end): to start now, keeping its end
// (LateKeepEnd) or its length (LateKeepLength).
func lateApproval(t *Ticket, now time.Time) error {
	now = now.Truncate(time.Second)
	if !now.After(t.Start) {
		return nil
	}
	if t.LateApproval == LateKeepLength {
		length := t.End.Sub(t.Start)
		t.Start, t.End = now, now.Add(length)
		return nil
	}
	if !now.Before(t.End) {
		return Errorf(ECONFLICT, "ticket %s ended at %s, before it was approved", t.ID, t.End.Format(time.RFC3339))
	}
	t.Start = now
	return nil
}

// Reject rejects the ticket's open round with the caller's comment, which
// is required: a pending ticket becomes rejected (its requester may edit
// and resend it), a pending extension is refused and the ticket stays
// active with its end. Like Approve, it is refused from the approval
// deadline or the ticket's end on. Errors: EUNAUTHENTICATED, EINVALID,
// ENOTFOUND, EFORBIDDEN, ECONFLICT.
func (s *Service) Reject(ctx context.Context, id, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if comment, err = cleanComment(comment); err != nil {
		return nil, err
	}
	if comment == "" {
		return nil, Errorf(EINVALID, "a comment is required to reject a ticket")
	}
	dels, err := s.delegationsTo(ctx, u.Email, s.now())
	if err != nil {
		return nil, err
	}
	t, err := s.transition(ctx, id, func(t *Ticket) error {
		if err := s.visible(ctx, t, u); err != nil {
			return err
		}
		r, ok := t.OpenRound()
		if !ok {
			return stateError(t, "rejected")
		}
		now := s.now()
		if err := decidable(t, r, now); err != nil {
			return err
		}
		d, err := s.cfg.Approvals.Decide(t, u, dels, now)
		if err != nil {
			return err
		}
		if err := s.stillApprover(ctx, t, u, d, r); err != nil {
			return err
		}
		d.Comment, d.At, d.Stage = comment, now, *r.Stage
		if r.Extension {
			e := t.Extension
			e.State, e.PendingApprovers, e.Closed = ExtensionRejected, nil, &d
			t.History = append(t.History, Event{At: now, Actor: d.Actor(), Action: "reject extension", Comment: comment})
			return nil
		}
		t.Closed = &d
		t.PendingApprovers = nil
		t.move(StateRejected, d.Actor(), "reject", comment, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.unscheduleRound(ctx, t.ID)
	s.notify(ctx, Notification{Kind: NotifyRejected, TicketID: t.ID, To: []string{t.Requester}, Message: fmt.Sprintf("ticket %s was rejected: %s", t.ID, comment)})
	return t, nil
}

// StageAuthorizer is implemented by an Authorizer that also decides who
// approves a stage of the rule now in force for an account and
// permission set (policies.Enforcer does).
type StageAuthorizer interface {
	MayApprove(ctx context.Context, u User, accountID, permissionSet string, stage int) (bool, error)
}

// stillApprover asks the authorizer whether the person decided for (the
// caller, or the delegator they act for) approves this stage under the
// registry in force now, so that removing an approver from a rule takes
// effect on tickets already filed. The ticket's stored plan has already
// said yes; extension rounds may use other stages and are decided by the
// plan alone.
func (s *Service) stillApprover(ctx context.Context, t *Ticket, u User, d Decision, r Round) error {
	sa, ok := s.cfg.Authorizer.(StageAuthorizer)
	if !ok || r.Extension || r.Stage == nil {
		return nil
	}
	who := u
	if d.For != "" {
		who = User{Email: d.For}
	}
	if ok, err := sa.MayApprove(ctx, who, t.AccountID, t.PermissionSet, *r.Stage); err != nil {
		return err
	} else if !ok {
		return Errorf(EFORBIDDEN, "%s no longer approves stage %d of %s in account %s", who.Email, *r.Stage+1, t.PermissionSet, t.AccountID)
	}
	return nil
}
