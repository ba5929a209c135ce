package tasks

import (
	"context"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
)

// Defaults for ServerConfig fields left zero.
const (
	// DefaultConcurrency is sized for the waits: a handler holds its worker
	// for up to about a second before the due time, so with 20 workers and
	// thousands of tasks due in a minute the waits queue up (p99 831 ms late
	// in design.md's measurement). At 10,000 real expiries in one minute
	// (cmd/jit BenchmarkExpiryAtPeak, docs/benchmarks.md) 100 workers gave
	// p99 1.4 s late and 300 gave 315 ms on a loaded 2-core machine; idle
	// workers cost a goroutine each.
	DefaultConcurrency     = 300
	DefaultCheckInterval   = 100 * time.Millisecond
	DefaultShutdownTimeout = 10 * time.Second
	DefaultMaxRetryDelay   = 30 * time.Second
)

// ServerConfig tunes the Asynq server that runs ticket tasks; the zero
// value of each field means the default.
type ServerConfig struct {
	// Queue is the queue to serve; default DefaultQueue.
	Queue string
	// Concurrency is the number of workers; default DefaultConcurrency.
	Concurrency int
	// CheckInterval is both how often due scheduled and retry tasks are
	// moved to the queue (DelayedTaskCheckInterval) and how often an empty
	// queue is polled (TaskCheckInterval); default DefaultCheckInterval.
	// Asynq's own defaults make tasks up to 5 s late.
	CheckInterval time.Duration
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// putting them back in the queue; default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// RetryDelay is how long a failed task waits before its n-th retry;
	// default asynq.DefaultRetryDelayFunc (exponential with jitter), capped
	// at MaxRetryDelay.
	RetryDelay asynq.RetryDelayFunc
	// MaxRetryDelay caps the wait before any retry; default
	// DefaultMaxRetryDelay. Ticket tasks cut access: a cut that failed a few
	// times must not wait Asynq's minutes (n^4 s) for its next attempt.
	MaxRetryDelay time.Duration
	// Logger receives Asynq's log and one line per failed task; default
	// slog.Default().
	Logger *slog.Logger
	// Clock is the clock Worker's handlers wait on; default
	// SystemClock. NewServer does not use it.
	Clock Clock
	// Reconciler, if set, is run by Worker every ReconcileEvery (default
	// DefaultReconcileEvery, negative never); nil: no reconciler runs.
	Reconciler     Reconciler
	ReconcileEvery time.Duration
	// Sweeper, if set, is run by Worker every SweepEvery (default
	// DefaultSweepEvery), so a ticket whose consequences a crash cut short,
	// or whose task died with its process, is repaired within seconds
	// rather than at the next reconciler pass or Asynq's lease recovery.
	Sweeper    Sweeper
	SweepEvery time.Duration
	// Notify, if set, delivers notification jobs (TypeNotify).
	Notify Deliverer
}

func (c ServerConfig) withDefaults() ServerConfig {
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = DefaultCheckInterval
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.RetryDelay == nil {
		c.RetryDelay = asynq.DefaultRetryDelayFunc
	}
	if c.MaxRetryDelay <= 0 {
		c.MaxRetryDelay = DefaultMaxRetryDelay
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.ReconcileEvery == 0 {
		c.ReconcileEvery = DefaultReconcileEvery
	}
	if c.SweepEvery <= 0 {
		c.SweepEvery = DefaultSweepEvery
	}
	return c
}

// NewServer returns an Asynq server for ticket tasks on the Redis described
// by opt (a Shared client is used, not closed). Run it with a mux from
// NewMux, or use Worker.
func NewServer(opt asynq.RedisConnOpt, cfg ServerConfig) *asynq.Server {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	ac := asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   map[string]int{cfg.Queue: 1},
		TaskCheckInterval:        cfg.CheckInterval,
		DelayedTaskCheckInterval: cfg.CheckInterval,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		Logger:                   NewLogger(log),
		LogLevel:                 asynq.InfoLevel,
		// A task handed over too early goes back until its due time; that
		// is neither a failure nor a retry.
		IsFailure:      isFailure,
		RetryDelayFunc: retryDelay(cfg.RetryDelay, cfg.MaxRetryDelay),
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			if _, early := notDue(err); early {
				log.Debug("task handed over early; put back", "task", t.Type(), "err", err)
				return
			}
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			log.Error("task failed", "task", t.Type(), "id", id, "retried", retried, "max_retry", maxRetry, "err", err)
		}),
	}
	if rdb, ok := shared(opt); ok {
		return asynq.NewServerFromRedisClient(rdb, ac)
	}
	return asynq.NewServer(opt, ac)
}

// NewMux routes the ticket task types to their handlers, which wait on
// clock and call l. A nil clock means SystemClock. Each finished task
// is logged at debug level; failures are logged by the server's error
// handler (NewServer).
func NewMux(l Lifecycle, clock Clock, logger *slog.Logger) *asynq.ServeMux {
	if clock == nil {
		clock = SystemClock{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	mux := asynq.NewServeMux()
	mux.Handle(string(broker.TaskActivate), NewActivateHandler(l, clock))
	mux.Handle(string(broker.TaskExpire), NewExpireHandler(l, clock))
	mux.Handle(string(broker.TaskRevoke), NewRevokeHandler(l, clock))
	mux.Handle(string(broker.TaskRemind), NewRemindHandler(l, clock))
	mux.Handle(string(broker.TaskEscalate), NewEscalateHandler(l, clock))
	mux.Handle(string(broker.TaskReviewOverdue), NewReviewOverdueHandler(l, clock))
	mux.Handle(string(broker.TaskDeadline), NewDeadlineHandler(l, clock))
	mux.Handle(string(broker.TaskHint), NewHintHandler(l, clock))
	mux.Use(logDone(logger))
	return mux
}

// logDone logs each task that finished without error, at debug level.
func logDone(logger *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			if err == nil {
				id, _ := asynq.GetTaskID(ctx)
				logger.Debug("task done", "task", t.Type(), "id", id, "took", time.Since(start))
			}
			return err
		})
	}
}

// isFailure reports whether err counts as a failed attempt: every error but
// a *NotDueError does.
func isFailure(err error) bool {
	_, early := notDue(err)
	return !early
}

// retryDelay puts a task handed over too early back until its due time,
// and delays other failures by base.
func retryDelay(base asynq.RetryDelayFunc, most time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		if e, ok := notDue(err); ok {
			return e.In
		}
		return min(base(n, err, t), most)
	}
}
