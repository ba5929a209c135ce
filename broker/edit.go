package broker

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// EditInput changes a rejected ticket before it is resent. Zero fields keep
// what the ticket had, except that a start in the past becomes now and an
// end left out keeps the window's length.
type EditInput struct {
	Start time.Time
	End   time.Time
	// Duration, instead of End, is the new length of the window, counted
	// from its start: Start, else the ticket's start when that is still
	// ahead, else now.
	Duration      time.Duration
	Reason        string
	Beneficiaries []string
	PermissionSet string
}

// Edit changes a rejected ticket and resends it as the next revision: it is
// validated like a new ticket, gets a fresh approval plan with no
// approvals, and goes back to pending (or straight to approved when no
// approval is needed). The revision it replaces is kept in Revisions. Only
// the requester may edit. Errors: EUNAUTHENTICATED, EINVALID, ENOTFOUND,
// EFORBIDDEN, ECONFLICT (not rejected), EDUPLICATE and ETOOMANY (guarded).
func (s *Service) Edit(ctx context.Context, id string, in EditInput) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := s.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Requester != u.Email {
		return nil, Errorf(EFORBIDDEN, "only the requester %s may edit ticket %s", cur.Requester, id)
	}
	if cur.State != StateRejected {
		return nil, stateError(cur, "edited")
	}
	now := s.now()
	ci := CreateTicketInput{AccountID: cur.AccountID, PermissionSet: cur.PermissionSet, Beneficiaries: cur.Beneficiaries,
		Start: in.Start, End: in.End, Reason: cur.Reason}
	if in.PermissionSet != "" {
		ci.PermissionSet = in.PermissionSet
	}
	if in.Beneficiaries != nil {
		ci.Beneficiaries = in.Beneficiaries
	}
	if in.Reason != "" {
		ci.Reason = in.Reason
	}
	if ci.Start.IsZero() && cur.Start.After(now) {
		ci.Start = cur.Start
	}
	switch {
	case in.Duration < 0 || in.Duration > 0 && !in.End.IsZero():
		return nil, Errorf(EINVALID, "give either end or a positive duration, not both")
	case ci.End.IsZero():
		from := ci.Start
		if from.IsZero() || from.Before(now) {
			from = now // where validate puts a start in the past
		}
		length := cur.End.Sub(cur.Start)
		if in.Duration > 0 {
			length = in.Duration
		}
		ci.End = from.Add(length)
	}
	next, ps, err := s.validate(ctx, u, ci, now)
	if err != nil {
		return nil, err
	}
	next.ID, next.Requester = cur.ID, cur.Requester
	plan := Plan{}
	if ps.ApprovalRequired {
		if plan, err = s.cfg.Approvals.Plan(ctx, next, false); err != nil {
			return nil, err
		}
	}
	// Schedule the new round's deadline and reminders first: they do
	// nothing if the edit below fails, while a resent ticket without its
	// deadline would wait forever.
	plan.apply(next, now)
	if len(next.Stages) > 0 {
		next.State = StatePending
		if err := s.scheduleRound(ctx, next); err != nil {
			return nil, err
		}
	}
	var t *Ticket
	err = s.guarded(ctx, next, u.Email, id, next.End, true, func() (err error) {
		t, err = s.transition(ctx, id, func(t *Ticket) error {
			if t.State != StateRejected {
				return stateError(t, "edited")
			}
			t.Revisions = append(t.Revisions, Revision{
				Revision: t.Revision, Beneficiaries: t.Beneficiaries, PermissionSet: t.PermissionSet,
				Start: t.Start, End: t.End, Reason: t.Reason, Stages: t.Stages, Approvals: t.Approvals, Closed: t.Closed,
			})
			t.Revision++
			t.Beneficiaries, t.PermissionSet = slices.Clone(next.Beneficiaries), next.PermissionSet
			t.Start, t.End, t.Reason = next.Start, next.End, next.Reason
			t.RequesterGroups = slices.Clone(next.RequesterGroups)
			t.Closed, t.Extension = nil, nil
			plan.apply(t, now)
			comment := fmt.Sprintf("revision %d: %s", t.Revision, t.Reason)
			if len(t.Stages) == 0 {
				t.move(StateApproved, u.Email, "resend", comment, now)
			} else {
				t.move(StatePending, u.Email, "resend", comment, now)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.State == StateApproved {
		if err := s.cfg.Scheduler.Schedule(ctx, TaskActivate, t.ID, t.Start); err != nil {
			return nil, err
		}
		return t, nil
	}
	s.notify(ctx, Notification{Kind: NotifyApprovalNeeded, TicketID: t.ID, To: s.waitingFor(ctx, t, now),
		Message: fmt.Sprintf("%s resent ticket %s (revision %d): %s", t.Requester, t.ID, t.Revision, t.Reason)})
	return t, nil
}
