package broker

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// ActivityQuery asks for what was done in one account while a ticket was
// active. Each identifier is looked up on its own (CloudTrail takes one
// lookup attribute per call) and the results are merged; a source keeps
// only the events of the ticket's scope: in AccountID, between Start and
// End, and by the ticket's own sessions.
type ActivityQuery struct {
	// TicketID names the ticket; with it the source derives the role
	// session names (jit-<ticket>-<user>) of RoleSessionsOf.
	TicketID  string
	AccountID string
	// AccessKeyIDs are the access keys issued for the ticket (role path).
	AccessKeyIDs []string
	// RoleSessionsOf are the beneficiaries whose role sessions for the
	// ticket are looked up by session name (role path).
	RoleSessionsOf []string
	// Usernames are the beneficiaries on the Identity Center path; only
	// their sessions of PermissionSetARN's role in AccountID count.
	Usernames []string
	// PermissionSetARN is the Identity Center permission set the ticket
	// was assigned (Identity Center path).
	PermissionSetARN string
	// Start and End are the window the ticket was active: from its
	// activation to its end, or to when it was terminated or expired,
	// whichever came first; a source looks up to End or now, whichever
	// is earlier.
	Start, End time.Time
	// Shared are the times when a beneficiary's Identity Center sessions
	// of the permission set were also another ticket's (an overlapping
	// ticket of the same user, account and permission set): CloudTrail
	// cannot tell the two apart, so a source marks their events Shared.
	Shared []ActivitySpan
}

// ActivitySpan is a time when one beneficiary's Identity Center role
// sessions were also another ticket's.
type ActivitySpan struct {
	User       string
	Start, End time.Time
}

// ActivityEvent is one CloudTrail event of a ticket's window. It never
// carries credentials beyond the public access key id.
type ActivityEvent struct {
	EventID        string    `json:"event_id"`
	EventName      string    `json:"event_name"`
	EventSource    string    `json:"event_source"`
	EventTime      time.Time `json:"event_time"`
	Region         string    `json:"region,omitempty"`
	Username       string    `json:"username,omitempty"`
	AccessKeyID    string    `json:"access_key_id,omitempty"`
	ReadOnly       bool      `json:"read_only"`
	ErrorCode      string    `json:"error_code,omitempty"`
	Resources      []string  `json:"resources,omitempty"`
	SourceIdentity string    `json:"source_identity,omitempty"`
	// Shared marks an Identity Center event made while another ticket
	// granted the same user the same permission set in the same account:
	// it is the same role session, so the event is both tickets'.
	Shared bool `json:"shared,omitempty"`
}

// ActivitySource looks up what was done in AWS (CloudTrail).
type ActivitySource interface {
	// Lookup returns the events matching any identifier of q in q's
	// window, newest first, each event once. EUNAVAILABLE when the trail
	// cannot be read now (throttled past retries, no access).
	Lookup(ctx context.Context, q ActivityQuery) ([]ActivityEvent, error)
}

// Activity returns what the ticket's beneficiaries did in its account
// while it was active (from its activation to its end or to when it was
// terminated, or now if earlier), newest first: CloudTrail events of the
// access keys issued for it and of its role session names (role path), or
// of its beneficiaries' sessions of its permission set's Identity Center
// role (Identity Center path), events another overlapping ticket shares
// marked Shared. Its requester, and its approvers (also as delegates) and
// administrators under the rules and delegations in force now, may see it;
// other people who may see the ticket get
// EFORBIDDEN, everyone else ENOTFOUND. A ticket that was never active has
// no activity. Errors: EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN,
// EUNAVAILABLE (no activity source configured, or the trail cannot be
// read now).
func (s *Service) Activity(ctx context.Context, id string) ([]ActivityEvent, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayAudit(ctx, t, u); err != nil {
		return nil, err
	}
	if s.cfg.Activity == nil {
		return nil, Errorf(EUNAVAILABLE, "activity lookup is not configured")
	}
	if !wasActive(t) {
		return []ActivityEvent{}, nil
	}
	return s.ticketActivity(ctx, t)
}

// ticketActivity looks up the activity of t, which was active, for a
// caller already allowed to see it (Activity, Hint).
func (s *Service) ticketActivity(ctx context.Context, t *Ticket) ([]ActivityEvent, error) {
	var err error
	start, end := activeWindow(t)
	q := ActivityQuery{TicketID: t.ID, AccountID: t.AccountID, Start: start, End: end}
	role, ic := true, false
	if ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet); err == nil {
		role, ic = usesRole(ps), usesIdentityCenter(ps)
		q.PermissionSetARN = ps.ARN
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	} else {
		// Unregistered since: look wherever the ticket may have acted.
		ic = true
	}
	if role {
		for _, se := range t.Sessions {
			if !slices.Contains(q.AccessKeyIDs, se.AccessKeyID) {
				q.AccessKeyIDs = append(q.AccessKeyIDs, se.AccessKeyID)
			}
		}
		q.RoleSessionsOf = slices.Clone(t.Beneficiaries)
	}
	if arn := assignedSet(t); arn != "" {
		// What was granted, whatever the registry says now.
		q.PermissionSetARN = arn
	}
	if ic && q.PermissionSetARN != "" {
		q.Usernames = slices.Clone(t.Beneficiaries)
		if q.Shared, err = s.sharedSpans(ctx, t, q); err != nil {
			return nil, err
		}
	} else {
		q.PermissionSetARN = ""
	}
	evs, err := s.cfg.Activity.Lookup(ctx, q)
	if err != nil {
		return nil, err
	}
	if evs == nil {
		evs = []ActivityEvent{}
	}
	return evs, nil
}

// mayAudit returns EFORBIDDEN unless u requested t, or approves or
// administers it under the rules and delegations in force (standingOf);
// ENOTFOUND when t is not u's to see now.
func (s *Service) mayAudit(ctx context.Context, t *Ticket, u User) error {
	st, err := s.standingOn(ctx, t, u)
	if err != nil {
		return err
	}
	if t.Requester == u.Email || st.oversees() {
		return nil
	}
	return Errorf(EFORBIDDEN, "only the requester, approvers and administrators of ticket %s may see its activity", t.ID)
}

// activeWindow returns when t became active and when it stopped being
// active: the time it was terminated or expired, or its end while it is
// still active. A history without the activation (stored before it was
// recorded) counts from the ticket's start.
func activeWindow(t *Ticket) (start, end time.Time) {
	start, end = t.Start, t.End
	activated := false
	for _, e := range t.History {
		if e.To == StateActive && !activated {
			start, activated = e.At, true
		} else if e.From == StateActive && e.To != StateActive {
			return start, e.At
		}
	}
	return start, end
}

// assignedSet returns the Identity Center permission set ARN of t's
// assignments ("" if it has none), from their keys
// "<account>/<permission set ARN>/<user>" (Assignment.Key).
func assignedSet(t *Ticket) string {
	for _, g := range t.Grants {
		if g.Kind != GrantAssignment || g.User == "" {
			continue
		}
		rest, ok := strings.CutPrefix(g.Key, t.AccountID+"/")
		if arn, ok2 := strings.CutSuffix(rest, "/"+g.User); ok && ok2 && arn != "" {
			return arn
		}
	}
	return ""
}

// sharedSpans returns when each beneficiary of t also held q's permission
// set in t's account through another ticket, inside q's window. Other
// tickets are those the store lists for the beneficiary (its newest
// thousand at most); they are read, never shown.
func (s *Service) sharedSpans(ctx context.Context, t *Ticket, q ActivityQuery) ([]ActivitySpan, error) {
	var out []ActivitySpan
	for _, b := range t.Beneficiaries {
		others, err := s.cfg.Store.Tickets(ctx, TicketFilter{Beneficiary: b})
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.ID == t.ID || o.AccountID != t.AccountID || !slices.Contains(o.Beneficiaries, b) ||
				!wasActive(o) || assignedSet(o) != q.PermissionSetARN {
				continue
			}
			os, oe := activeWindow(o)
			from, to := maxTime(q.Start, os), minTime(q.End, oe)
			if !to.Before(from) {
				out = append(out, ActivitySpan{User: b, Start: from, End: to})
			}
		}
	}
	slices.SortFunc(out, func(x, y ActivitySpan) int {
		return cmp.Or(strings.Compare(x.User, y.User), x.Start.Compare(y.Start), x.End.Compare(y.End))
	})
	return out, nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// wasActive reports whether t ever became active.
func wasActive(t *Ticket) bool {
	if t.State == StateActive || len(t.Sessions) > 0 {
		return true
	}
	return slices.ContainsFunc(t.History, func(e Event) bool { return e.To == StateActive })
}
