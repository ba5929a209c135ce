package main

import (
	"context"
	"log/slog"
	"strings"

	"github.com/jitaccess/jit/broker"
)

// logNotifier is a broker.Notifier that writes notifications to the log;
// a mail or chat notifier can replace it.
type logNotifier struct{ logger *slog.Logger }

var _ broker.Notifier = logNotifier{}

// Notify logs n at info level.
func (l logNotifier) Notify(_ context.Context, n broker.Notification) error {
	logger := l.logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Info("notify", "kind", n.Kind, "ticket", n.TicketID, "to", strings.Join(n.To, ","), "message", n.Message)
	return nil
}
