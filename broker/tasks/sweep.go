package tasks

import (
	"context"
	"log/slog"
	"time"
)

// DefaultSweepEvery is how often Worker sweeps by default.
const DefaultSweepEvery = time.Second

// Sweeper finishes what a crash left undone (broker.Service): tickets
// written before a crash whose consequences are missing, and transitions
// whose task was lost or is stuck in a dead process.
type Sweeper interface {
	// DrainOutbox repairs the tickets marked long enough ago and returns
	// how many it repaired.
	DrainOutbox(ctx context.Context) (int, error)
	// RunOverdue runs the transitions that are overdue and returns how
	// many tickets it moved on.
	RunOverdue(ctx context.Context) (int, error)
}

// sweep runs both passes of s every interval until ctx is done. A failed
// pass is logged and the next one tries again.
func sweep(ctx context.Context, s Sweeper, every time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if n, err := s.DrainOutbox(ctx); err != nil && ctx.Err() == nil {
			logger.Error("drain outbox", "err", err)
		} else if n > 0 {
			logger.Info("repaired tickets from the outbox", "count", n)
		}
		if n, err := s.RunOverdue(ctx); err != nil && ctx.Err() == nil {
			logger.Error("run overdue transitions", "err", err)
		} else if n > 0 {
			logger.Warn("ran overdue transitions; their tasks were late or lost", "count", n)
		}
	}
}
