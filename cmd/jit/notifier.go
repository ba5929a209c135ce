package main

import (
	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
)

// newNotifier returns the notifier: jobs on the task queue, mail through
// d.mail, the configured SMTP server, or the log.
func newNotifier(d deps, obs *observability, store *redisstore.Store, sched *tasks.Scheduler) (*notify.Notifier, error) {
	cfg := d.cfg
	sender := d.mail
	if sender == nil {
		smtp, err := cfg.smtp()
		if err != nil {
			return nil, err
		}
		if smtp != nil {
			sender = smtp
		} else {
			sender = notify.LogSender{Logger: d.logger, BaseURL: cfg.BaseURL}
		}
	}
	return notify.New(notify.Config{
		BaseURL:   cfg.BaseURL,
		Queue:     tasks.NotifyQueue{S: sched, MaxRetry: cfg.Notify.MaxRetry},
		Sender:    sender,
		Tickets:   store,
		PreExpiry: cfg.Notify.PreExpiry,
		Audit:     obs.audit,
		Metrics:   obs.metrics,
		Logger:    d.logger,
	}), nil
}
