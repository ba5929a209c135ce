package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Observer is told about every ticket change the service stores, after it
// is stored: metrics count transitions and latencies from it. It must not
// block and never fails the change.
type Observer interface {
	// TicketChanged reports that t was stored with the history events in
	// added appended by this change (a new ticket: all of its history).
	TicketChanged(ctx context.Context, t *Ticket, added []Event)
}

// changed tells the observer and the audit about one stored change of t
// whose history grew by added.
func (s *Service) changed(ctx context.Context, t *Ticket, added []Event) {
	if len(added) == 0 {
		return
	}
	for _, e := range added {
		s.auditTicket(ctx, t, e)
	}
	s.scheduleHint(ctx, t, added)
	if s.cfg.Observer != nil {
		s.cfg.Observer.TicketChanged(context.WithoutCancel(ctx), t, added)
	}
}

// auditTicket records one history event of t in the audit log: its
// action as the type ("ticket.approve"), the state change, and the person
// a delegate acted for.
func (s *Service) auditTicket(ctx context.Context, t *Ticket, e Event) {
	if s.cfg.Audit == nil {
		return
	}
	by, forWhom, _ := strings.Cut(e.Actor, " for ")
	a := AuditEvent{
		At: e.At, Type: "ticket." + strings.ReplaceAll(e.Action, " ", "_"), Actor: by, OnBehalfOf: forWhom,
		Action: e.Action, TicketID: t.ID, AccountID: t.AccountID, PermissionSet: t.PermissionSet,
		Group: t.Group, From: string(e.From), To: string(e.To), Detail: e.Comment, Revision: t.Revision,
	}
	if a.At.IsZero() {
		a.At = s.now()
	}
	s.record(ctx, a)
}

// auditRegistry records a stored registry change: who, the versions, and
// the diff as JSON.
func (s *Service) auditRegistry(ctx context.Context, from, to int64, d RegistryDiff) {
	u, _ := UserFrom(ctx)
	detail, _ := json.Marshal(d)
	s.record(ctx, AuditEvent{At: s.now(), Type: "registry.change", Actor: u.Email, Action: "change registry",
		From: strconv.FormatInt(from, 10), To: strconv.FormatInt(to, 10), Detail: string(detail)})
}

// Observers tells each of its observers, in order.
type Observers []Observer

// TicketChanged tells every observer.
func (os Observers) TicketChanged(ctx context.Context, t *Ticket, added []Event) {
	for _, o := range os {
		o.TicketChanged(ctx, t, added)
	}
}

// auditDelegation records a delegation made or ended by actor.
func (s *Service) auditDelegation(ctx context.Context, actor, action string, d Delegation) {
	s.record(ctx, AuditEvent{At: s.now(), Type: "delegation." + strings.ReplaceAll(action, " ", "_"), Actor: actor, Action: action,
		Detail: fmt.Sprintf("%s delegates to %s from %s to %s (%s)", d.From, d.To, d.Start.Format(time.RFC3339), d.End.Format(time.RFC3339), d.ID)})
}
