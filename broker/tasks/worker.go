package tasks

import (
	"fmt"

	"github.com/hibiken/asynq"
)

// Worker runs ticket tasks: an Asynq server from NewServer with the
// handlers from NewMux. Tasks live in Redis, so a job scheduled while no
// worker runs is run by the next one that starts.
type Worker struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// NewWorker returns a Worker for the Redis described by opt that calls l
// when tasks are due.
func NewWorker(opt asynq.RedisConnOpt, l Lifecycle, cfg ServerConfig) *Worker {
	cfg = cfg.withDefaults()
	return &Worker{srv: NewServer(opt, cfg), mux: NewMux(l, cfg.Clock, cfg.Logger)}
}

// Start starts processing tasks in the background.
func (w *Worker) Start() error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("start task worker: %w", err)
	}
	return nil
}

// Shutdown stops taking tasks, waits up to the configured ShutdownTimeout
// for running ones and puts the rest back in the queue for another worker.
func (w *Worker) Shutdown() { w.srv.Shutdown() }
