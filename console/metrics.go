package console

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the API's Prometheus metrics.
type metrics struct {
	authRefused *prometheus.CounterVec
	rateLimited prometheus.Counter
}

// newMetrics registers the API's metrics in reg.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		authRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jit_auth_refused_total",
			Help: "API requests refused because the caller could not be authenticated, by reason.",
		}, []string{"reason"}),
	}
	m.rateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "jit_rate_limited_total",
		Help: "API writes refused 429 because their user was over the write limit.",
	})
	for _, c := range []prometheus.Collector{m.authRefused, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// Every reason from zero, so that a rate over time needs no first refusal.
	for _, r := range []string{ReasonMissing, ReasonScheme, ReasonMalformed, ReasonSignature, ReasonExpired, ReasonNotYetValid,
		ReasonIssuer, ReasonAudience, ReasonAuthorizedParty, ReasonClaims, ReasonInvalid} {
		m.authRefused.WithLabelValues(r)
	}
	return m, nil
}

// metricsRoute serves reg at GET /metrics in the Prometheus text format.
// It needs no token: the numbers say how often something happened, never
// to whom.
func metricsRoute(app *fiber.App, reg *prometheus.Registry) {
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
}
