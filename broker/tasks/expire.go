package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// Expirer ends a ticket at its end.
type Expirer interface {
	// Expire is safe to repeat and leaves a ticket whose end moved later
	// alone. ENOTFOUND, EINVALID and EFORBIDDEN are permanent; other errors
	// are retried.
	Expire(ctx context.Context, id string) error
}

// NewExpireHandler returns the handler of broker.TaskExpire tasks: it waits
// until the ticket's end by clock, never acting early, then calls e.Expire.
func NewExpireHandler(e Expirer, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, e.Expire)
	})
}
