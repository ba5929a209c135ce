package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// DeadlineKeeper expires pending tickets nobody decided in time.
type DeadlineKeeper interface {
	// Deadline is safe to repeat and leaves a decided ticket alone.
	// ENOTFOUND, EINVALID and EFORBIDDEN are permanent; other errors are
	// retried.
	Deadline(ctx context.Context, id string) error
}

// NewDeadlineHandler returns the handler of broker.TaskDeadline tasks: it
// waits until the approval deadline by clock, then calls d.Deadline.
func NewDeadlineHandler(d DeadlineKeeper, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, d.Deadline)
	})
}
