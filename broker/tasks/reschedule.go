package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

var _ broker.Rescheduler = (*Scheduler)(nil)

// Reschedule moves the job of kind for the ticket from one due time to
// another: the new job is scheduled first, then the one due at from is
// removed, so there is never a moment without one. A missing old job is
// not an error; one already running is left to the lifecycle, which does
// nothing once the ticket has moved on.
func (s *Scheduler) Reschedule(ctx context.Context, kind broker.TaskKind, ticketID string, from, to time.Time) error {
	if err := s.Schedule(ctx, kind, ticketID, to); err != nil {
		return err
	}
	old := TaskID(kind, ticketID, from)
	if old == TaskID(kind, ticketID, to) {
		return nil
	}
	err := s.inspector.DeleteTask(s.cfg.Queue, old)
	switch {
	case err == nil, errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound), s.active(old):
	default:
		return fmt.Errorf("reschedule %s: %w", old, err)
	}
	if err := s.rdb.SRem(ctx, s.indexKey(kind, ticketID), old).Err(); err != nil {
		return fmt.Errorf("reschedule %s: %w", old, err)
	}
	return nil
}
