package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"
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
// or too late), ESTEPUP (the rule asks for a more recent sign-in, StepUp).
func (s *Service) Approve(ctx context.Context, id, comment string) (*Ticket, error) {
	return s.ApproveRevision(ctx, id, 0, comment)
}

// ApproveRevision is Approve of the revision of the ticket the approver
// saw: when revision is not 0 and the ticket is at another revision now
// (it was edited and resent since), the approval is refused with ECONFLICT
// naming the current revision. The round is first planned under the rule
// in force (see liveRound). Errors as Approve.
func (s *Service) ApproveRevision(ctx context.Context, id string, revision int, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "approve tickets"); err != nil {
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
		now := s.now()
		r, d, err := s.openDecision(ctx, t, u, dels, revision, now, "approved")
		if err != nil {
			return err
		}
		if err := s.approvalStepUp(ctx, t, r.Extension, u, now); err != nil {
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
		s.crash(CrashExtendSaved)
		if err := s.reschedule(ctx, TaskExpire, t.ID, oldEnd, t.End); err != nil {
			return nil, err
		}
		s.unscheduleRound(ctx, t.ID)
	case done:
		s.crash(CrashApproveSaved)
		if err := s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start); err != nil {
			return nil, err
		}
		s.crash(CrashApproveScheduled)
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
	return s.RejectRevision(ctx, id, 0, comment)
}

// RejectRevision is Reject of the revision the approver saw; another
// revision is refused as in ApproveRevision. Errors as Reject.
func (s *Service) RejectRevision(ctx context.Context, id string, revision int, comment string) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "reject tickets"); err != nil {
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
		now := s.now()
		r, d, err := s.openDecision(ctx, t, u, dels, revision, now, "rejected")
		if err != nil {
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

// openDecision checks that u may decide t's open round now, as the
// decision of revision (0: any) with the verb ("approved", "rejected")
// for errors, and returns the round, planned under the rule in force
// (liveRound), and u's decision on it. Errors: ENOTFOUND (not u's to see),
// ECONFLICT (another revision, nothing to decide, too late, already
// decided, no rule in force), EFORBIDDEN, EUNAVAILABLE.
func (s *Service) openDecision(ctx context.Context, t *Ticket, u User, dels []Delegation, revision int, now time.Time, verb string) (Round, Decision, error) {
	if err := s.visible(ctx, t, u); err != nil {
		return Round{}, Decision{}, err
	}
	if revision != 0 && revision != t.Revision {
		return Round{}, Decision{}, Errorf(ECONFLICT, "ticket %s is at revision %d now, not revision %d; look at revision %d and decide again", t.ID, t.Revision, revision, t.Revision)
	}
	r, ok := t.OpenRound()
	if !ok {
		return Round{}, Decision{}, stateError(t, verb)
	}
	if err := decidable(t, r, now); err != nil {
		return Round{}, Decision{}, err
	}
	d, err := s.liveDecision(ctx, t, u, dels, now)
	if err != nil {
		return Round{}, Decision{}, err
	}
	r, _ = t.OpenRound()
	return r, d, nil
}

// liveDecision plans t's open round under the rule in force (liveRound,
// which changes t) and returns the decision u would make on it now.
func (s *Service) liveDecision(ctx context.Context, t *Ticket, u User, dels []Delegation, now time.Time) (Decision, error) {
	if err := s.liveRound(ctx, t, now); err != nil {
		return Decision{}, err
	}
	return s.cfg.Approvals.Decide(t, u, dels, now)
}

// liveRound brings the open round of t under the approval rule in force
// now, so that a rule changed after the ticket (or its extension) was
// filed governs what is still to decide:
//
//   - The plan's stages are compared in order with the rule's. Approvals
//     of the leading stages that are unchanged (same approvers, same
//     quorum) keep counting; from the first changed stage on, the round
//     continues under the new stages, and approvals given on changed
//     stages no longer count.
//   - The last stage of the new plan is always decided under it: a rule
//     that was loosened (fewer stages, a smaller quorum) never completes
//     a round by itself, so nothing is granted that an approver in force
//     did not approve.
//
// A ticket that no rule covers now, or whose rule cannot be met without
// its own parties, cannot be decided (ECONFLICT). The change is recorded
// in the history when t is stored. Errors: ECONFLICT, EUNAVAILABLE.
func (s *Service) liveRound(ctx context.Context, t *Ticket, now time.Time) error {
	r, ok := t.OpenRound()
	if !ok {
		return nil
	}
	p, err := s.cfg.Approvals.Plan(ctx, t, r.Extension)
	if ErrorCode(err) == EINVALID || (err == nil && len(p.Stages) == 0) {
		return Errorf(ECONFLICT, "ticket %s can no longer be decided: the approval rule in force does not cover it", t.ID)
	} else if err != nil {
		return err
	}
	if slices.EqualFunc(r.Stages, p.Stages, sameStage) {
		return nil
	}
	keep := 0
	for keep < len(p.Stages)-1 && keep < len(r.Stages) && sameStage(r.Stages[keep], p.Stages[keep]) {
		keep++
	}
	stage := min(*r.Stage, keep)
	var kept []Decision
	var dropped []string
	for _, a := range *r.Approvals {
		if a.Stage < keep {
			kept = append(kept, a)
		} else {
			dropped = append(dropped, a.Actor())
		}
	}
	if kept == nil {
		kept = []Decision{}
	}
	stages := cloneStages(p.Stages)
	pending := slices.Clone(stages[stage].Approvers)
	if r.Extension {
		e := t.Extension
		e.Stages, e.Stage, e.Approvals, e.PendingApprovers = stages, stage, kept, pending
	} else {
		t.Stages, t.Stage, t.Approvals, t.PendingApprovers = stages, stage, kept, pending
	}
	why := fmt.Sprintf("the approval rule changed: %d stages now, waiting on stage %d", len(stages), stage+1)
	if len(dropped) > 0 {
		why += "; approvals that no longer count: " + strings.Join(dropped, ", ")
	}
	t.History = append(t.History, Event{At: now, Actor: "jit", Action: "replan", Comment: why})
	return nil
}

// sameStage reports whether two stages have the same approvers (in any
// order) and quorum.
func sameStage(a, b Stage) bool {
	if a.Required != b.Required || len(a.Approvers) != len(b.Approvers) {
		return false
	}
	x, y := slices.Clone(a.Approvers), slices.Clone(b.Approvers)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
