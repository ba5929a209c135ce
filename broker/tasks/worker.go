package tasks

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
)

// Worker runs ticket tasks: an Asynq server from NewServer with the
// handlers from NewMux. Tasks live in Redis, so a job scheduled while no
// worker runs is run by the next one that starts.
type Worker struct {
	srv   *asynq.Server
	mux   *asynq.ServeMux
	opt   asynq.RedisConnOpt
	cfg   ServerConfig
	sched *asynq.Scheduler
	stop  context.CancelFunc // stops the sweeper
	done  chan struct{}
}

// NewWorker returns a Worker for the Redis described by opt that calls l
// when tasks are due, and runs cfg.Reconciler, when set, every
// cfg.ReconcileEvery (default DefaultReconcileEvery; negative: never).
func NewWorker(opt asynq.RedisConnOpt, l Lifecycle, cfg ServerConfig) *Worker {
	cfg = cfg.withDefaults()
	if cfg.Reconciler == nil {
		cfg.ReconcileEvery = -1
	}
	w := &Worker{srv: NewServer(opt, cfg), mux: NewMux(l, cfg.Clock, cfg.Logger), opt: opt, cfg: cfg}
	if cfg.Reconciler != nil {
		w.mux.Handle(TypeReconcile, NewReconcileHandler(cfg.Reconciler, cfg.Logger))
	}
	if cfg.Notify != nil {
		w.mux.Handle(TypeNotify, NewNotifyHandler(cfg.Notify))
	}
	return w
}

// Start starts processing tasks, and the reconciler's schedule, in the background.
func (w *Worker) Start() error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("start task worker: %w", err)
	}
	if w.cfg.ReconcileEvery > 0 {
		s, err := newReconcileScheduler(w.opt, w.cfg.Queue, w.cfg.ReconcileEvery, w.cfg.Logger)
		if err != nil {
			w.srv.Shutdown()
			return err
		}
		if err := s.Start(); err != nil {
			w.srv.Shutdown()
			return fmt.Errorf("start reconciler schedule: %w", err)
		}
		w.sched = s
	}
	if w.cfg.Sweeper != nil {
		ctx, stop := context.WithCancel(context.Background())
		w.stop, w.done = stop, make(chan struct{})
		go func() {
			defer close(w.done)
			sweep(ctx, w.cfg.Sweeper, w.cfg.SweepEvery, w.cfg.Logger)
		}()
	}
	return nil
}

// Shutdown stops taking tasks, waits up to the configured ShutdownTimeout
// for running ones and puts the rest back in the queue for another worker.
func (w *Worker) Shutdown() {
	if w.stop != nil {
		w.stop()
		<-w.done
	}
	if w.sched != nil {
		w.sched.Shutdown()
	}
	w.srv.Shutdown()
}
