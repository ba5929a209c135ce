package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

func (f *fakeLifecycle) ReviewOverdue(ctx context.Context, id string) error {
	return f.record(broker.TaskReviewOverdue, id, nil, ctx)
}

// TestReviewOverdueRuns: a break-glass review deadline is routed to
// ReviewOverdue, not before its time.
func TestReviewOverdueRuns(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	at := time.Now().Add(time.Second)
	if err := s.Schedule(context.Background(), broker.TaskReviewOverdue, "t1", at); err != nil {
		t.Fatal(err)
	}
	c := l.waitCall(t, time.Second+runWithin)
	if c.Kind != broker.TaskReviewOverdue || c.ID != "t1" {
		t.Fatalf("call %+v, want review overdue of t1", c)
	}
	if c.At.Before(at) {
		t.Errorf("ran %s early", at.Sub(c.At))
	}
}
