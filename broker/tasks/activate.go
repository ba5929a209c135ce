package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// Activator makes an approved ticket active at its start.
type Activator interface {
	// Activate is safe to repeat. ENOTFOUND, EINVALID and EFORBIDDEN are
	// permanent; other errors are retried.
	Activate(ctx context.Context, id string) error
}

// NewActivateHandler returns the handler of broker.TaskActivate tasks: it
// waits until the ticket's start by clock, then calls a.Activate.
func NewActivateHandler(a Activator, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, a.Activate)
	})
}
