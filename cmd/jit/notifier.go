package main

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	jitslack "github.com/jitaccess/jit/console/slack"
)

// newNotifier returns the notifier: jobs on the task queue, mail through
// d.mail, the configured SMTP server, or the log.
func newNotifier(d deps, obs *observability, store *redisstore.Store, sched *tasks.Scheduler, chat *jitslack.Slack) (*notify.Notifier, error) {
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
	var c notify.Chat // nil unless Slack is configured
	if chat != nil {
		c = chat
	}
	return notify.New(notify.Config{
		Chat:      c,
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

// withSlack adds Slack's callback route, POST /slack/interactions (signed
// by Slack, no bearer token), to the app's extra routes.
func withSlack(extra func(app *fiber.App), chat *jitslack.Slack) func(app *fiber.App) {
	return func(app *fiber.App) {
		if extra != nil {
			extra(app)
		}
		app.Post("/slack/interactions", adaptor.HTTPHandler(chat))
	}
}
