package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

// Lifecycle is the part of broker.Service the task handlers call. Each
// method is safe to repeat and does nothing when the ticket has moved on.
type Lifecycle interface {
	Activator
	Expirer
	Revoker
	Reminder
	Escalator
	ReviewEscalator
	Hinter
	DeadlineKeeper
}

var _ Lifecycle = (*broker.Service)(nil)

// MaxWait is the longest a handler waits in a worker for a task's due time.
// Asynq hands tasks over at most about a second early; a task that arrives
// earlier than this (clock skew, or a task moved by hand) goes back to the
// queue until its due time instead of occupying a worker.
const MaxWait = 10 * time.Second

// Clock is the clock the handlers read and wait on: a fake one in tests,
// SystemClock in production.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// handle is the body of every ticket handler: decode the payload, wait for
// its due time, run fn, and mark permanent failures with asynq.SkipRetry.
func handle(ctx context.Context, clock Clock, t *asynq.Task, fn func(ctx context.Context, id string) error) error {
	p, err := decodePayload(t)
	if err != nil {
		return err
	}
	if err := waitUntil(ctx, clock, p.At); err != nil {
		return fmt.Errorf("%s %s: %w", t.Type(), p.TicketID, err)
	}
	if err := fn(ctx, p.TicketID); err != nil {
		return permanent(fmt.Errorf("%s %s: %w", t.Type(), p.TicketID, err))
	}
	return nil
}

// permanent wraps err with asynq.SkipRetry when retrying cannot help: the
// ticket is gone, or the request is invalid or forbidden.
func permanent(err error) error {
	switch broker.ErrorCode(err) {
	case broker.EINVALID, broker.ENOTFOUND, broker.EFORBIDDEN:
		return fmt.Errorf("%w (%w)", err, asynq.SkipRetry)
	}
	return err
}

// waitUntil returns once clock says at has come, or with ctx's error. When
// at is more than MaxWait away it returns a *NotDueError at once.
func waitUntil(ctx context.Context, clock Clock, at time.Time) error {
	for {
		d := at.Sub(clock.Now())
		if d <= 0 {
			return nil
		}
		if d > MaxWait {
			return &NotDueError{At: at, In: d}
		}
		if err := sleep(ctx, clock, d); err != nil {
			return err
		}
	}
}

// sleep waits for d on the clock, or until ctx is done.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	c := clock.After(d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c:
		return nil
	}
}

// NotDueError reports a task handed over more than MaxWait before its due
// time. The server puts such a task back to run at its due time, without
// counting a retry.
type NotDueError struct {
	At time.Time     // the task's due time
	In time.Duration // how far away it was
}

// Error implements the error interface.
func (e *NotDueError) Error() string {
	return fmt.Sprintf("task is due at %s, in %s", e.At.Format(time.RFC3339Nano), e.In.Round(time.Millisecond))
}

// notDue returns the *NotDueError in err's chain, if any.
func notDue(err error) (*NotDueError, bool) {
	var e *NotDueError
	ok := errors.As(err, &e)
	return e, ok
}
