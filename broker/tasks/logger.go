package tasks

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/hibiken/asynq"
)

// Logger adapts a *slog.Logger to asynq.Logger, so Asynq's own messages go
// to the same log as everything else.
type Logger struct {
	l *slog.Logger
}

var _ asynq.Logger = (*Logger)(nil)

// NewLogger returns an asynq.Logger that writes to l under "component=asynq".
func NewLogger(l *slog.Logger) *Logger {
	if l == nil {
		l = slog.Default()
	}
	return &Logger{l: l.With("component", "asynq")}
}

// Debug logs at debug level.
func (l *Logger) Debug(args ...any) { l.l.Debug(fmt.Sprint(args...)) }

// Info logs at info level.
func (l *Logger) Info(args ...any) { l.l.Info(fmt.Sprint(args...)) }

// Warn logs at warning level.
func (l *Logger) Warn(args ...any) { l.l.Warn(fmt.Sprint(args...)) }

// Error logs at error level.
func (l *Logger) Error(args ...any) { l.l.Error(fmt.Sprint(args...)) }

// Fatal logs at error level and exits with status 1, as asynq.Logger
// requires.
func (l *Logger) Fatal(args ...any) {
	l.l.Error(fmt.Sprint(args...), "fatal", true)
	os.Exit(1)
}
