package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jitaccess/jit/broker"
)

// latencyBuckets suit waits from a few milliseconds to an hour.
var latencyBuckets = []float64{.005, .025, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// decisionBuckets suit human decisions: seconds to days.
var decisionBuckets = []float64{10, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600}

// Metrics holds JIT's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	transitions    *prometheus.CounterVec
	decision       *prometheus.HistogramVec
	grant          prometheus.Histogram
	revocation     prometheus.Histogram
	expiryLateness prometheus.Histogram
	awsCalls       *prometheus.CounterVec
	awsErrors      *prometheus.CounterVec
	awsSeconds     *prometheus.HistogramVec
	notifications  *prometheus.CounterVec
}

var _ broker.Observer = (*Metrics)(nil)

// New registers the metrics in reg.
func New(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_ticket_transitions_total",
			Help: "Ticket state changes stored, by the state left (\"\" for a new ticket) and the state entered.",
		}, []string{"from", "to"}),
		decision: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jit_ticket_decision_seconds",
			Help:    "Time from a ticket's (revision's) request to its approval or rejection.",
			Buckets: decisionBuckets,
		}, []string{"outcome"}),
		grant: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_grant_latency_seconds",
			Help:    "Time from when a ticket could start (its start, or its approval if later) to its activation.",
			Buckets: latencyBuckets,
		}),
		revocation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_revocation_latency_seconds",
			Help:    "Time from a ticket's end (termination, or its end time) to its sessions being cut (deny entry written).",
			Buckets: latencyBuckets,
		}),
		expiryLateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jit_expiry_lateness_seconds",
			Help:    "Time from an active ticket's end to its expiry being stored.",
			Buckets: latencyBuckets,
		}),
		awsCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_aws_calls_total",
			Help: "AWS API calls JIT made, by operation (service:Operation).",
		}, []string{"operation"}),
		awsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_aws_errors_total",
			Help: "AWS API calls that failed, by operation and error code.",
		}, []string{"operation", "code"}),
		awsSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jit_aws_call_seconds",
			Help:    "Duration of AWS API calls (retries included), by operation.",
			Buckets: latencyBuckets,
		}, []string{"operation"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_notifications_total",
			Help: "Notification deliveries by channel, kind and result (sent, retry, failed: given up).",
		}, []string{"channel", "kind", "result"}),
	}
	for _, c := range []prometheus.Collector{m.transitions, m.decision, m.grant, m.revocation, m.expiryLateness,
		m.awsCalls, m.awsErrors, m.awsSeconds, m.notifications} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, s := range broker.States {
		m.transitions.WithLabelValues(string(broker.StatePending), string(s))
	}
	return m, nil
}

// TicketChanged counts the state changes among added and observes the
// latencies they end.
func (m *Metrics) TicketChanged(_ context.Context, t *broker.Ticket, added []broker.Event) {
	for _, e := range added {
		if e.To == "" || e.To == e.From {
			continue
		}
		m.transitions.WithLabelValues(string(e.From), string(e.To)).Inc()
		switch {
		case e.From == broker.StatePending && (e.To == broker.StateApproved || e.To == broker.StateRejected):
			if from := requestedAt(t); !from.IsZero() {
				m.decision.WithLabelValues(string(e.To)).Observe(seconds(e.At.Sub(from)))
			}
		case e.To == broker.StateActive:
			ready := t.Start
			if a := lastInto(t, broker.StateApproved); a.After(ready) {
				ready = a
			}
			m.grant.Observe(seconds(e.At.Sub(ready)))
		case e.From == broker.StateActive && e.To == broker.StateExpired:
			m.expiryLateness.Observe(seconds(e.At.Sub(t.End)))
		}
	}
}

// requestedAt is when the current revision of t was asked for: when its
// plan started, or its creation.
func requestedAt(t *broker.Ticket) time.Time {
	if !t.PlannedAt.IsZero() {
		return t.PlannedAt
	}
	return t.CreatedAt
}

// lastInto returns when t last entered state s.
func lastInto(t *broker.Ticket, s broker.State) time.Time {
	for i := len(t.History) - 1; i >= 0; i-- {
		if t.History[i].To == s {
			return t.History[i].At
		}
	}
	return time.Time{}
}

// seconds returns d in seconds, never negative.
func seconds(d time.Duration) float64 { return max(d.Seconds(), 0) }

// AWSCall counts one AWS API call: operation is "service:Operation",
// code the AWS error code ("" on success).
func (m *Metrics) AWSCall(operation, code string, d time.Duration) {
	m.awsCalls.WithLabelValues(operation).Inc()
	m.awsSeconds.WithLabelValues(operation).Observe(seconds(d))
	if code != "" {
		m.awsErrors.WithLabelValues(operation, code).Inc()
	}
}

// Notification counts one delivery attempt's result: "sent", "retry"
// (failed, will be tried again) or "failed" (given up).
func (m *Metrics) Notification(channel, kind, result string) {
	m.notifications.WithLabelValues(channel, kind, result).Inc()
}
