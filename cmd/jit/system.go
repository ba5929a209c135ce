package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/policies"
)

// system is one running JIT process: the API, the worker, or both.
type system struct {
	svc       *broker.Service
	app       *fiber.App
	worker    *tasks.Worker
	scheduler *tasks.Scheduler
	rdb       redis.UniversalClient
}

// deps is what the server commands hand to startSystem: everything that
// differs between `jit serve` and `jit dev`.
type deps struct {
	cfg      *Config
	redisOpt asynq.RedisConnOpt
	aws      aws.Config
	verifier console.TokenVerifier // nil: no API
	logger   *slog.Logger
	worker   bool
	extra    func(app *fiber.App)
}

// redisConnOpt turns the Redis part of the config into Asynq's connection
// option, which also makes the go-redis client the store uses.
func redisConnOpt(c RedisConfig) (asynq.RedisConnOpt, error) {
	switch {
	case c.URL != "":
		opt, err := asynq.ParseRedisURI(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis.url: %w", err)
		}
		return opt, nil
	case len(c.ClusterAddrs) > 0:
		return asynq.RedisClusterClientOpt{Addrs: c.ClusterAddrs, Password: c.Password}, nil
	default:
		return asynq.RedisFailoverClientOpt{MasterName: c.Sentinel.MasterName, SentinelAddrs: c.Sentinel.Addrs, Password: c.Password}, nil
	}
}

// startSystem wires the packages together and starts the worker if asked.
func startSystem(ctx context.Context, d deps) (*system, error) {
	cfg := d.cfg
	rdb, ok := d.redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, errors.New("unsupported redis connection")
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pingCtx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("cannot reach Redis: %w", err)
	}
	sched, err := tasks.NewScheduler(d.redisOpt, tasks.SchedulerConfig{})
	if err != nil {
		rdb.Close()
		return nil, err
	}
	engine, err := approvals.New(cfg.ApprovalRules)
	if err != nil {
		return nil, err
	}
	authz, err := policies.New(cfg.Authorization)
	if err != nil {
		return nil, err
	}
	stsClient := sts.NewFromConfig(d.aws, func(o *sts.Options) {
		if cfg.AWS.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.AWS.Endpoint)
		}
	})
	iamClients := &federation.IAMClients{Config: d.aws, STS: stsClient, ManagementRole: cfg.AWS.ManagementRole,
		Partition: cfg.AWS.Partition, Endpoint: cfg.AWS.Endpoint}
	svc, err := broker.NewService(broker.ServiceConfig{
		Store:      redisstore.New(rdb, redisstore.Options{}),
		Scheduler:  sched,
		Registry:   &cfg.Registry,
		Authorizer: authz,
		Approvals:  engine,
		Minter:     &federation.Minter{STS: stsClient, Partition: cfg.AWS.Partition},
		Revoker:    &federation.Revoker{IAM: iamClients.For},
		Logger:     d.logger,
	})
	if err != nil {
		return nil, err
	}
	s := &system{svc: svc, scheduler: sched, rdb: rdb}
	if d.verifier != nil {
		s.app = console.New(console.Config{
			Service:  svc,
			Verifier: d.verifier,
			Logger:   d.logger,
			Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
			Extra:    d.extra,
		})
	}
	if d.worker {
		s.worker = tasks.NewWorker(d.redisOpt, svc, tasks.ServerConfig{Concurrency: cfg.Worker.Concurrency, Logger: d.logger})
		if err := s.worker.Start(); err != nil {
			s.close()
			return nil, err
		}
	}
	return s, nil
}

// serveAPI serves the API on l until ctx is done.
func (s *system) serveAPI(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return s.app.ShutdownWithTimeout(10 * time.Second)
	}
}

func (s *system) close() {
	if s.worker != nil {
		s.worker.Shutdown()
	}
	s.scheduler.Close()
	s.rdb.Close()
}
