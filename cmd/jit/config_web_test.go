package main

import (
	"strings"
	"testing"
)

// web.terminate_reason: required by default, optional on request, and
// nothing else.
func TestWebConfig(t *testing.T) {
	base := func() *Config {
		c := &Config{}
		c.Redis.URL = "redis://127.0.0.1:6379/0"
		c.OIDC.Issuer, c.OIDC.ClientIDs = "https://login.example.com", []string{"jit"}
		return c
	}
	c := base()
	if err := c.validate(); err != nil || c.Web.TerminateReason != "required" {
		t.Fatalf("default: %q %v, want required", c.Web.TerminateReason, err)
	}
	c = base()
	c.Web.TerminateReason = "optional"
	if err := c.validate(); err != nil || c.Web.TerminateReason != "optional" {
		t.Fatalf("optional: %q %v", c.Web.TerminateReason, err)
	}
	c = base()
	c.Web.TerminateReason = "sometimes"
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "web.terminate_reason") {
		t.Fatalf("sometimes: %v, want an error naming web.terminate_reason", err)
	}
}
