package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeNotify is the task type of one notification delivery.
const TypeNotify = "notify:deliver"

// DefaultNotifyMaxRetry is how often a failing delivery is retried, with
// the server's backoff between tries (ServerConfig.RetryDelay).
const DefaultNotifyMaxRetry = 8

// Deliverer delivers notification jobs (broker/notify).
type Deliverer interface {
	// Deliver delivers one job; an error is retried.
	Deliver(ctx context.Context, payload []byte) error
	// GaveUp is told about a job whose last retry failed.
	GaveUp(ctx context.Context, payload []byte, cause error)
}

// NotifyQueue queues notification deliveries on the scheduler's queue.
type NotifyQueue struct {
	S *Scheduler
	// MaxRetry defaults to DefaultNotifyMaxRetry; negative: no retry.
	MaxRetry int
}

// Enqueue queues payload under id to run at at (zero: now). An id already
// queued is not an error: the same news goes out once.
func (q NotifyQueue) Enqueue(ctx context.Context, id string, payload []byte, at time.Time) error {
	maxRetry := q.MaxRetry
	switch {
	case maxRetry == 0:
		maxRetry = DefaultNotifyMaxRetry
	case maxRetry < 0:
		maxRetry = 0
	}
	opts := []asynq.Option{asynq.TaskID(id), asynq.Queue(q.S.cfg.Queue), asynq.MaxRetry(maxRetry),
		asynq.Timeout(time.Minute), asynq.Retention(24 * time.Hour)}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	_, err := q.S.client.EnqueueContext(ctx, asynq.NewTask(TypeNotify, payload), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("queue notification: %w", err)
	}
	return nil
}

// NewNotifyHandler returns the handler of TypeNotify tasks.
func NewNotifyHandler(d Deliverer) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := d.Deliver(ctx, t.Payload())
		if err == nil {
			return nil
		}
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		if retried >= maxRetry {
			d.GaveUp(ctx, t.Payload(), err)
		}
		return err
	})
}
