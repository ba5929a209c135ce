package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakePurger has left tickets to purge and records each cutoff.
type fakePurger struct {
	mu      sync.Mutex
	left    int
	cutoffs []time.Time
	done    chan struct{} // closed when nothing is left
}

func (f *fakePurger) PurgeEnded(ctx context.Context, before time.Time, max int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutoffs = append(f.cutoffs, before)
	n := min(f.left, max)
	f.left -= n
	if f.left == 0 && f.done != nil {
		close(f.done)
		f.done = nil
	}
	return n, ctx.Err()
}

// A backlog bigger than a batch is purged in back-to-back passes, each with
// the retention's cutoff; tickets.retention under a day is refused.
func TestPurgeTickets(t *testing.T) {
	done := make(chan struct{})
	f := &fakePurger{left: 2*purgeBatch + 5, done: done}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	started := time.Now()
	go func() {
		purgeTickets(ctx, f, 30*24*time.Hour, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(stopped)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the backlog was not purged in back-to-back passes")
	}
	cancel()
	<-stopped
	ended := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cutoffs) != 3 {
		t.Errorf("%d passes, want 3 (two full batches and the rest)", len(f.cutoffs))
	}
	for _, c := range f.cutoffs {
		if r := 30 * 24 * time.Hour; c.Before(started.Add(-r)) || c.After(ended.Add(-r)) {
			t.Errorf("cutoff %s, want 30 days before the pass", c)
		}
	}

	c := &Config{}
	c.Redis.URL = "redis://127.0.0.1:6379/0"
	c.OIDC.Issuer, c.OIDC.ClientIDs = "https://login.example.com", []string{"jit"}
	c.Tickets.Retention = time.Hour
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "tickets.retention") {
		t.Errorf("retention of an hour: %v, want an error naming tickets.retention", err)
	}
	c.Tickets.Retention = 90 * 24 * time.Hour
	if err := c.validate(); err != nil {
		t.Errorf("retention of 90 days: %v", err)
	}
}
