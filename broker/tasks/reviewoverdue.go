package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// ReviewEscalator escalates a break-glass ticket nobody reviewed in time.
type ReviewEscalator interface {
	// ReviewOverdue is safe to repeat: it escalates once, and does
	// nothing for a ticket reviewed or not yet due. ENOTFOUND, EINVALID
	// and EFORBIDDEN are permanent; other errors are retried.
	ReviewOverdue(ctx context.Context, id string) error
}

// NewReviewOverdueHandler returns the handler of broker.TaskReviewOverdue
// tasks: it waits until the review deadline by clock, then calls
// r.ReviewOverdue.
func NewReviewOverdueHandler(r ReviewEscalator, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, r.ReviewOverdue)
	})
}
