package main

import (
	"testing"

	"gopkg.in/yaml.v3"
)

// rate_limit: unset fields take the defaults; an explicit 0 turns it off.
func TestRateLimitConfig(t *testing.T) {
	for _, tc := range []struct {
		yaml             string
		perMinute, burst int
	}{
		{"{}", defaultWritesPerMinute, defaultWriteBurst},
		{"{rate_limit: {}}", defaultWritesPerMinute, defaultWriteBurst},
		{"{rate_limit: {writes_per_minute: 0}}", 0, defaultWriteBurst},
		{"{rate_limit: {writes_per_minute: 10}}", 10, defaultWriteBurst},
		{"{rate_limit: {writes_per_minute: 10, burst: 3}}", 10, 3},
	} {
		var c Config
		if err := yaml.Unmarshal([]byte(tc.yaml), &c); err != nil {
			t.Fatal(err)
		}
		if perMinute, burst := c.RateLimit.limits(); perMinute != tc.perMinute || burst != tc.burst {
			t.Errorf("%s: limits %d/min burst %d, want %d/min burst %d", tc.yaml, perMinute, burst, tc.perMinute, tc.burst)
		}
	}
}
