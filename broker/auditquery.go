package broker

import (
	"context"
	"time"
)

// AuditQuery selects audit events; empty fields match everything.
type AuditQuery struct {
	TicketID  string
	User      string // the actor, or the approver a delegate acted for
	AccountID string
	Type      string // exact, or a prefix ending in "." ("ticket.")
	Since     time.Time
	Until     time.Time
	// Cursor continues a listing where the previous page ended.
	Cursor string
	// Limit is the page size: default 100, at most 1000.
	Limit int
}

// Matches reports whether e satisfies every field set in q.
func (q AuditQuery) Matches(e AuditEvent) bool {
	switch {
	case q.TicketID != "" && e.TicketID != q.TicketID:
		return false
	case q.User != "" && e.Actor != q.User && e.OnBehalfOf != q.User:
		return false
	case q.AccountID != "" && e.AccountID != q.AccountID:
		return false
	case q.Type != "" && e.Type != q.Type && !(q.Type[len(q.Type)-1] == '.' && len(e.Type) > len(q.Type) && e.Type[:len(q.Type)] == q.Type):
		return false
	case !q.Since.IsZero() && e.At.Before(q.Since):
		return false
	case !q.Until.IsZero() && e.At.After(q.Until):
		return false
	}
	return true
}

// AuditReader reads the audit log.
type AuditReader interface {
	// Query returns up to q.Limit events matching q and keep (nil: all),
	// newest first, and the cursor of the next page ("" at the end).
	Query(ctx context.Context, q AuditQuery, keep func(AuditEvent) bool) ([]AuditEvent, string, error)
}

// AuditPage is one page of audit events, newest first.
type AuditPage struct {
	Events []AuditEvent `json:"events"`
	// Next is the cursor of the next page; empty at the end.
	Next string `json:"next,omitempty"`
}

// AuditEvents lists audit events matching q. Administrators see every
// event; others see only events about tickets they may see. Errors:
// EUNAUTHENTICATED, EINVALID, EUNAVAILABLE (no audit reader configured).
func (s *Service) AuditEvents(ctx context.Context, q AuditQuery) (AuditPage, error) {
	u, err := caller(ctx)
	if err != nil {
		return AuditPage{}, err
	}
	if s.cfg.AuditReader == nil {
		return AuditPage{}, Errorf(EUNAVAILABLE, "the audit log cannot be read here")
	}
	switch {
	case q.Limit == 0:
		q.Limit = 100
	case q.Limit < 0 || q.Limit > 1000:
		return AuditPage{}, Errorf(EINVALID, "limit must be between 1 and 1000")
	}
	var keep func(AuditEvent) bool
	if ok, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", ""); err != nil {
		return AuditPage{}, err
	} else if !ok {
		seen := map[string]bool{}
		keep = func(e AuditEvent) bool {
			if e.TicketID == "" {
				return false
			}
			v, ok := seen[e.TicketID]
			if !ok {
				_, err := s.Ticket(ctx, e.TicketID)
				v = err == nil
				seen[e.TicketID] = v
			}
			return v
		}
	}
	events, next, err := s.cfg.AuditReader.Query(ctx, q, keep)
	if err != nil {
		return AuditPage{}, err
	}
	if events == nil {
		events = []AuditEvent{}
	}
	return AuditPage{Events: events, Next: next}, nil
}

// Timeline returns every audit event of a ticket the caller may see,
// oldest first. Errors: EUNAUTHENTICATED, ENOTFOUND, EUNAVAILABLE.
func (s *Service) Timeline(ctx context.Context, id string) ([]AuditEvent, error) {
	if _, err := s.Ticket(ctx, id); err != nil {
		return nil, err
	}
	if s.cfg.AuditReader == nil {
		return nil, Errorf(EUNAVAILABLE, "the audit log cannot be read here")
	}
	var out []AuditEvent
	q := AuditQuery{TicketID: id, Limit: 1000}
	for {
		page, next, err := s.cfg.AuditReader.Query(ctx, q, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			break
		}
		q.Cursor = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if out == nil {
		out = []AuditEvent{}
	}
	return out, nil
}
