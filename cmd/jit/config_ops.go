package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// MetricsConfig says where Prometheus metrics are served.
type MetricsConfig struct {
	// Listen, if set, serves GET /metrics on its own address (and not on
	// the API's); empty serves it on the API's address.
	Listen string `yaml:"listen"`
}

// LogConfig says how the server logs.
type LogConfig struct {
	// Format is "json" (default) or "text".
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
}

// AuditConfig holds the audit log's signing key, which must never be
// stored in Redis.
type AuditConfig struct {
	// Key is the HMAC-SHA-256 key of the audit chain, at least 32
	// characters (env JIT_AUDIT_KEY); or KeyFile names a file holding it.
	Key     string `yaml:"key"`
	KeyFile string `yaml:"key_file"`
	// Sink, if set, also streams each event as it is recorded:
	// "file:/path" (JSON lines), "syslog:", "syslog://host:514" (UDP) or
	// "syslog+tcp://host:514".
	Sink string `yaml:"sink"`
	// Retention, if set, is how long events are kept: workers trim older
	// ones hourly, keeping the rest verifiable from a signed checkpoint.
	Retention time.Duration `yaml:"retention"`
}

// applyOpsEnv applies the environment overrides of the sections above.
func (c *Config) applyOpsEnv() {
	if v, ok := os.LookupEnv("JIT_AUDIT_KEY"); ok {
		c.Audit.Key = v
	}
	if v, ok := os.LookupEnv("JIT_METRICS_LISTEN"); ok {
		c.Metrics.Listen = v
	}
}

// minAuditKey is the shortest audit key accepted.
const minAuditKey = 32

// validateOps checks the metrics, log and audit sections.
func (c *Config) validateOps() error {
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			return fmt.Errorf("metrics.listen %q must be host:port", c.Metrics.Listen)
		}
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		return fmt.Errorf("log.format %q must be json or text", c.Log.Format)
	}
	var l slog.Level
	if c.Log.Level != "" {
		if err := l.UnmarshalText([]byte(c.Log.Level)); err != nil {
			return fmt.Errorf("log.level %q must be debug, info, warn or error", c.Log.Level)
		}
	}
	if c.Audit.Retention < 0 || (c.Audit.Retention > 0 && c.Audit.Retention < time.Hour) {
		return fmt.Errorf("audit.retention %s must be at least 1h (or unset: keep everything)", c.Audit.Retention)
	}
	if c.Audit.Key != "" && c.Audit.KeyFile != "" {
		return fmt.Errorf("audit: set key or key_file, not both")
	}
	if c.Audit.KeyFile != "" {
		b, err := os.ReadFile(c.Audit.KeyFile)
		if err != nil {
			return fmt.Errorf("audit.key_file: %w", err)
		}
		c.Audit.Key = strings.TrimSpace(string(b))
		c.Audit.KeyFile = ""
	}
	if c.Audit.Key != "" && len(c.Audit.Key) < minAuditKey {
		return fmt.Errorf("audit.key must be at least %d characters", minAuditKey)
	}
	return c.validateNotify()
}

// auditKey returns the audit signing key. Without one the chain is still
// kept, with an empty key: it finds accidents, not someone who can write
// to Redis, and the server warns about it at start.
func (c *Config) auditKey() []byte { return []byte(c.Audit.Key) }

// newLogger returns the server's logger: JSON (or text) lines on w, each
// carrying the request id of the request it is about.
func (c LogConfig) newLogger(w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(c.Level)) // checked by validateOps; "" is info
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(broker.NewLogHandler(h))
}
