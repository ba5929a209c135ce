package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

// payload is the JSON body of every ticket task.
type payload struct {
	TicketID string    `json:"ticket_id"`
	At       time.Time `json:"at"` // RFC 3339 with nanoseconds, UTC
}

// newTask returns the Asynq task that runs kind for the ticket at the given
// time.
func newTask(kind broker.TaskKind, ticketID string, at time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(payload{TicketID: ticketID, At: at.UTC()})
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", kind, err)
	}
	return asynq.NewTask(string(kind), b), nil
}

// decodePayload reads a task's payload. A payload that cannot be read will
// never become readable, so the error wraps asynq.SkipRetry.
func decodePayload(t *asynq.Task) (payload, error) {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.TicketID == "" || p.At.IsZero() {
		return p, fmt.Errorf("decode %s payload: ticket_id and at are required: %w", t.Type(), asynq.SkipRetry)
	}
	return p, nil
}

// TaskID returns the Asynq task id for kind, ticket and time. It is
// deterministic, so a retry or a second approver scheduling the same job
// finds the first one instead of adding another.
func TaskID(kind broker.TaskKind, ticketID string, at time.Time) string {
	return fmt.Sprintf("%s:%s:%d", kind, ticketID, at.UnixNano())
}
