package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/oncall"
)

// OnCallConfig says how JIT asks schedule providers who is on call, for
// approval rules with auto_approve_on_call (docs/auto-approval.md). A
// provider left out auto-approves nobody: its rules' tickets wait for
// people.
type OnCallConfig struct {
	PagerDuty OnCallProvider `yaml:"pagerduty"`
	Opsgenie  OnCallProvider `yaml:"opsgenie"`
}

// OnCallProvider is one provider's API: its base URL
// (https://api.pagerduty.com, https://api.opsgenie.com or the EU one) and
// the file holding its API key (PagerDuty REST API key, Opsgenie API
// integration key), read at startup and never logged.
type OnCallProvider struct {
	BaseURL   string `yaml:"base_url"`
	TokenFile string `yaml:"token_file"`
}

// validateOnCall checks the on_call section: each provider both or neither.
func (c *Config) validateOnCall() error {
	for name, p := range map[string]OnCallProvider{"pagerduty": c.OnCall.PagerDuty, "opsgenie": c.OnCall.Opsgenie} {
		switch {
		case p.BaseURL == "" && p.TokenFile == "":
			continue
		case p.BaseURL == "" || p.TokenFile == "":
			return fmt.Errorf("on_call.%s: base_url and token_file are both required", name)
		}
		if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("on_call.%s.base_url %q must be an http(s) URL", name, p.BaseURL)
		}
	}
	return nil
}

// onCall returns the configured providers' clients, nil when none is.
func (c *Config) onCall() (broker.OnCallSource, error) {
	s := oncall.Schedules{}
	hc := &http.Client{Timeout: 10 * time.Second}
	if p := c.OnCall.PagerDuty; p.BaseURL != "" {
		tok, err := readToken("on_call.pagerduty.token_file", p.TokenFile)
		if err != nil {
			return nil, err
		}
		s[broker.OnCallPagerDuty] = &oncall.PagerDuty{BaseURL: p.BaseURL, Token: tok, HTTP: hc}
	}
	if p := c.OnCall.Opsgenie; p.BaseURL != "" {
		tok, err := readToken("on_call.opsgenie.token_file", p.TokenFile)
		if err != nil {
			return nil, err
		}
		s[broker.OnCallOpsgenie] = &oncall.Opsgenie{BaseURL: p.BaseURL, Key: tok, HTTP: hc}
	}
	if len(s) == 0 {
		return nil, nil
	}
	return s, nil
}

// readToken reads a one-line secret from a file; the error names the
// field and the file, never the content.
func readToken(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("%s %s must hold one non-empty line", field, path)
	}
	return tok, nil
}
