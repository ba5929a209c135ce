package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jitaccess/jit/broker"
)

// scrapeTimeout bounds the reads one scrape makes.
const scrapeTimeout = 5 * time.Second

// StateCounter counts stored tickets by state.
type StateCounter interface {
	// CountByState returns how many tickets are in each state.
	CountByState(ctx context.Context) (map[broker.State]int64, error)
}

// QueueStat is one task queue's contents and failure counts.
type QueueStat struct {
	Queue                                       string
	Pending, Active, Scheduled, Retry, Archived int
	ProcessedTotal, FailedTotal                 int
}

// QueueReader reads the task queues.
type QueueReader interface {
	// QueueStats returns each queue's numbers.
	QueueStats(ctx context.Context) ([]QueueStat, error)
}

var (
	ticketsDesc = prometheus.NewDesc("jit_tickets", "Stored tickets by state.", []string{"state"}, nil)
	queueDesc   = prometheus.NewDesc("jit_queue_tasks", "Tasks in a queue by state (pending, active, scheduled, retry, archived: failed for good).", []string{"queue", "state"}, nil)
	processed   = prometheus.NewDesc("jit_queue_processed_total", "Tasks a queue's workers processed, failures included.", []string{"queue"}, nil)
	failed      = prometheus.NewDesc("jit_queue_failed_total", "Task runs that failed (each retry counts).", []string{"queue"}, nil)
	scrapeErr   = prometheus.NewDesc("jit_scrape_errors", "1 when a part of the metrics could not be read at this scrape.", []string{"part"}, nil)
)

// stores reads tickets and queues at scrape time.
type stores struct {
	tickets StateCounter
	queues  QueueReader
}

// RegisterStores adds to reg the gauges read at scrape time: tickets by
// state (when tickets is set) and task queues (when queues is set).
func RegisterStores(reg prometheus.Registerer, tickets StateCounter, queues QueueReader) error {
	return reg.Register(stores{tickets, queues})
}

func (s stores) Describe(ch chan<- *prometheus.Desc) {
	ch <- ticketsDesc
	ch <- queueDesc
	ch <- processed
	ch <- failed
	ch <- scrapeErr
}

func (s stores) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if s.tickets != nil {
		counts, err := s.tickets.CountByState(ctx)
		ch <- prometheus.MustNewConstMetric(scrapeErr, prometheus.GaugeValue, boolValue(err != nil), "tickets")
		if err == nil {
			for _, st := range broker.States {
				ch <- prometheus.MustNewConstMetric(ticketsDesc, prometheus.GaugeValue, float64(counts[st]), string(st))
			}
		}
	}
	if s.queues != nil {
		qs, err := s.queues.QueueStats(ctx)
		ch <- prometheus.MustNewConstMetric(scrapeErr, prometheus.GaugeValue, boolValue(err != nil), "queues")
		for _, q := range qs {
			for state, n := range map[string]int{"pending": q.Pending, "active": q.Active, "scheduled": q.Scheduled, "retry": q.Retry, "archived": q.Archived} {
				ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), q.Queue, state)
			}
			ch <- prometheus.MustNewConstMetric(processed, prometheus.CounterValue, float64(q.ProcessedTotal), q.Queue)
			ch <- prometheus.MustNewConstMetric(failed, prometheus.CounterValue, float64(q.FailedTotal), q.Queue)
		}
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
