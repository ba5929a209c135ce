package tasks

import (
	"context"
	"log/slog"
	"time"
)

// DefaultDrainEvery is how often Worker drains the outbox by default.
const DefaultDrainEvery = time.Second

// OutboxDrainer puts in place what tickets written before a crash still
// need (broker.Service.DrainOutbox).
type OutboxDrainer interface {
	// DrainOutbox repairs the tickets marked long enough ago and returns
	// how many it repaired.
	DrainOutbox(ctx context.Context) (int, error)
}

// drain runs d every interval until ctx is done. A failed pass is logged
// and the next one tries again.
func drain(ctx context.Context, d OutboxDrainer, every time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n, err := d.DrainOutbox(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Error("drain outbox", "err", err)
		}
		if n > 0 {
			logger.Info("repaired tickets from the outbox", "count", n)
		}
	}
}
