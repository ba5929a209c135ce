package main

import (
	"fmt"
	"log/slog"
	"log/syslog"
	"net/url"
	"os"
	"strings"
	"sync"
)

// openAuditSink opens where each audit event is also streamed as it is
// recorded: "file:/path" appends JSON lines, "syslog:" writes to the local
// syslog, "syslog://host:514" (UDP) or "syslog+tcp://host:514" to a remote
// one. A failed write is logged, never returned: the event is in Redis.
func openAuditSink(spec string, logger *slog.Logger) (func(raw []byte), func(), error) {
	switch {
	case spec == "":
		return nil, func() {}, nil
	case strings.HasPrefix(spec, "file:"):
		f, err := os.OpenFile(strings.TrimPrefix(spec, "file:"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("audit.sink: %w", err)
		}
		var mu sync.Mutex
		return func(raw []byte) {
			mu.Lock()
			defer mu.Unlock()
			if _, err := f.Write(append(append([]byte(nil), raw...), '\n')); err != nil {
				logger.Error("audit sink", "err", err)
			}
		}, func() { f.Close() }, nil
	case spec == "syslog:" || strings.HasPrefix(spec, "syslog://") || strings.HasPrefix(spec, "syslog+tcp://"):
		network, addr := "", ""
		if spec != "syslog:" {
			u, err := url.Parse(spec)
			if err != nil || u.Host == "" {
				return nil, nil, fmt.Errorf("audit.sink %q: want syslog://host:port", spec)
			}
			network, addr = "udp", u.Host
			if u.Scheme == "syslog+tcp" {
				network = "tcp"
			}
		}
		w, err := syslog.Dial(network, addr, syslog.LOG_INFO|syslog.LOG_AUTH, "jit-audit")
		if err != nil {
			return nil, nil, fmt.Errorf("audit.sink: %w", err)
		}
		return func(raw []byte) {
			if err := w.Info(string(raw)); err != nil {
				logger.Error("audit sink", "err", err)
			}
		}, func() { w.Close() }, nil
	}
	return nil, nil, fmt.Errorf("audit.sink %q: want file:/path, syslog:, syslog://host:port or syslog+tcp://host:port", spec)
}
