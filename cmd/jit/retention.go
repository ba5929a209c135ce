package main

import (
	"context"
	"log/slog"
	"time"
)

// purgeBatch bounds how many tickets one purge pass deletes, so a first
// pass over years of history does not hold the shard for long.
const purgeBatch = 10000

// endedPurger deletes ended tickets unchanged since a time
// (redisstore.Store.PurgeEnded).
type endedPurger interface {
	PurgeEnded(ctx context.Context, endedBefore time.Time, max int) (int, error)
}

// purgeTickets deletes ended tickets older than retention every interval
// until ctx is done; a full batch is followed at once by another.
func purgeTickets(ctx context.Context, p endedPurger, retention, every time.Duration, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := p.PurgeEnded(ctx, time.Now().Add(-retention), purgeBatch)
		switch {
		case err != nil:
			logger.ErrorContext(ctx, "purge ended tickets", "err", err)
		case n > 0:
			logger.InfoContext(ctx, "ended tickets purged", "tickets", n, "retention", retention.String())
		}
		if err == nil && n == purgeBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
