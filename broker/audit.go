package broker

import (
	"context"
	"strings"
	"time"
)

// AuditEvent is one entry of the audit log: a ticket transition or
// decision, a registry change, a refused sign-in or authorization, an AWS
// call, a notification, a reconciler action. It never carries secrets.
type AuditEvent struct {
	// Seq is the event's place in the log, from 1; set by the log.
	Seq int64     `json:"seq,omitempty"`
	At  time.Time `json:"at"`
	// Type says what kind of event it is: "ticket.<action>" (approve,
	// reject, activate, expire, terminate, ...), "registry.change",
	// "auth.refused", "authz.denied", "aws.call", "notify.sent",
	// "notify.failed", "reconcile.<action>".
	Type  string `json:"type"`
	Actor string `json:"actor"`
	// OnBehalfOf names the approver a delegate acted for ("bob for alice":
	// Actor bob, OnBehalfOf alice).
	OnBehalfOf    string `json:"on_behalf_of,omitempty"`
	Action        string `json:"action"`
	TicketID      string `json:"ticket_id,omitempty"`
	AccountID     string `json:"account_id,omitempty"`
	PermissionSet string `json:"permission_set,omitempty"`
	// Group is the group id of a ticket filed with others for several
	// accounts (Ticket.Group).
	Group    string `json:"group,omitempty"`
	Revision int    `json:"revision,omitempty"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Detail   string `json:"detail,omitempty"`
	// Operation, RequestID and Result describe an AWS call ("aws.call"):
	// "sts:AssumeRole", AWS's request id, "ok" or the error code.
	Operation string `json:"operation,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Result    string `json:"result,omitempty"`
	// Prev and MAC chain the log: MAC is the HMAC-SHA-256 of the event's
	// canonical encoding, which includes Prev, the MAC of the event before.
	// Set by the log.
	Prev string `json:"prev,omitempty"`
	MAC  string `json:"mac,omitempty"`
}

// AuditLog is the append-only audit log.
type AuditLog interface {
	// Record appends e.
	Record(ctx context.Context, e AuditEvent) error
}

// audit records a reconciler event; a failure to record is logged, not
// returned, so the audit never blocks revocation.
func (s *Service) audit(ctx context.Context, actor, action, ticketID, detail string) {
	s.record(ctx, AuditEvent{At: s.now(), Type: "reconcile." + strings.ReplaceAll(action, " ", "_"),
		Actor: actor, Action: action, TicketID: ticketID, Detail: detail})
}

// record appends e to the audit log, logging (never returning) failures.
func (s *Service) record(ctx context.Context, e AuditEvent) {
	if s.cfg.Audit == nil {
		return
	}
	if err := s.cfg.Audit.Record(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit record", "type", e.Type, "ticket", e.TicketID, "err", err)
	}
}
