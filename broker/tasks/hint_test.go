package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

func (f *fakeLifecycle) SettleHint(ctx context.Context, id string) error {
	return f.record(broker.TaskHint, id, nil, ctx)
}

// TestHintRuns: a ticket:hint task reaches SettleHint, not before its time.
func TestHintRuns(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	at := time.Now().Add(time.Second)
	if err := s.Schedule(context.Background(), broker.TaskHint, "t1", at); err != nil {
		t.Fatal(err)
	}
	c := l.waitCall(t, time.Second+runWithin)
	if c.Kind != broker.TaskHint || c.ID != "t1" || c.At.Before(at) {
		t.Errorf("call %+v, want ticket:hint for t1 at or after %v", c, at)
	}
}
