package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/approvals"
	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/metrics"
	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/console/web"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/policies"
)

var _ console.RateLimiter = (*redisstore.RateLimiter)(nil)

// system is one running JIT process: the API, the worker, or both.
type system struct {
	svc       *broker.Service
	app       *fiber.App
	worker    *tasks.Worker
	scheduler *tasks.Scheduler
	rdb       redis.UniversalClient
	stopWatch func() // ends the registry watch
	obs       *observability
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
	// mail, if set, receives every mail (jit dev's catcher); default the
	// configured SMTP server, or the log.
	mail notify.Sender
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
	// Metrics and the audit log (observe.go); every AWS client made from
	// d.aws reports its calls to both.
	auditLog := redisstore.NewAudit(rdb, "", cfg.auditKey())
	sink, closeSink, err := openAuditSink(cfg.Audit.Sink, d.logger)
	if err != nil {
		rdb.Close()
		return nil, err
	}
	auditLog.Sink = sink
	obs, err := newObservability(auditLog, d.logger)
	if err != nil {
		closeSink()
		rdb.Close()
		return nil, err
	}
	obs.closeSink = closeSink
	federation.RecordCalls(&d.aws, obs)
	// The registry lives in Redis; the config's registry is only its seed.
	reg := redisstore.NewRegistry(rdb, redisstore.Options{})
	current, err := seedRegistry(ctx, reg, cfg.seed(), d.logger)
	if err != nil {
		return nil, err
	}
	authz, err := policies.Compile(current)
	if err != nil {
		return nil, fmt.Errorf("registry in Redis: %w", err)
	}
	authz.SetLogger(d.logger)
	// Every replica reloads when another announces a change (Changed) or
	// its subscription is made again, and every decision checks the stored
	// version at least once a second (policies.DefaultMaxAge).
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	if err := authz.Watch(watchCtx, policies.RedisPubSub{Client: rdb}, reg, policies.WatchOptions{}); err != nil {
		stopWatch()
		return nil, err
	}
	// Rules come from the registry the enforcer compiled.
	engine := approvals.New(authz)
	// AWS's clock, read from every answer, for the times JIT writes into
	// policies AWS evaluates (federation/clockskew.go).
	skew := &federation.ClockSkew{}
	d.aws.APIOptions = append(slices.Clone(d.aws.APIOptions), skew.Observe)
	stsClient := sts.NewFromConfig(d.aws, func(o *sts.Options) {
		if cfg.AWS.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.AWS.Endpoint)
		}
	})
	iamClients := &federation.IAMClients{Config: d.aws, STS: stsClient, ManagementRole: cfg.AWS.ManagementRole,
		Partition: cfg.AWS.Partition, Endpoint: cfg.AWS.Endpoint}
	store := redisstore.New(rdb, redisstore.Options{
		MaxPendingPerRequester: cfg.Tickets.MaxPendingPerRequester,
	})
	if err := metrics.RegisterStores(obs.reg, store, queueStats{sched}); err != nil {
		stopWatch()
		return nil, err
	}
	chat, err := cfg.slack(rdb, d.logger)
	if err != nil {
		stopWatch()
		return nil, err
	}
	notifier, err := newNotifier(d, obs, store, sched, chat)
	if err != nil {
		stopWatch()
		return nil, err
	}
	locker := redisstore.NewLocker(rdb, "", 0)
	revoker := &federation.Revoker{IAM: iamClients.For, Lock: locker}
	onCall, err := cfg.onCall()
	if err != nil {
		stopWatch()
		return nil, err
	}
	var icCfg broker.ServiceConfig // the Identity Center path, when configured
	icCfg.Directory = cfg.directory()
	clean := cleaner{role: revoker}
	icLimit := redisstore.NewLimiter(rdb, "", "identitycenter", cfg.AWS.IdentityCenter.RequestsPerSecond, cfg.AWS.IdentityCenter.Outstanding)
	if ic := newIdentityCenter(d.aws, cfg.AWS, locker, icLimit); ic != nil {
		ic.portal.Skew = skew
		icCfg = broker.ServiceConfig{Assigner: chainGuard{Assigner: ic.assigner, portal: ic.portal}, PortalRevoker: ticketPortalRevoker{ic.portal}, AssignmentLister: ic.lister, Directory: ic.assigner}
		clean.portal = ic.portal
	}
	svc, err := broker.NewService(broker.ServiceConfig{
		Assigner:         icCfg.Assigner,
		PortalRevoker:    icCfg.PortalRevoker,
		AssignmentLister: icCfg.AssignmentLister,
		Directory:        icCfg.Directory,
		Groups:           cfg.groups(),
		Holds:            redisstore.NewHolds(rdb, ""),
		Locker:           locker,
		Audit:            obs.audit,
		AuditReader:      obs.audit,
		Observer:         broker.Observers{obs.metrics, notifier},
		Cleaner:          clean,
		Store:            store,
		Outbox:           store,
		Agenda:           store,
		Scheduler:        sched,
		Rescheduler:      sched,
		Registry:         reg,
		// Registry administration (broker/registry_admin.go).
		RegistryStore:    reg,
		OnRegistryChange: authz.Changed,
		Importer:         newImporter(d.aws, cfg.AWS),
		Authorizer:       authz,
		BreakGlass:       authz,
		Approvals:        engine,
		Minter:           ticketMinter{&federation.Minter{STS: stsClient, Partition: cfg.AWS.Partition, Skew: skew}},
		Revoker:          ticketRevoker{&metrics.Revoker{Next: revoker, Tickets: store, Metrics: obs.metrics}},
		Signer:           &federation.Signin{Issuer: cfg.BaseURL, Partition: cfg.AWS.Partition, Endpoint: cfg.AWS.Endpoint},
		Activity:         newActivity(d.aws, cfg.AWS, stsClient),
		Grants:           newGrants(d.aws, cfg.AWS, iamClients),
		Logger:           d.logger,
		Delegations:      store,
		PreApprovals:     store,
		OnCall:           onCall,
		Notifier:         notifier,
		MaxLeadTime:      cfg.Tickets.MaxLeadTime,
		Crash:            crashHook, // nil unless built with -tags faults
	})
	if err != nil {
		stopWatch()
		return nil, err
	}
	notifier.SetViewer(svc) // who may see a ticket decides who hears about it
	if chat != nil {
		chat.SetDecider(svc) // Slack's buttons decide as the web page does
		d.extra = withSlack(d.extra, chat)
	}
	s := &system{svc: svc, scheduler: sched, rdb: rdb, stopWatch: stopWatch, obs: obs}
	if d.verifier != nil {
		var writes console.RateLimiter // nil: no limit
		if perMinute, burst := cfg.RateLimit.limits(); perMinute > 0 {
			writes = redisstore.NewRateLimiter(rdb, "", "writes", perMinute, burst)
		}
		s.app = console.New(console.Config{
			Service:  svc,
			Verifier: d.verifier,
			Logger:   d.logger,
			Ready:    func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
			Extra:    d.extra,
			// Each user's writes, counted in Redis across replicas.
			WriteLimiter: writes,
			// Metrics on the API's address unless metrics.listen is set.
			Metrics:          obs.reg,
			MetricsElsewhere: cfg.Metrics.Listen != "",
			Audit:            obs.audit,
			AccessLog:        true,
			Feed:             store, // ticket changes over Redis pub/sub: every replica's pages hear them
			// The service's capabilities, each one explicit (console.Config).
			Workflow: svc, Lister: svc, Activity: svc, Admin: svc, AuditView: svc, Reconciler: svc, Reviewer: svc, PreApprovals: svc, Hints: svc,
			Views: svc, // each ticket's open round as the caller decides it
			// Workload tokens, for the workloads of the registry in force.
			Workloads: authz,
			Version:   cmp.Or(version, "devel"),
			Web: &console.Web{Files: web.Files(), Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.WebClientID, CLIClientID: cfg.OIDC.CLIClientID,
				TerminateReasonOptional: cfg.Web.TerminateReason == "optional"},
		})
	}
	if d.worker && cfg.Audit.Retention > 0 {
		go obs.trimAudit(watchCtx, cfg.Audit.Retention)
	}
	if d.worker && cfg.Tickets.Retention > 0 {
		go purgeTickets(watchCtx, store, cfg.Tickets.Retention, time.Hour, d.logger)
	}
	if d.worker {
		s.worker = tasks.NewWorker(d.redisOpt, svc, tasks.ServerConfig{Concurrency: cfg.Worker.Concurrency, Logger: d.logger, Sweeper: svc, Reconciler: svc, Notify: notifier})
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
	s.stopWatch()
	if s.obs != nil && s.obs.closeSink != nil {
		s.obs.closeSink()
	}
	s.scheduler.Close()
	s.rdb.Close()
}
