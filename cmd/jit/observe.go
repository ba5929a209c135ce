package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/metrics"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/federation"
)

// observability is one process's metrics registry, metrics and audit log.
type observability struct {
	reg     *prometheus.Registry
	metrics *metrics.Metrics
	audit   *redisstore.Audit
	logger  *slog.Logger
	// closeSink closes the audit sink (audit.sink).
	closeSink func()
}

// newObservability registers the process's metrics and opens the audit log.
func newObservability(a *redisstore.Audit, logger *slog.Logger) (*observability, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, err
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, err
	}
	m, err := metrics.New(reg)
	if err != nil {
		return nil, err
	}
	return &observability{reg: reg, metrics: m, audit: a, logger: logger}, nil
}

var _ federation.CallRecorder = (*observability)(nil)

// AWSCall counts an AWS call and records it in the audit log.
func (o *observability) AWSCall(ctx context.Context, c federation.Call) {
	o.metrics.AWSCall(c.Operation, c.Code, c.Duration)
	result := "ok"
	if c.Code != "" {
		result = c.Code
	}
	e := broker.AuditEvent{At: time.Now().UTC(), Type: "aws.call", Actor: "jit", Action: "aws call",
		TicketID: broker.TicketIDFrom(ctx), Operation: c.Operation, RequestID: c.RequestID, Result: result}
	if err := o.audit.Record(context.WithoutCancel(ctx), e); err != nil {
		o.logger.ErrorContext(ctx, "audit record", "type", e.Type, "err", err)
	}
}

// trimAudit removes audit events older than retention every hour until
// ctx is done.
func (o *observability) trimAudit(ctx context.Context, retention time.Duration) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := o.audit.Trim(ctx, time.Now().Add(-retention)); err != nil {
			o.logger.ErrorContext(ctx, "audit trim", "err", err)
		} else if n > 0 {
			o.logger.InfoContext(ctx, "audit trimmed", "events", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// queueStats adapts the scheduler's queue numbers to the metrics'.
type queueStats struct{ s *tasks.Scheduler }

func (q queueStats) QueueStats(ctx context.Context) ([]metrics.QueueStat, error) {
	qs, err := q.s.QueueStats(ctx)
	out := make([]metrics.QueueStat, 0, len(qs))
	for _, s := range qs {
		out = append(out, metrics.QueueStat{Queue: s.Queue, Pending: s.Pending, Active: s.Active, Scheduled: s.Scheduled,
			Retry: s.Retry, Archived: s.Archived, ProcessedTotal: s.ProcessedTotal, FailedTotal: s.FailedTotal})
	}
	return out, err
}

// serveMetrics serves GET /metrics on l until ctx is done.
func (o *observability) serveMetrics(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// The decorators below tell the AWS call audit which ticket a call is for.

type ticketMinter struct{ next broker.SessionMinter }

func (m ticketMinter) Mint(ctx context.Context, r broker.MintRequest) (broker.Credentials, error) {
	return m.next.Mint(broker.WithTicketID(ctx, r.TicketID), r)
}

type ticketRevoker struct{ next broker.Revoker }

func (v ticketRevoker) Revoke(ctx context.Context, r broker.RevokeRequest) error {
	return v.next.Revoke(broker.WithTicketID(ctx, r.TicketID), r)
}

type ticketPortalRevoker struct{ next broker.PortalRevoker }

func (p ticketPortalRevoker) CutPortal(ctx context.Context, c broker.PortalCut) error {
	return p.next.CutPortal(broker.WithTicketID(ctx, c.TicketID), c)
}
