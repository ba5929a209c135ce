package broker

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Kinds of automatic approval (AutoApproval.Kind).
const (
	AutoPreApproval = "preapproval"
	AutoOnCall      = "on_call"
)

// AutoApproval says what approved a decision nobody made by pressing
// Approve: a pre-approval (its id; the decision's By is its author) or a
// rule's on-call auto-approval (the provider and schedule that said the
// ticket's people were on call; the decision's By is "jit").
type AutoApproval struct {
	Kind        string `json:"kind"`
	PreApproval string `json:"preapproval,omitempty"`
	Provider    string `json:"provider,omitempty"`
	Schedule    string `json:"schedule,omitempty"`
}

// OnCallSource tells who is on call on a schedule of a provider
// (OnCallPagerDuty, OnCallOpsgenie) at a moment.
type OnCallSource interface {
	// OnCall returns the emails of those on call at at. Any error (the
	// provider unreachable, not configured, the schedule unknown) means
	// nobody is auto-approved: the ticket waits for people.
	OnCall(ctx context.Context, provider, schedule string, at time.Time) ([]string, error)
}

// onCallTimeout bounds the on-call look-up made while a ticket is filed.
const onCallTimeout = 5 * time.Second

// autoApprove applies to t, a ticket just planned as pending at now and
// not yet stored, the approvals that need nobody to press Approve, each
// checked against the rules in force now and recorded as a decision with
// Auto set and a history event "auto approve":
//
//   - t.Requester's pre-approvals that cover t (PreApproval.Covers), each
//     as its author's one approval of the stage t is on, when the author
//     may approve that stage now (the engine's Decide, with their groups
//     now). Pre-approvals by several approvers may fill a quorum and
//     several stages in turn; a stage none of them approves waits.
//   - then, when the plan's rule has an on-call auto-approval and t starts
//     now, every remaining stage, if the requester and every beneficiary
//     are on call on the rule's schedule now.
//
// When the last stage is approved t moves to StateApproved. Nothing here
// fails the filing: a store or provider error leaves t waiting for people
// (and is logged).
func (s *Service) autoApprove(ctx context.Context, t *Ticket, plan Plan, now time.Time) {
	if s.applyPreApprovals(ctx, t, now) {
		return
	}
	if plan.OnCall != nil && s.onCall(ctx, t, *plan.OnCall, now) {
		auto := &AutoApproval{Kind: AutoOnCall, Provider: plan.OnCall.Provider, Schedule: plan.OnCall.Schedule}
		comment := fmt.Sprintf("on call: %s schedule %s", auto.Provider, auto.Schedule)
		for st := t.Stage; st < len(t.Stages); st++ {
			t.Approvals = append(t.Approvals, Decision{Stage: st, By: "jit", Comment: comment, At: now, Auto: auto})
		}
		t.Stage = len(t.Stages)
		t.PendingApprovers = nil
		t.move(StateApproved, "jit", "auto approve", comment, now)
	}
}

// applyPreApprovals applies the pre-approvals covering t, in as many
// passes as make progress, and reports whether t is approved.
func (s *Service) applyPreApprovals(ctx context.Context, t *Ticket, now time.Time) bool {
	if s.cfg.PreApprovals == nil {
		return false
	}
	all, err := s.cfg.PreApprovals.PreApprovals(ctx, PreApprovalFilter{For: t.Requester})
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "pre-approvals for a new ticket; it waits for approvers", "ticket", t.ID, "err", err)
		return false
	}
	all = slices.DeleteFunc(all, func(p PreApproval) bool { return !p.Covers(t, now) })
	for progress := true; progress && len(all) > 0; {
		progress = false
		for i := 0; i < len(all); i++ {
			p := all[i]
			author := User{Email: p.By}
			if s.cfg.Groups != nil {
				if author.Groups, err = s.cfg.Groups.GroupsOf(ctx, p.By); err != nil {
					s.cfg.Logger.WarnContext(ctx, "groups of a pre-approval's author", "ticket", t.ID, "preapproval", p.ID, "err", err)
					continue
				}
			}
			if _, err := s.cfg.Approvals.Decide(t, author, nil, now); err != nil {
				continue // not (or no longer) an approver of this stage, or already counted
			}
			comment := fmt.Sprintf("pre-approval %s: %s", p.ID, p.Reason)
			done, err := s.cfg.Approvals.Approve(t, author, nil, comment, now)
			if err != nil {
				continue
			}
			t.Approvals[len(t.Approvals)-1].Auto = &AutoApproval{Kind: AutoPreApproval, PreApproval: p.ID}
			all = slices.Delete(all, i, i+1)
			i--
			progress = true
			if done {
				t.PendingApprovers = nil
				t.move(StateApproved, p.By, "auto approve", comment, now)
				return true
			}
			t.History = append(t.History, Event{At: now, Actor: p.By, Action: "auto approve", Comment: comment})
		}
	}
	return false
}

// onCall reports whether t starts now and its requester and beneficiaries
// are all on call on oc now.
func (s *Service) onCall(ctx context.Context, t *Ticket, oc OnCallRule, now time.Time) bool {
	if s.cfg.OnCall == nil || t.Start.After(now) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, onCallTimeout)
	defer cancel()
	emails, err := s.cfg.OnCall.OnCall(ctx, oc.Provider, oc.Schedule, now)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "on-call look-up; the ticket waits for approvers", "ticket", t.ID, "provider", oc.Provider, "schedule", oc.Schedule, "err", err)
		return false
	}
	on := map[string]bool{}
	for _, e := range emails {
		on[NormalizeEmail(e)] = true
	}
	if !on[t.Requester] {
		return false
	}
	for _, b := range t.Beneficiaries {
		if !on[b] {
			return false
		}
	}
	return true
}
