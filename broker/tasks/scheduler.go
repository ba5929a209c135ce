package tasks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// Defaults for SchedulerConfig and ServerConfig fields left zero.
const (
	DefaultQueue     = "jit"
	DefaultMaxRetry  = 25
	DefaultRetention = time.Hour
	DefaultTimeout   = 10 * time.Minute
)

// indexTTL is how long after its latest due time the index of a ticket's
// task ids is kept: long enough to outlive every retry of the task.
const indexTTL = 30 * 24 * time.Hour

// SchedulerConfig tunes a Scheduler; the zero value of each field means the
// default.
type SchedulerConfig struct {
	// Queue is the Asynq queue tasks go to; default DefaultQueue. Workers
	// must serve the same queue.
	Queue string
	// MaxRetry is how often a failing task is retried; default
	// DefaultMaxRetry. Negative means never.
	MaxRetry int
	// Retention is how long a completed task is kept, which also keeps its
	// id taken so the same job is not scheduled again; default
	// DefaultRetention. Negative means not at all.
	Retention time.Duration
	// Timeout bounds one run of a task, its wait for the due time included;
	// default DefaultTimeout.
	Timeout time.Duration
}

// Scheduler implements broker.Scheduler on Asynq. Besides the tasks, it
// keeps in Redis, per ticket and kind, the ids of the tasks it scheduled, so
// Unschedule finds them without scanning the queue.
type Scheduler struct {
	cfg       SchedulerConfig
	rdb       redis.UniversalClient
	owned     bool // rdb was made here: Close closes it
	client    *asynq.Client
	inspector *asynq.Inspector
}

var _ broker.Scheduler = (*Scheduler)(nil)

// NewScheduler returns a Scheduler that talks to the Redis described by
// opt. Close it when done.
func NewScheduler(opt asynq.RedisConnOpt, cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Queue == "" {
		cfg.Queue = DefaultQueue
	}
	switch {
	case cfg.MaxRetry == 0:
		cfg.MaxRetry = DefaultMaxRetry
	case cfg.MaxRetry < 0:
		cfg.MaxRetry = 0
	}
	switch {
	case cfg.Retention == 0:
		cfg.Retention = DefaultRetention
	case cfg.Retention < 0:
		cfg.Retention = 0
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	rdb, owned := shared(opt)
	if !owned {
		var ok bool
		if rdb, ok = opt.MakeRedisClient().(redis.UniversalClient); !ok {
			return nil, fmt.Errorf("tasks: unsupported redis connection option %T", opt)
		}
	}
	owned = !owned
	return &Scheduler{
		cfg:       cfg,
		rdb:       rdb,
		owned:     owned,
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
	}, nil
}

// Close releases the Scheduler's Redis connections (not a Shared client,
// which its owner closes).
func (s *Scheduler) Close() error {
	if !s.owned {
		return nil
	}
	return s.rdb.Close()
}

// Inspector returns the asynq.Inspector the Scheduler uses, for health
// checks, dashboards and tests.
func (s *Scheduler) Inspector() *asynq.Inspector { return s.inspector }

// Queue returns the name of the queue the Scheduler puts tasks in.
func (s *Scheduler) Queue() string { return s.cfg.Queue }

// handOverLead is how much earlier than its due time a task is handed to
// Asynq. Asynq keeps due times in whole seconds and moves due tasks to
// the queue only once their second has begun, then a worker polling an
// empty queue picks them up 50-150 ms later: a task due on a whole second
// (ticket times are whole seconds) would run 0-250 ms late. Handed over a
// second early, it is in a worker in time and the handler waits for the
// exact due time (waitUntil).
const handOverLead = time.Second

// Schedule arranges for kind to run for the ticket at the given time, or
// now if that has passed. The task id is TaskID(kind, ticketID, at), so the
// same job scheduled twice runs once. A job with the same id that ran out of
// retries is replaced.
func (s *Scheduler) Schedule(ctx context.Context, kind broker.TaskKind, ticketID string, at time.Time) error {
	if kind == "" || ticketID == "" || at.IsZero() {
		return broker.Errorf(broker.EINVALID, "schedule needs a task kind, a ticket and a time")
	}
	task, err := newTask(kind, ticketID, at)
	if err != nil {
		return err
	}
	id := TaskID(kind, ticketID, at)
	// Index first: an id whose task never made it is harmless to Unschedule,
	// a task missing from the index could not be unscheduled.
	if err := s.index(ctx, kind, ticketID, id, at); err != nil {
		return fmt.Errorf("schedule %s: %w", id, err)
	}
	opts := []asynq.Option{
		asynq.TaskID(id),
		asynq.Queue(s.cfg.Queue),
		asynq.ProcessAt(at.Add(-handOverLead)),
		asynq.MaxRetry(s.cfg.MaxRetry),
		asynq.Timeout(s.cfg.Timeout),
	}
	if s.cfg.Retention > 0 {
		opts = append(opts, asynq.Retention(s.cfg.Retention))
	}
	_, err = s.client.EnqueueContext(ctx, task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return s.rearm(ctx, task, id, opts)
	}
	if err != nil {
		return fmt.Errorf("schedule %s: %w", id, err)
	}
	return nil
}

// rearm handles a task id that is already taken. Usually the job is
// scheduled, running or done, and there is nothing to do; a job that was
// archived (out of retries, or failed permanently) is scheduled anew,
// since the caller wants it to run.
func (s *Scheduler) rearm(ctx context.Context, task *asynq.Task, id string, opts []asynq.Option) error {
	info, err := s.inspector.GetTaskInfo(s.cfg.Queue, id)
	if err != nil || info.State != asynq.TaskStateArchived {
		return nil // taken by a live task (or gone meanwhile: a racing Schedule re-adds it)
	}
	if err := s.inspector.DeleteTask(s.cfg.Queue, id); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
		return fmt.Errorf("schedule %s: replace archived task: %w", id, err)
	}
	_, err = s.client.EnqueueContext(ctx, task, opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("schedule %s: %w", id, err)
	}
	return nil
}

// Unschedule removes every job of kind for the ticket that has not started
// yet: scheduled, pending, waiting for a retry or archived. A missing job is
// not an error. A job already running cannot be stopped; it is left to the
// lifecycle, whose scheduled methods re-check the ticket and do nothing when
// it has moved on (terminated, or its end moved later).
func (s *Scheduler) Unschedule(ctx context.Context, kind broker.TaskKind, ticketID string) error {
	key := s.indexKey(kind, ticketID)
	ids, err := s.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("unschedule %s for ticket %s: %w", kind, ticketID, err)
	}
	var errs []error
	var done []any
	for _, id := range ids {
		err := s.inspector.DeleteTask(s.cfg.Queue, id)
		switch {
		case err == nil, errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			done = append(done, id)
		case s.active(id):
			done = append(done, id)
		default:
			errs = append(errs, fmt.Errorf("unschedule %s: %w", id, err))
		}
	}
	if len(done) > 0 {
		if err := s.rdb.SRem(ctx, key, done...).Err(); err != nil {
			errs = append(errs, fmt.Errorf("unschedule %s for ticket %s: %w", kind, ticketID, err))
		}
	}
	return errors.Join(errs...)
}

// active reports whether the task is running now.
func (s *Scheduler) active(id string) bool {
	info, err := s.inspector.GetTaskInfo(s.cfg.Queue, id)
	return err == nil && info.State == asynq.TaskStateActive
}

// indexKey names the set of task ids of kind for the ticket. The ticket id
// is hash-tagged, so one ticket's keys share a Redis Cluster slot.
func (s *Scheduler) indexKey(kind broker.TaskKind, ticketID string) string {
	return fmt.Sprintf("jit:tasks:%s:{%s}:%s", s.cfg.Queue, ticketID, kind)
}

// indexScript adds a task id to a ticket's index and makes sure the index
// lives at least until ARGV[2] (Unix milliseconds), never shortening it.
var indexScript = redis.NewScript(`
redis.call("SADD", KEYS[1], ARGV[1])
local want = tonumber(ARGV[2])
local now = redis.call("TIME")
local ttl = want - (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
if ttl < 1000 then ttl = 1000 end
if redis.call("PTTL", KEYS[1]) < ttl then
	redis.call("PEXPIRE", KEYS[1], ttl)
end
return 1
`)

// index records id as a task of kind for the ticket, due at at.
func (s *Scheduler) index(ctx context.Context, kind broker.TaskKind, ticketID, id string, at time.Time) error {
	until := at.Add(indexTTL).UnixMilli()
	return indexScript.Run(ctx, s.rdb, []string{s.indexKey(kind, ticketID)}, id, until).Err()
}
