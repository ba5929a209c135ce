package tasks

import (
	"context"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

func (f *fakeLifecycle) Remind(ctx context.Context, id string) error {
	return f.record(broker.TaskRemind, id, nil, ctx)
}

func (f *fakeLifecycle) Escalate(ctx context.Context, id string) error {
	return f.record(broker.TaskEscalate, id, nil, ctx)
}

func (f *fakeLifecycle) Deadline(ctx context.Context, id string) error {
	return f.record(broker.TaskDeadline, id, nil, ctx)
}

// TestRemindAndDeadlineRun: the workflow's task kinds (reminder,
// deadline, escalation) are routed to their
// lifecycle methods, not before their time.
func TestRemindAndDeadlineRun(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	l := newFakeLifecycle()
	startWorker(t, q, l, ServerConfig{})
	ctx := context.Background()
	at := time.Now().Add(time.Second)
	for _, k := range []broker.TaskKind{broker.TaskRemind, broker.TaskDeadline, broker.TaskEscalate} {
		if err := s.Schedule(ctx, k, "t1", at); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[broker.TaskKind]bool{}
	for range 3 {
		c := l.waitCall(t, time.Second+runWithin)
		if c.At.Before(at) {
			t.Errorf("%s ran %s early", c.Kind, at.Sub(c.At))
		}
		seen[c.Kind] = true
	}
	if !seen[broker.TaskRemind] || !seen[broker.TaskDeadline] || !seen[broker.TaskEscalate] {
		t.Fatalf("calls %v, want remind, deadline and escalate", l.Calls())
	}
}

// TestReschedule moves an expiry: the new task exists before the old one
// is removed, and Unschedule later finds only the new one.
func TestReschedule(t *testing.T) {
	t.Parallel()
	q := newQueue(t)
	s := newScheduler(t, q)
	ctx := context.Background()
	from := time.Now().Add(time.Hour)
	to := from.Add(30 * time.Minute)
	if err := s.Schedule(ctx, broker.TaskExpire, "t1", from); err != nil {
		t.Fatal(err)
	}
	if err := s.Reschedule(ctx, broker.TaskExpire, "t1", from, to); err != nil {
		t.Fatal(err)
	}
	tasks, err := s.Inspector().ListScheduledTasks(q)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].ID != TaskID(broker.TaskExpire, "t1", to) {
		t.Fatalf("scheduled %v, want only the task at the new end", tasks)
	}
	// Again (a retry): still one task.
	if err := s.Reschedule(ctx, broker.TaskExpire, "t1", from, to); err != nil {
		t.Fatal(err)
	}
	if err := s.Unschedule(ctx, broker.TaskExpire, "t1"); err != nil {
		t.Fatal(err)
	}
	if st := taskState(t, s, TaskID(broker.TaskExpire, "t1", to)); st != 0 {
		t.Fatalf("after Unschedule the new task is %v, want gone", st)
	}
}
