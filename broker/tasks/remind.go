package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// Reminder reminds the approvers of a ticket who have not acted.
type Reminder interface {
	// Remind is safe to repeat and does nothing once nobody waits for a
	// decision. ENOTFOUND, EINVALID and EFORBIDDEN are permanent; other
	// errors are retried.
	Remind(ctx context.Context, id string) error
}

// Escalator widens who may approve a ticket nobody decided in time.
type Escalator interface {
	// Escalate is safe to repeat and does nothing once nobody waits for
	// a decision. ENOTFOUND, EINVALID and EFORBIDDEN are permanent; other
	// errors are retried.
	Escalate(ctx context.Context, id string) error
}

// NewEscalateHandler returns the handler of broker.TaskEscalate tasks: it
// waits until the escalation's time by clock, then calls e.Escalate.
func NewEscalateHandler(e Escalator, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, e.Escalate)
	})
}

// NewRemindHandler returns the handler of broker.TaskRemind tasks: it
// waits until the reminder's time by clock, then calls r.Remind.
func NewRemindHandler(r Reminder, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, r.Remind)
	})
}

// Hinter computes ended tickets' least-privilege hints.
type Hinter interface {
	// SettleHint is safe to repeat and does nothing once the ticket's
	// hint is stored. ENOTFOUND, EINVALID and EFORBIDDEN are permanent;
	// other errors are retried.
	SettleHint(ctx context.Context, id string) error
}

// NewHintHandler returns the handler of broker.TaskHint tasks: it waits
// until the hint settles by clock, then calls h.SettleHint.
func NewHintHandler(h Hinter, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, h.SettleHint)
	})
}
