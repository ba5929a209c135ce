package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// on_call: each provider with both its base URL and its key file, or
// neither; the key file read at startup, its content never in an error.
func TestOnCallConfig(t *testing.T) {
	base := func() *Config {
		c := &Config{}
		c.Redis.URL = "redis://127.0.0.1:6379/0"
		c.OIDC.Issuer, c.OIDC.ClientIDs = "https://login.example.com", []string{"jit"}
		return c
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "key")
	os.WriteFile(good, []byte("s3cret-key\n"), 0o600)
	twoLines := filepath.Join(dir, "two")
	os.WriteFile(twoLines, []byte("s3cret-key\nmore\n"), 0o600)

	c := base()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if src, err := c.onCall(); err != nil || src != nil {
		t.Fatalf("none configured: %v %v, want nil", src, err)
	}
	for _, tc := range []struct {
		p    OnCallProvider
		want string
	}{
		{OnCallProvider{BaseURL: "https://api.pagerduty.com"}, "on_call.pagerduty: base_url and token_file"},
		{OnCallProvider{TokenFile: good}, "on_call.pagerduty: base_url and token_file"},
		{OnCallProvider{BaseURL: "ftp://x", TokenFile: good}, "on_call.pagerduty.base_url"},
	} {
		c := base()
		c.OnCall.PagerDuty = tc.p
		if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.want)
		}
	}
	c = base()
	c.OnCall.Opsgenie = OnCallProvider{BaseURL: "https://api.opsgenie.com", TokenFile: good}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if src, err := c.onCall(); err != nil || src == nil {
		t.Fatalf("opsgenie: %v %v", src, err)
	}
	for _, f := range []string{filepath.Join(dir, "missing"), twoLines} {
		c.OnCall.Opsgenie.TokenFile = f
		if _, err := c.onCall(); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "on_call.opsgenie.token_file") {
			t.Errorf("key file %s: %v", f, err)
		}
	}
}
