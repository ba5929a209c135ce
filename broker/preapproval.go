package broker

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxPreApproval is the longest window a pre-approval may cover.
const MaxPreApproval = 30 * 24 * time.Hour

// PreApproval lets For's own tickets for an account and permission set
// be approved at once, inside [Start, End), by its author By: a ticket
// that For files for themself alone, whose whole window lies inside the
// pre-approval's, gets By's approval as soon as it is filed, recorded as
// an automatic decision naming the pre-approval (Decision.Auto), in the
// ticket's history and in the audit log. The approval is By's, checked
// when the ticket is filed against the rules in force then (By must still
// approve the stage the ticket is on, by name or through their groups
// now): it counts once, like By pressing Approve, so a stage that needs
// more approvals, or a later stage By does not approve, still waits for
// people (or for other pre-approvals). A revoked pre-approval approves
// nothing from then on; tickets it already approved keep their approval
// (an approver who wants them ended terminates them).
type PreApproval struct {
	ID            string    `json:"id"`
	By            string    `json:"by"`
	For           string    `json:"for"`
	AccountID     string    `json:"account_id"`
	PermissionSet string    `json:"permission_set"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Reason        string    `json:"reason"`
	CreatedAt     time.Time `json:"created_at"`
	// RevokedAt and RevokedBy are set once it is revoked.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// Covers reports whether p approves t at now: not revoked, t is For's
// alone, for p's account and permission set, inside p's window.
func (p PreApproval) Covers(t *Ticket, now time.Time) bool {
	return p.RevokedAt == nil && now.Before(p.End) &&
		t.Requester == p.For && len(t.Beneficiaries) == 1 && t.Beneficiaries[0] == p.For &&
		t.AccountID == p.AccountID && t.PermissionSet == p.PermissionSet &&
		!t.Start.Before(p.Start) && !t.End.After(p.End)
}

// PreApprovalFilter selects pre-approvals made by or for a person; set
// fields are combined with OR, and empty ones match nothing. All selects
// every pre-approval the store keeps (By and For are then ignored).
type PreApprovalFilter struct {
	By  string
	For string
	All bool
}

// PreApprovalStore keeps pre-approvals, each until a while after its end.
type PreApprovalStore interface {
	// CreatePreApproval stores p.
	CreatePreApproval(ctx context.Context, p PreApproval) error
	// PreApprovals returns those matching f, by start.
	PreApprovals(ctx context.Context, f PreApprovalFilter) ([]PreApproval, error)
	// PreApproval returns one. ENOTFOUND if there is none.
	PreApproval(ctx context.Context, id string) (PreApproval, error)
	// RevokePreApproval marks one revoked by by at at, atomically, and
	// returns it. ENOTFOUND if there is none, ECONFLICT if it was revoked.
	RevokePreApproval(ctx context.Context, id, by string, at time.Time) (PreApproval, error)
}

// PreApproveInput is a pre-approval the caller makes.
type PreApproveInput struct {
	For           string
	AccountID     string
	PermissionSet string
	// Start defaults to now; a start up to StartSkew in the past becomes now.
	Start time.Time
	// End, or else Duration from the start; exactly one is needed.
	End      time.Time
	Duration time.Duration
	Reason   string
}

// PreApprove pre-approves in.For's tickets for an account and permission
// set inside a window of at most MaxPreApproval. The caller must approve
// some stage of the rule in force for such a ticket (by name or through
// their groups), and may not pre-approve themself. Errors:
// EUNAUTHENTICATED, EINVALID, ENOTFOUND (account or permission set),
// EFORBIDDEN (not an approver of it), EUNAVAILABLE (no store).
func (s *Service) PreApprove(ctx context.Context, in PreApproveInput) (*PreApproval, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.PreApprovals == nil {
		return nil, Errorf(EUNAVAILABLE, "pre-approvals are not enabled on this server")
	}
	now := s.now()
	who, err := CleanText(TextRule{Field: "for", Max: maxEmailLength, Required: true, Identifier: true}, in.For)
	if err != nil {
		return nil, err
	}
	who = NormalizeEmail(who)
	if a, err := mail.ParseAddress(who); err != nil || a.Address != who {
		return nil, Errorf(EINVALID, "for %q is not an email address", in.For)
	}
	if who == u.Email {
		return nil, Errorf(EINVALID, "you cannot pre-approve yourself")
	}
	if !accountIDPattern().MatchString(in.AccountID) {
		return nil, Errorf(EINVALID, "account_id %q must be 12 digits", in.AccountID)
	}
	if in.PermissionSet == "" {
		return nil, Errorf(EINVALID, "permission_set is required")
	}
	start := in.Start.UTC().Truncate(time.Second)
	if in.Start.IsZero() || (start.Before(now) && !start.Before(now.Add(-s.cfg.StartSkew))) {
		start = now.Truncate(time.Second)
	}
	end := in.End.UTC().Truncate(time.Second)
	switch {
	case !in.End.IsZero() && in.Duration != 0:
		return nil, Errorf(EINVALID, "give either end or duration, not both")
	case in.Duration < 0:
		return nil, Errorf(EINVALID, "duration must be positive")
	case in.Duration > 0:
		end = start.Add(in.Duration).Truncate(time.Second)
	}
	switch {
	case start.Before(now.Add(-s.cfg.StartSkew)):
		return nil, Errorf(EINVALID, "start %s is in the past", start.Format(time.RFC3339))
	case start.After(now.Add(s.cfg.MaxLeadTime)):
		return nil, Errorf(EINVALID, "start %s is too far ahead: a pre-approval may start at most %s from now", start.Format(time.RFC3339), days(s.cfg.MaxLeadTime))
	case in.End.IsZero() && in.Duration == 0:
		return nil, Errorf(EINVALID, "end or duration is required")
	case !end.After(start):
		return nil, Errorf(EINVALID, "end %s must be after start %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
	case end.Sub(start) > MaxPreApproval:
		return nil, Errorf(EINVALID, "a pre-approval may last at most %s", days(MaxPreApproval))
	}
	reason, err := CleanText(TextRule{Field: "reason", Max: maxReasonLength, Required: true, MultiLine: true}, in.Reason)
	if err != nil {
		return nil, err
	}
	acct, err := s.cfg.Registry.Account(ctx, in.AccountID)
	if err != nil {
		return nil, err
	}
	ps, err := s.cfg.Registry.PermissionSet(ctx, in.PermissionSet)
	if err != nil {
		return nil, err
	}
	if !ps.ApprovalRequired {
		return nil, Errorf(EINVALID, "permission set %s needs no approval; there is nothing to pre-approve", ps.Name)
	}
	probe := &Ticket{ID: "pre-approval", State: StatePending, Requester: who, Beneficiaries: []string{who},
		AccountID: acct.ID, PermissionSet: ps.Name, Start: start, End: end}
	if !s.approvesSome(ctx, probe, u, now) {
		return nil, Errorf(EFORBIDDEN, "%s does not approve %s in account %s for %s under the rules in force", u.Email, ps.Name, acct.ID, who)
	}
	p := PreApproval{ID: s.cfg.NewID(), By: u.Email, For: who, AccountID: acct.ID, PermissionSet: ps.Name,
		Start: start, End: end, Reason: reason, CreatedAt: now}
	if err := s.cfg.PreApprovals.CreatePreApproval(ctx, p); err != nil {
		return nil, err
	}
	s.auditPreApproval(ctx, u.Email, "pre-approve", p)
	return &p, nil
}

// approvesSome reports whether u approves some stage of the plan the
// rules in force make for t.
func (s *Service) approvesSome(ctx context.Context, t *Ticket, u User, now time.Time) bool {
	plan, err := s.cfg.Approvals.Plan(ctx, t, false)
	if err != nil {
		return false
	}
	for _, st := range plan.Stages {
		if s.cfg.Approvals.Approves(t, st, u, nil, now) {
			return true
		}
	}
	return false
}

// PreApprovalQuery selects and pages the pre-approvals a caller lists
// (ListPreApprovals). Empty fields match everything; set ones are
// combined with AND.
type PreApprovalQuery struct {
	// All lists everyone's pre-approvals (administrators only); else the
	// caller's own: those they made or that are for them.
	All bool
	// Person: only those for this person (email, case-insensitive).
	Person string
	// AccountID and PermissionSet must match exactly.
	AccountID, PermissionSet string
	// Ended: true for those no longer in force (revoked, or past their
	// end), false for those in force (now or from a later start).
	Ended *bool
	// Cursor, from a previous page's NextCursor, starts after that page.
	Cursor string
	// Limit is the page size: 1 to MaxPageSize (default MaxPageSize).
	Limit int
}

// PreApprovalPage is one page of ListPreApprovals, by start then id.
type PreApprovalPage struct {
	PreApprovals []PreApproval
	// Total counts every pre-approval the query matches, on every page.
	Total int
	// NextCursor continues after this page; empty on the last page.
	NextCursor string
}

// ListPreApprovals lists one page of pre-approvals, by start: the
// caller's own (made by or for them), or with q.All everyone's, for
// administrators. Revoked and ended ones are included while they are
// kept (q.Ended filters them). Errors: EUNAUTHENTICATED, EINVALID,
// EFORBIDDEN (q.All by someone who is not an administrator).
func (s *Service) ListPreApprovals(ctx context.Context, q PreApprovalQuery) (PreApprovalPage, error) {
	u, err := caller(ctx)
	if err != nil {
		return PreApprovalPage{}, err
	}
	if err := q.check(); err != nil {
		return PreApprovalPage{}, err
	}
	f := PreApprovalFilter{By: u.Email, For: u.Email}
	if q.All {
		if ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
			return PreApprovalPage{}, err
		} else if !ok {
			return PreApprovalPage{}, Errorf(EFORBIDDEN, "only administrators may list everyone's pre-approvals (all=true); without it you see those you made or that are for you")
		}
		f = PreApprovalFilter{All: true}
	}
	page := PreApprovalPage{PreApprovals: []PreApproval{}}
	if s.cfg.PreApprovals == nil {
		return page, nil
	}
	ps, err := s.cfg.PreApprovals.PreApprovals(ctx, f)
	if err != nil {
		return PreApprovalPage{}, err
	}
	now := s.now()
	var matched []PreApproval
	for _, p := range ps {
		if q.matches(p, now) {
			matched = append(matched, p)
		}
	}
	slices.SortFunc(matched, comparePreApprovals)
	page.Total = len(matched)
	start := 0
	if q.Cursor != "" {
		after, err := decodePreApprovalCursor(q.Cursor)
		if err != nil {
			return PreApprovalPage{}, err
		}
		start, _ = slices.BinarySearchFunc(matched, after, comparePreApprovals)
		if start < len(matched) && comparePreApprovals(matched[start], after) == 0 {
			start++
		}
	}
	end := min(start+q.Limit, len(matched))
	page.PreApprovals = append(page.PreApprovals, matched[start:end]...)
	if end < len(matched) && end > start {
		last := matched[end-1]
		page.NextCursor = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d\x00%s", last.Start.UnixNano(), last.ID))
	}
	return page, nil
}

// check validates q and fills in its defaults.
func (q *PreApprovalQuery) check() error {
	switch {
	case q.Limit == 0:
		q.Limit = MaxPageSize
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return Errorf(EINVALID, "limit must be between 1 and %d", MaxPageSize)
	}
	if q.AccountID != "" && !accountIDPattern().MatchString(q.AccountID) {
		return Errorf(EINVALID, "account %q must be 12 digits", q.AccountID)
	}
	if len(q.Person) > maxEmailLength || len(q.PermissionSet) > maxEmailLength {
		return Errorf(EINVALID, "person and permission_set may have at most %d characters", maxEmailLength)
	}
	q.Person = NormalizeEmail(q.Person)
	return nil
}

// matches reports whether p passes q's filters at now.
func (q *PreApprovalQuery) matches(p PreApproval, now time.Time) bool {
	ended := p.RevokedAt != nil || !now.Before(p.End)
	return (q.Person == "" || NormalizeEmail(p.For) == q.Person) &&
		(q.AccountID == "" || p.AccountID == q.AccountID) &&
		(q.PermissionSet == "" || p.PermissionSet == q.PermissionSet) &&
		(q.Ended == nil || *q.Ended == ended)
}

// comparePreApprovals orders by start, then id.
func comparePreApprovals(a, b PreApproval) int {
	return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
}

// decodePreApprovalCursor reads a NextCursor: the start and id of the
// last pre-approval of a page.
func decodePreApprovalCursor(c string) (PreApproval, error) {
	bad := Errorf(EINVALID, "cursor is not one this list returned")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return PreApproval{}, bad
	}
	nanos, id, ok := strings.Cut(string(raw), "\x00")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if !ok || err != nil || id == "" {
		return PreApproval{}, bad
	}
	return PreApproval{ID: id, Start: time.Unix(0, n).UTC()}, nil
}

// RevokePreApproval revokes a pre-approval: it approves nothing from now
// on, and tickets it already approved keep their approval. Its author and
// administrators may; others get ENOTFOUND, as if it did not exist.
// Errors: EUNAUTHENTICATED, ENOTFOUND, ECONFLICT (already revoked).
func (s *Service) RevokePreApproval(ctx context.Context, id string) (*PreApproval, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if s.cfg.PreApprovals == nil {
		return nil, Errorf(ENOTFOUND, "pre-approval %s not found", id)
	}
	p, err := s.cfg.PreApprovals.PreApproval(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.By != u.Email {
		if ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
			return nil, err
		} else if !ok {
			return nil, Errorf(ENOTFOUND, "pre-approval %s not found", id)
		}
	}
	p, err = s.cfg.PreApprovals.RevokePreApproval(ctx, id, u.Email, s.now())
	if err != nil {
		return nil, err
	}
	s.auditPreApproval(ctx, u.Email, "revoke pre-approval", p)
	return &p, nil
}

// auditPreApproval records a pre-approval made or revoked by actor.
func (s *Service) auditPreApproval(ctx context.Context, actor, action string, p PreApproval) {
	s.record(ctx, AuditEvent{At: s.now(), Type: "preapproval." + strings.ReplaceAll(strings.ReplaceAll(action, " ", "_"), "-", ""), Actor: actor, Action: action,
		AccountID: p.AccountID, PermissionSet: p.PermissionSet,
		Detail: fmt.Sprintf("%s pre-approves %s from %s to %s (%s): %s", p.By, p.For, p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), p.ID, p.Reason)})
}
