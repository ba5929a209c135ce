package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jitaccess/jit/broker"
)

// TypeReconcile is the periodic reconciler task.
const TypeReconcile = "jit:reconcile"

// DefaultReconcileEvery is how often the reconciler runs by default.
const DefaultReconcileEvery = 5 * time.Minute

// Reconciler compares AWS with the tickets and removes what nobody holds.
type Reconciler interface {
	Reconcile(ctx context.Context) (broker.ReconcileReport, error)
}

// NewReconcileHandler runs one reconciler pass and logs what it did.
func NewReconcileHandler(r Reconciler, logger *slog.Logger) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, _ *asynq.Task) error {
		rep, err := r.Reconcile(ctx)
		if err != nil {
			return fmt.Errorf("reconcile: %w", err)
		}
		logger.Info("reconciled", "finished", rep.Finished, "cleaned", rep.Cleaned, "repaired", rep.Repaired, "orphans_removed", rep.OrphansRemoved, "pruned", rep.Pruned, "errors", len(rep.Errors))
		return nil
	})
}

// newReconcileScheduler enqueues the reconciler every interval. Several
// workers may each run one: the task is unique per interval, so a pass
// runs once per interval however many workers there are.
func newReconcileScheduler(opt asynq.RedisConnOpt, queue string, every time.Duration, logger *slog.Logger) (*asynq.Scheduler, error) {
	opts := &asynq.SchedulerOpts{Logger: NewLogger(logger)}
	var s *asynq.Scheduler
	if rdb, ok := shared(opt); ok {
		opts.Logger = sharedLogger{opts.Logger.(*Logger)}
		s = asynq.NewSchedulerFromRedisClient(rdb, opts)
	} else {
		s = asynq.NewScheduler(opt, opts)
	}
	task := asynq.NewTask(TypeReconcile, nil)
	_, err := s.Register(fmt.Sprintf("@every %s", every), task, asynq.Queue(queue), asynq.Unique(every), asynq.MaxRetry(0))
	if err != nil {
		return nil, fmt.Errorf("register reconciler: %w", err)
	}
	return s, nil
}

// sharedLogger is the reconcile scheduler's logger on a Shared client: its
// Shutdown tries to close the client, which Asynq refuses and reports as an
// error at every stop; that refusal is what a shared client wants, so it is
// logged at debug level.
type sharedLogger struct{ *Logger }

func (l sharedLogger) Error(args ...any) {
	if msg := fmt.Sprint(args...); strings.Contains(msg, "connection is shared") {
		l.Debug(msg)
		return
	}
	l.Logger.Error(args...)
}
