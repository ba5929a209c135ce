package tasks

import (
	"context"

	"github.com/hibiken/asynq"
)

// Revoker cuts the sessions of a terminated ticket.
type Revoker interface {
	// Revoke is safe to repeat. ENOTFOUND, EINVALID and EFORBIDDEN are
	// permanent; other errors are retried.
	Revoke(ctx context.Context, id string) error
}

// NewRevokeHandler returns the handler of broker.TaskRevoke tasks, which
// retry a revocation that failed when the ticket was terminated: it waits
// until the task's time by clock, then calls r.Revoke.
func NewRevokeHandler(r Revoker, clock Clock) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return handle(ctx, clock, t, r.Revoke)
	})
}
