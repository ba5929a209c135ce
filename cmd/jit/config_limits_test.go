package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// tickets: and directory: (issue 10 §5, §6): defaults, refusals, and the
// directory a server without Identity Center gets.
func TestTicketsAndDirectoryConfig(t *testing.T) {
	base := func() *Config {
		c := &Config{}
		c.Redis.URL = "redis://127.0.0.1:6379/0"
		c.OIDC.Issuer, c.OIDC.ClientIDs = "https://login.example.com", []string{"jit"}
		return c
	}
	c := base()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.Tickets.MaxPendingPerRequester != DefaultMaxPendingPerRequester || c.Tickets.MaxLeadTime != 0 || c.directory() != nil {
		t.Errorf("defaults: %+v, directory %v; want a cap of 20, the broker's lead time, no directory", c.Tickets, c.directory())
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"negative lead time", func(c *Config) { c.Tickets.MaxLeadTime = -time.Hour }, "tickets.max_lead_time"},
		{"negative cap", func(c *Config) { c.Tickets.MaxPendingPerRequester = -1 }, "tickets.max_pending_per_requester"},
		{"bad user", func(c *Config) { c.Directory.Users = []string{"not an email"} }, "directory.users[0]"},
		{"bad domain", func(c *Config) { c.Directory.Domains = []string{"a@b"} }, "directory.domains[0]"},
		{"with Identity Center", func(c *Config) {
			c.Directory.Domains = []string{"example.com"}
			c.AWS.IdentityCenter = IdentityCenterConfig{InstanceARN: "arn:aws:sso:::instance/ssoins-1", IdentityStoreID: "d-1"}
		}, "aws.identity_center"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate: %v, want an error naming %s", err, tc.want)
			}
		})
	}
	c = base()
	c.Directory.Users, c.Directory.Domains = []string{"dave@example.org"}, []string{"example.com"}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for email, known := range map[string]bool{"dave@example.org": true, "anyone@example.com": true, "nobody@nonexistent.invalid": false} {
		_, err := c.directory().ResolveUser(context.Background(), email)
		if got := err == nil; got != known || (!known && broker.ErrorCode(err) != broker.ENOTFOUND) {
			t.Errorf("ResolveUser(%s): %v, want known=%v", email, err, known)
		}
	}
}
