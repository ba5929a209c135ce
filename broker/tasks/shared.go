package tasks

import (
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Shared is an asynq.RedisConnOpt for a go-redis client its caller made and
// closes: NewScheduler, NewServer and NewWorker build every Asynq client,
// server and scheduler on it with Asynq's FromRedisClient constructors, so
// one process holds one connection pool and one view of the cluster (a
// cluster client tuned to reload its slot map quickly after a failover is
// used by Asynq too), and none of them closes it.
type Shared struct{ Client redis.UniversalClient }

var _ asynq.RedisConnOpt = Shared{}

// MakeRedisClient returns the shared client.
func (s Shared) MakeRedisClient() any { return s.Client }

// shared returns the caller's client when opt is Shared.
func shared(opt asynq.RedisConnOpt) (redis.UniversalClient, bool) {
	s, ok := opt.(Shared)
	return s.Client, ok && s.Client != nil
}
