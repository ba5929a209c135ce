// Package tasks runs JIT's delayed ticket jobs on Asynq: activation at a
// ticket's start, expiry at its end, and revocation retried in the
// background.
//
// Scheduler implements broker.Scheduler by enqueueing Asynq tasks with a
// deterministic id, so the same kind, ticket and time is scheduled once no
// matter how often it is asked for. The handlers (one file per task type)
// are thin: they decode the payload, wait until the exact due time (Asynq
// keeps due times in whole seconds, so tasks are handed to it a second
// early: handOverLead), make one call to the ticket lifecycle, and mark permanent failures
// with asynq.SkipRetry. Worker runs the handlers on an asynq.Server tuned to
// check for due tasks every 100 ms.
//
// This package is the only one that speaks Asynq.
package tasks
