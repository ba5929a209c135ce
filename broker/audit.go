package broker

import (
	"context"
	"time"
)

// AuditEvent is one entry of the audit log: a transition, an AWS call, a
// reconciler action. It never carries secrets.
type AuditEvent struct {
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	TicketID string    `json:"ticket_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// AuditLog is the append-only audit log.
type AuditLog interface {
	// Record appends e.
	Record(ctx context.Context, e AuditEvent) error
}

// audit records an event; a failure to record is logged, not returned,
// so the audit never blocks revocation.
func (s *Service) audit(ctx context.Context, actor, action, ticketID, detail string) {
	if s.cfg.Audit == nil {
		return
	}
	e := AuditEvent{At: s.now(), Actor: actor, Action: action, TicketID: ticketID, Detail: detail}
	if err := s.cfg.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Logger.Error("audit record", "action", action, "ticket", ticketID, "err", err)
	}
}
