package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
)

// QueueStat is a queue's contents and how many task runs it processed and
// failed (each retry counts).
type QueueStat struct {
	Queue                                       string
	Pending, Active, Scheduled, Retry, Archived int
	ProcessedTotal, FailedTotal                 int
}

// QueueStats returns the numbers of the scheduler's queue.
func (s *Scheduler) QueueStats(ctx context.Context) ([]QueueStat, error) {
	_ = ctx // asynq's inspector takes no context
	qi, err := s.inspector.GetQueueInfo(s.cfg.Queue)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return []QueueStat{{Queue: s.cfg.Queue}}, nil // nothing scheduled yet
	} else if err != nil {
		return nil, fmt.Errorf("queue %s: %w", s.cfg.Queue, err)
	}
	return []QueueStat{{Queue: qi.Queue, Pending: qi.Pending, Active: qi.Active, Scheduled: qi.Scheduled,
		Retry: qi.Retry, Archived: qi.Archived, ProcessedTotal: qi.ProcessedTotal, FailedTotal: qi.FailedTotal}}, nil
}
