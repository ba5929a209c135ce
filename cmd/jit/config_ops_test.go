package main

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The metrics, log, audit and notify sections refuse bad values naming
// the field, and accept good ones.
func TestOpsConfig(t *testing.T) {
	key := strings.Repeat("k", 32)
	for _, tc := range []struct {
		yaml string
		want string // "" : valid
	}{
		{"{}", ""},
		{"{metrics: {listen: 127.0.0.1:9090}, log: {format: text, level: debug}, audit: {key: " + key + ", retention: 720h}}", ""},
		{"{metrics: {listen: nine}}", "metrics.listen"},
		{"{log: {format: xml}}", "log.format"},
		{"{log: {level: loud}}", "log.level"},
		{"{audit: {key: short}}", "audit.key"},
		{"{audit: {key: " + key + ", key_file: /x}}", "audit: set key or key_file"},
		{"{audit: {retention: 10m}}", "audit.retention"},
		{"{audit: {key_file: /nonexistent/jit-audit-key}}", "audit.key_file"},
		{`{notify: {email: {smtp: {host: smtp.example.com, from: "JIT <jit@example.com>"}}}}`, ""},
		{`{notify: {email: {smtp: {host: smtp.example.com, from: "not an address"}}}}`, "notify.email.smtp.from"},
		{`{notify: {email: {smtp: {host: smtp.example.com, from: "j@example.com", tls: maybe}}}}`, "notify.email.smtp"},
		{`{notify: {slack: {bot_token: xoxb-1}}}`, "notify.slack needs both"},
		{`{notify: {slack: {bot_token: xoxb-1, signing_secret: s}}}`, "notify.slack: set channels"},
		{`{notify: {slack: {bot_token: xoxb-1, signing_secret: s, default_channel: C1}}}`, ""},
	} {
		var c Config
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		err := c.validateOps()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", tc.yaml, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want an error naming %q", tc.yaml, err, tc.want)
		}
	}
}
