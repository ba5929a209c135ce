package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker/tasks"
)

// redis: username, TLS and timeouts for a cluster or a sentinel group, and
// the refusals that keep a config from meaning two things.
func TestRedisClientConfig(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func() *Config {
		c := &Config{}
		c.Redis.ClusterAddrs = []string{"10.0.0.1:6379", "10.0.0.2:6379"}
		c.OIDC.Issuer, c.OIDC.ClientIDs = "https://login.example.com", []string{"jit"}
		return c
	}
	for _, tc := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"negative timeout", func(c *Config) { c.Redis.ReadTimeout = -time.Second }, "redis.read_timeout"},
		{"reload too often", func(c *Config) { c.Redis.ClusterReloadInterval = time.Millisecond }, "redis.cluster_reload_interval"},
		{"reload without cluster", func(c *Config) {
			c.Redis.ClusterAddrs, c.Redis.URL = nil, "redis://127.0.0.1:6379/0"
			c.Redis.ClusterReloadInterval = time.Second
		}, "only for cluster_addrs"},
		{"username with url", func(c *Config) { c.Redis.ClusterAddrs, c.Redis.URL, c.Redis.Username = nil, "redis://h:6379", "jit" }, "redis.url"},
		{"tls with url", func(c *Config) { c.Redis.ClusterAddrs, c.Redis.URL, c.Redis.TLS.Enabled = nil, "redis://h:6379", true }, "rediss://"},
		{"tls files, tls off", func(c *Config) { c.Redis.TLS.CAFile = ca }, "enabled: true"},
		{"cert without key", func(c *Config) { c.Redis.TLS = RedisTLS{Enabled: true, CertFile: ca} }, "cert_file and key_file"},
		{"bad CA file", func(c *Config) { c.Redis.TLS = RedisTLS{Enabled: true, CAFile: ca} }, "no PEM certificate"},
		{"missing CA file", func(c *Config) { c.Redis.TLS = RedisTLS{Enabled: true, CAFile: ca + ".missing"} }, "redis.tls.ca_file"},
		{"sentinel auth without sentinel", func(c *Config) { c.Redis.Sentinel.Password = "x" }, "redis.sentinel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(c)
			if err := c.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("validate: %v, want an error naming %s", err, tc.want)
			}
		})
	}

	t.Run("cluster", func(t *testing.T) {
		c := base()
		c.Redis.Username, c.Redis.Password = "jit", "secret"
		c.Redis.TLS = RedisTLS{Enabled: true, ServerName: "redis.internal"}
		c.Redis.DialTimeout, c.Redis.ReadTimeout, c.Redis.WriteTimeout = time.Second, 2*time.Second, 3*time.Second
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		opt, err := redisConnOpt(c.Redis)
		if err != nil {
			t.Fatal(err)
		}
		cc, ok := opt.(tasks.Shared).Client.(*redis.ClusterClient)
		if !ok {
			t.Fatalf("client %T, want one shared *redis.ClusterClient", opt.MakeRedisClient())
		}
		defer cc.Close()
		if opt.MakeRedisClient() != opt.MakeRedisClient() {
			t.Error("each MakeRedisClient made a new client; want one per process")
		}
		o := cc.Options()
		if o.ClusterStateReloadInterval != DefaultClusterReload || o.Username != "jit" || o.Password != "secret" ||
			o.TLSConfig == nil || o.TLSConfig.ServerName != "redis.internal" ||
			o.DialTimeout != time.Second || o.ReadTimeout != 2*time.Second || o.WriteTimeout != 3*time.Second {
			t.Errorf("cluster options %+v", o)
		}
	})

	t.Run("sentinel", func(t *testing.T) {
		c := base()
		c.Redis.ClusterAddrs = nil
		c.Redis.Sentinel.MasterName, c.Redis.Sentinel.Addrs = "jit", []string{"10.0.0.1:26379"}
		c.Redis.Sentinel.Username, c.Redis.Sentinel.Password = "watcher", "s3"
		c.Redis.Username, c.Redis.TLS.Enabled, c.Redis.ReadTimeout = "jit", true, time.Second
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		rdb, err := newRedisClient(c.Redis)
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		if _, ok := rdb.(*redis.Client); !ok {
			t.Errorf("client %T, want a failover *redis.Client", rdb)
		}
		if o := rdb.(*redis.Client).Options(); o.Username != "jit" || o.TLSConfig == nil || o.ReadTimeout != time.Second {
			t.Errorf("sentinel client options %+v", o)
		}
	})
}
