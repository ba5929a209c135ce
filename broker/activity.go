package broker

import (
	"context"
	"slices"
	"time"
)

// ActivityQuery asks for what was done in one account during a ticket's
// window. Each identifier is looked up on its own (CloudTrail takes one
// lookup attribute per call) and the results are merged.
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
	// Usernames are looked up as they are (Identity Center path: the
	// beneficiaries' sign-in names).
	Usernames []string
	// Start and End are the ticket's window; a source looks up to End or
	// now, whichever is earlier.
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
}

// ActivitySource looks up what was done in AWS (CloudTrail).
type ActivitySource interface {
	// Lookup returns the events matching any identifier of q in q's
	// window, newest first, each event once. EUNAVAILABLE when the trail
	// cannot be read now (throttled past retries, no access).
	Lookup(ctx context.Context, q ActivityQuery) ([]ActivityEvent, error)
}

// Activity returns what the ticket's beneficiaries did in its account
// during its window (from its start to its end, or now if earlier), newest
// first: CloudTrail events of the access keys issued for it and of its
// role session names (role path) or of its beneficiaries' user names
// (Identity Center path). Its requester, and its approvers (also as
// delegates) and administrators under the rules and delegations in force
// now, may see it; other people who may see the ticket get
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
	q := ActivityQuery{TicketID: t.ID, AccountID: t.AccountID, Start: t.Start, End: t.End}
	role, ic := true, false
	if ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet); err == nil {
		role, ic = usesRole(ps), usesIdentityCenter(ps)
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
	if ic {
		q.Usernames = slices.Clone(t.Beneficiaries)
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

// wasActive reports whether t ever became active.
func wasActive(t *Ticket) bool {
	if t.State == StateActive || len(t.Sessions) > 0 {
		return true
	}
	return slices.ContainsFunc(t.History, func(e Event) bool { return e.To == StateActive })
}
