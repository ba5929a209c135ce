package broker

import (
	"context"
	"fmt"
	"time"
)

// Rescheduler is a Scheduler that can move one job to a later time without
// a moment when neither is scheduled (ServiceConfig.Rescheduler).
type Rescheduler interface {
	// Reschedule schedules kind for the ticket at to, then removes the job
	// that was due at from.
	Reschedule(ctx context.Context, kind TaskKind, ticketID string, from, to time.Time) error
}

// reschedule moves a ticket's job from one time to another.
func (s *Service) reschedule(ctx context.Context, kind TaskKind, id string, from, to time.Time) error {
	if s.cfg.Rescheduler != nil {
		return s.cfg.Rescheduler.Reschedule(ctx, kind, id, from, to)
	}
	// The old job does nothing once the ticket has moved on, so a failed
	// Unschedule only leaves a no-op behind; the new job must exist.
	if err := s.cfg.Scheduler.Unschedule(ctx, kind, id); err != nil {
		s.cfg.Logger.Warn("unschedule", "ticket", id, "task", kind, "err", err)
	}
	return s.cfg.Scheduler.Schedule(ctx, kind, id, to)
}

// ExtendInput asks for a later end of an active ticket.
type ExtendInput struct {
	// End is the new end; when zero, By is added to the current end.
	End    time.Time
	By     time.Duration
	Reason string
}

// Extend asks to move the end of an active ticket later. The caller must
// be its requester or a beneficiary. The extension goes through the
// ticket's approval rule (its extension stages, if the rule has them) as a
// fresh round while the ticket stays active; with no approval needed the
// end moves at once. The whole window may not exceed the permission set's
// maximum duration. A ticket whose end has passed is not extended, even
// before its expiry task has run. Errors: EUNAUTHENTICATED, EINVALID,
// ENOTFOUND, EFORBIDDEN, ECONFLICT (not active, ended, or an extension is
// already pending), EDUPLICATE (the longer window would overlap another
// open ticket of a beneficiary for the same account and permission set,
// guarded), ESTEPUP (the permission set asks for a more recent sign-in).
func (s *Service) Extend(ctx context.Context, id string, in ExtendInput) (*Ticket, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := notWorkload(u, "extend tickets (it files a new one)"); err != nil {
		return nil, err
	}
	reason, err := CleanText(TextRule{Field: "reason", Max: maxReasonLength, Required: true, MultiLine: true}, in.Reason)
	if err != nil {
		return nil, err
	}
	switch {
	case in.End.IsZero() && in.By <= 0:
		return nil, Errorf(EINVALID, "end is required")
	}
	cur, err := s.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cur.Involves(u.Email) {
		return nil, Errorf(EFORBIDDEN, "only the requester or a beneficiary may extend ticket %s", id)
	}
	if cur.BreakGlass != nil {
		return nil, Errorf(EINVALID, "break-glass ticket %s cannot be extended: break glass again if the emergency goes on", id)
	}
	ps, err := s.cfg.Registry.PermissionSet(ctx, cur.PermissionSet)
	if err != nil {
		return nil, err
	}
	if err := ps.StepUp().Check(u, s.now(), "extending a ticket for "+ps.Name); err != nil {
		return nil, err
	}
	plan := Plan{}
	if ps.ApprovalRequired {
		if plan, err = s.cfg.Approvals.Plan(ctx, cur, true); err != nil {
			return nil, err
		}
	}
	var oldEnd time.Time
	want := in.End.UTC().Truncate(time.Second)
	if in.End.IsZero() {
		want = cur.End.Add(in.By).Truncate(time.Second)
	}
	var t *Ticket
	err = s.guarded(ctx, cur, u.Email, id, want, false, func() (err error) {
		t, err = s.transition(ctx, id, func(t *Ticket) error {
			now := s.now()
			end := in.End.UTC().Truncate(time.Second)
			if in.End.IsZero() {
				end = t.End.Add(in.By).Truncate(time.Second)
			}
			switch {
			case t.State != StateActive:
				return stateError(t, "extended")
			case !now.Before(t.End):
				// Ended, though the expiry task has not run yet.
				return Errorf(ECONFLICT, "ticket %s ended at %s; it cannot be extended", t.ID, t.End.Format(time.RFC3339))
			case t.Extension != nil && t.Extension.State == ExtensionPending:
				return Errorf(ECONFLICT, "ticket %s already has an extension to %s waiting for approval", t.ID, t.Extension.End.Format(time.RFC3339))
			case !end.After(t.End):
				return Errorf(EINVALID, "end %s must be after the current end %s", end.Format(time.RFC3339), t.End.Format(time.RFC3339))
			case ps.MaxDuration > 0 && end.Sub(t.Start) > ps.MaxDuration:
				return Errorf(EINVALID, "the window %s to %s (%s) would exceed the maximum of %s for permission set %s",
					t.Start.Format(time.RFC3339), end.Format(time.RFC3339), end.Sub(t.Start), ps.MaxDuration, ps.Name)
			}
			oldEnd = t.End
			e := &Extension{End: end, PreviousEnd: t.End, Reason: reason, RequestedBy: u.Email, RequestedAt: now,
				State: ExtensionPending, Stages: plan.Stages, Approvals: []Decision{}}
			t.Extension = e
			if len(plan.Stages) == 0 {
				e.State = ExtensionApproved
				t.End = end
				t.History = append(t.History, Event{At: now, Actor: u.Email, Action: "extend",
					Comment: fmt.Sprintf("end moved from %s to %s: %s", oldEnd.Format(time.RFC3339), end.Format(time.RFC3339), reason)})
				return nil
			}
			e.PendingApprovers = append([]string(nil), plan.Stages[0].Approvers...)
			if plan.RemindEvery > 0 {
				t.RemindEvery = Duration(plan.RemindEvery)
			}
			t.History = append(t.History, Event{At: now, Actor: u.Email, Action: "request extension",
				Comment: fmt.Sprintf("to %s: %s", end.Format(time.RFC3339), reason)})
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if t.Extension.State == ExtensionApproved {
		s.crash(CrashExtendSaved)
		if err := s.reschedule(ctx, TaskExpire, t.ID, oldEnd, t.End); err != nil {
			return nil, err
		}
		return t, nil
	}
	if err := s.scheduleRound(ctx, t); err != nil {
		s.cfg.Logger.Warn("schedule extension reminders", "ticket", t.ID, "err", err)
	}
	s.notify(ctx, Notification{Kind: NotifyApprovalNeeded, TicketID: t.ID, To: s.waitingFor(ctx, t, s.now()),
		Message: fmt.Sprintf("%s asks to extend ticket %s to %s: %s", u.Email, t.ID, t.Extension.End.Format(time.RFC3339), reason)})
	return t, nil
}

// closeExtension closes t's pending extension, if any, as the ticket ends
// at now: it was not decided in time, and it no longer waits for anyone.
func closeExtension(t *Ticket, now time.Time, why string) {
	e := t.Extension
	if e == nil || e.State != ExtensionPending {
		return
	}
	e.State, e.PendingApprovers = ExtensionClosed, nil
	e.Closed = &Decision{Stage: e.Stage, By: "jit", Comment: why, At: now}
	t.History = append(t.History, Event{At: now, Actor: "jit", Action: "close extension", Comment: why})
}
