// Package metrics keeps JIT's Prometheus metrics: ticket transitions and
// the latencies that matter (time to decision, grant, revocation, expiry
// lateness), AWS calls and errors by operation, task queues, notifications
// and, read at scrape time, tickets by state. It learns what happened from
// the broker (broker.Observer), from decorators around the broker's AWS
// interfaces, and from small interfaces its users fill in; only this
// package and console speak Prometheus.
package metrics
