package console

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// DefaultBodyLimit is the largest request body accepted when
// Config.BodyLimit is zero.
const DefaultBodyLimit = 64 << 10

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// TicketService is the part of broker.Service the API calls. Every method
// takes the caller from the context (broker.WithUser) and returns
// *broker.Error values with the codes documented on broker.Service.
type TicketService interface {
	// CreateTicket files a ticket. EUNAUTHENTICATED, EINVALID, ENOTFOUND, EFORBIDDEN.
	CreateTicket(ctx context.Context, in broker.CreateTicketInput) (*broker.Ticket, error)
	// Ticket returns one ticket the caller may see. EUNAUTHENTICATED, ENOTFOUND.
	Ticket(ctx context.Context, id string) (*broker.Ticket, error)
	// Tickets lists tickets the caller may see. EUNAUTHENTICATED, EINVALID.
	Tickets(ctx context.Context, in broker.ListInput) ([]*broker.Ticket, error)
	// ApproveRevision approves the current stage of the ticket's open
	// round, as a decision on revision (0: not checked; another revision
	// now is ECONFLICT). EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	ApproveRevision(ctx context.Context, id string, revision int, comment string) (*broker.Ticket, error)
	// RejectRevision rejects the ticket's open round, as a decision on
	// revision (as ApproveRevision). EUNAUTHENTICATED, EINVALID, ENOTFOUND,
	// EFORBIDDEN, ECONFLICT.
	RejectRevision(ctx context.Context, id string, revision int, comment string) (*broker.Ticket, error)
	// Terminate ends an approved or active ticket now. EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Terminate(ctx context.Context, id, comment string) (*broker.Ticket, error)
	// Credentials issues an AWS session for an active ticket. EUNAUTHENTICATED, ENOTFOUND, EFORBIDDEN, ECONFLICT.
	Credentials(ctx context.Context, id string) (broker.Credentials, error)
	// ConsoleURL issues a session and returns a console sign-in URL. As Credentials, plus EUNAVAILABLE.
	ConsoleURL(ctx context.Context, id, region, destination string) (string, error)
}

var _ TicketService = (*broker.Service)(nil)

// TokenVerifier turns a bearer token into the user it was issued to.
type TokenVerifier interface {
	// Verify checks rawToken and returns its user. EUNAUTHENTICATED when the
	// token is malformed, expired, badly signed or for another audience;
	// EUNAVAILABLE when the identity provider cannot be reached. Messages
	// never contain the token.
	Verify(ctx context.Context, rawToken string) (broker.User, error)
}

// Config holds what the API needs; zero optional fields mean the default.
type Config struct {
	// Service runs the ticket use cases. Required.
	Service TicketService
	// Verifier authenticates bearer tokens. Required.
	Verifier TokenVerifier
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
	// BodyLimit is the largest request body in bytes as sent on the wire;
	// default DefaultBodyLimit.
	BodyLimit int
	// Ready reports whether the server can take traffic (for example a Redis
	// ping); nil means always ready.
	Ready func(ctx context.Context) error
	// Extra, if set, is called last with the app to mount more routes (such
	// as development-only endpoints). Routes it adds under /api/v1 require a
	// bearer token like the others.
	Extra func(app *fiber.App)
	// Now tells the time, used to turn a duration into an end; default time.Now.
	Now func() time.Time
	// Web, if set, serves the browser app at "/" (see Web).
	Web *Web
	// WriteLimiter, if set, limits each user's writes under /api/v1
	// (POST, PUT, PATCH, DELETE); over the limit they get 429 with
	// Retry-After. Nil means no limit.
	WriteLimiter RateLimiter
	// Metrics is the registry the API's metrics go to and GET /metrics
	// serves; default a registry of the app's own.
	Metrics *prometheus.Registry
	// MetricsElsewhere leaves GET /metrics out: they are served on their
	// own address (metrics.listen).
	MetricsElsewhere bool
	// AccessLog logs one line per request (method, path, status,
	// duration, user and request id) at info level (debug for /metrics
	// and the health checks).
	AccessLog bool
	// Audit, if set, records refused sign-ins and refused authorizations.
	Audit broker.AuditLog
	// Feed serves the live feed of ticket changes at GET /api/v1/events
	// (see events).
	Feed TicketFeed
	// Views, if set, adds to each ticket answered the caller's view of
	// its open round (wire.Ticket.Deciding).
	Views TicketViews
	// Version is the server's version, shown in the OpenAPI document.
	Version string

	// The capabilities below are set by cmd/jit (the broker's Service
	// implements them all); a route whose capability is nil answers 503
	// {"code": "unavailable", "message": "<capability> not enabled"}, the
	// same everywhere. No capability is discovered from Service.

	// Workflow decides, cancels, ends and extends tickets and keeps
	// delegations.
	Workflow WorkflowService
	// Lister pages and filters ticket lists; nil lists through
	// Service.Tickets, unpaged.
	Lister TicketLister
	// Activity looks up a ticket's CloudTrail activity.
	Activity ActivityViewer
	// Admin administers the registry and answers GET /me's access.
	Admin AdminService
	// AuditView reads the audit log and ticket timelines.
	AuditView AuditViewer
	// Reconciler runs a reconciler pass on request.
	Reconciler Reconciler
	// Reviewer records reviews of tickets' activity after the fact.
	Reviewer Reviewer
	// Workloads, if set, lets the registry's workloads authenticate with
	// their platforms' OIDC tokens (workload.go); nil: people only.
	Workloads WorkloadSource
	// PreApprovals keeps approvers' pre-approvals.
	PreApprovals PreApprover
	// Hints answers least-privilege hints and the usage report.
	Hints HintViewer
}

// TicketViews tells what a ticket's open round needs, as the caller sees it.
type TicketViews interface {
	// Deciding returns the caller's view of each ticket's open round (nil
	// where none). EUNAUTHENTICATED, EUNAVAILABLE.
	Deciding(ctx context.Context, ts []*broker.Ticket) ([]*broker.Deciding, error)
}

var _ TicketViews = (*broker.Service)(nil)

// server holds the configuration the handlers share.
type server struct {
	cfg     Config
	metrics *metrics
	feed    *feedHub    // nil without Config.Feed
	streams feedStreams // open live feeds per user
	// workloads verifies workload tokens; nil without Config.Workloads.
	workloads *workloadAuth
}

// New returns the Fiber app serving the API. It panics if Service or
// Verifier is nil, since no request could be served without them, if
// Web's files cannot be read or lack index.html (they are built in), and if
// Metrics already holds the API's metrics.
func New(cfg Config) *fiber.App {
	if cfg.Service == nil || cfg.Verifier == nil {
		panic("console: Config.Service and Config.Verifier are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		panic(fmt.Sprintf("console: register metrics: %v", err))
	}
	s := &server{cfg: cfg, metrics: m}
	if cfg.Feed != nil {
		s.feed = newFeedHub(cfg.Feed)
	}
	if cfg.Workloads != nil {
		s.workloads = newWorkloadAuth(cfg.Workloads, cfg.Verifier)
	}
	app := fiber.New(fiber.Config{
		AppName: "jit",
		// Bodies are streamed (see edge.go): the transport reads at most
		// 8 KiB of a body before the handlers run, and loadBody reads the
		// rest, counting bytes as sent, after authentication.
		StreamRequestBody:            true,
		BodyLimit:                    cfg.BodyLimit,
		DisablePreParseMultipartForm: true, // else fasthttp reads a multipart body whole before any handler
		// The request line and headers must fit in the read buffer; a
		// larger request is answered 431.
		ReadBufferSize:        MaxHeaderBytes,
		ErrorHandler:          s.handleError,
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
	})
	app.Use(recover.New())
	app.Use(s.requestID)
	app.Use(s.edge)

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	if !cfg.MetricsElsewhere {
		metricsRoute(app, cfg.Metrics)
	}

	api := app.Group("/api/v1", s.authenticate, s.limitWrites, s.apiBody)
	api.Get("/openapi.json", s.openAPI())
	api.Get("/me", s.me)
	api.Post("/tickets", s.createTicket)
	api.Get("/tickets", s.listTickets)
	api.Get("/tickets/:id", s.getTicket)
	api.Get("/events", s.events)
	api.Post("/tickets/:id/approve", s.approve)
	api.Post("/tickets/:id/reject", s.reject)
	api.Post("/tickets/:id/terminate", s.terminate)
	api.Post("/tickets/:id/credentials", s.credentials)
	api.Get("/tickets/:id/console", s.consoleLink)
	api.Get("/tickets/:id/activity", s.activity)
	api.Post("/tickets/:id/review", s.review)
	api.Get("/tickets/:id/hint", s.hint)
	api.Get("/admin/usage", s.usage)
	api.Post("/reconcile", s.reconcile)
	s.workflowRoutes(api)
	s.preApprovalRoutes(api)
	s.adminRoutes(api)
	s.auditRoutes(api)

	if cfg.Extra != nil {
		cfg.Extra(app)
	}
	if cfg.Web != nil {
		// Last: it answers every other GET.
		if err := s.webRoutes(app, cfg.Web); err != nil {
			panic(err)
		}
	}
	return app
}

// healthz answers as long as the process serves HTTP.
func (s *server) healthz(c *fiber.Ctx) error {
	return c.JSON(wire.Status{Status: "ok"})
}

// readyz answers 200 when Ready passes and 503 unavailable otherwise. The
// reason is not shown: it may name internal hosts.
func (s *server) readyz(c *fiber.Ctx) error {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			return broker.Errorf(broker.EUNAVAILABLE, "not ready")
		}
	}
	return c.JSON(wire.Status{Status: "ok"})
}

// openAPI serves the OpenAPI document of wire.Routes, generated once.
func (s *server) openAPI() fiber.Handler {
	doc, err := json.Marshal(wire.OpenAPI(s.cfg.Version))
	if err != nil {
		panic(fmt.Sprintf("console: OpenAPI document: %v", err))
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(doc)
	}
}
