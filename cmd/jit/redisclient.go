package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker/tasks"
)

// DefaultClusterReload is how often a cluster client refreshes its slot map
// when nothing forces it to. go-redis's own 60 s (and its reload on MOVED
// replies only) left the API failing for up to a minute after a master's
// replica was promoted; a slot map at most a second old costs one CLUSTER
// SLOTS a second per process.
const DefaultClusterReload = time.Second

// RedisTLS turns on TLS to Redis (cluster and sentinel; a url says
// rediss:// instead).
type RedisTLS struct {
	Enabled bool `yaml:"enabled"`
	// CAFile is a PEM bundle of the CAs that sign the servers'
	// certificates; default the system's roots.
	CAFile string `yaml:"ca_file"`
	// ServerName is the name the servers' certificates must carry; default
	// the host of each address.
	ServerName string `yaml:"server_name"`
	// CertFile and KeyFile are a client certificate, for services that ask
	// for one.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// validateClient checks the connection settings shared by the three
// ways of reaching Redis.
func (c *RedisConfig) validateClient() error {
	for name, d := range map[string]time.Duration{"dial_timeout": c.DialTimeout, "read_timeout": c.ReadTimeout,
		"write_timeout": c.WriteTimeout, "cluster_reload_interval": c.ClusterReloadInterval} {
		if d < 0 {
			return fmt.Errorf("redis.%s %s must not be negative", name, d)
		}
	}
	if c.ClusterReloadInterval != 0 && c.ClusterReloadInterval < 100*time.Millisecond {
		return fmt.Errorf("redis.cluster_reload_interval %s: at least 100ms", c.ClusterReloadInterval)
	}
	if c.ClusterReloadInterval != 0 && len(c.ClusterAddrs) == 0 {
		return errors.New("redis.cluster_reload_interval is only for cluster_addrs")
	}
	if c.URL != "" && (c.Username != "" || c.TLS.Enabled) {
		return errors.New("redis.url: put the username in the URL (redis://user:password@host) and use rediss:// for TLS, not redis.username or redis.tls")
	}
	if (c.Sentinel.Username != "" || c.Sentinel.Password != "") && c.Sentinel.MasterName == "" {
		return errors.New("redis.sentinel.username and password are only for a sentinel group")
	}
	if !c.TLS.Enabled && c.TLS != (RedisTLS{}) {
		return errors.New("redis.tls: set enabled: true to use ca_file, server_name, cert_file or key_file")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("redis.tls: cert_file and key_file go together")
	}
	if c.TLS.Enabled {
		if _, err := c.TLS.config(); err != nil {
			return err
		}
	}
	return nil
}

// config reads the TLS files.
func (t RedisTLS) config() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redis.tls.ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis.tls.ca_file %s holds no PEM certificate", t.CAFile)
		}
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("redis.tls.cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// redisConnOpt makes the one go-redis client of a process and wraps it for
// Asynq (tasks.Shared): the store, the scheduler and the worker all use it,
// so a cluster's slot map is reloaded in one place for all of them.
func redisConnOpt(c RedisConfig) (asynq.RedisConnOpt, error) {
	rdb, err := newRedisClient(c)
	if err != nil {
		return nil, err
	}
	return tasks.Shared{Client: rdb}, nil
}

// newRedisClient makes the client the config describes (validated by
// loadConfig).
func newRedisClient(c RedisConfig) (redis.UniversalClient, error) {
	var tlsCfg *tls.Config
	if c.TLS.Enabled {
		var err error
		if tlsCfg, err = c.TLS.config(); err != nil {
			return nil, err
		}
	}
	switch {
	case c.URL != "":
		opt, err := asynq.ParseRedisURI(c.URL)
		if err != nil {
			return nil, fmt.Errorf("redis.url: %w", err)
		}
		switch o := opt.(type) {
		case asynq.RedisClientOpt:
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout = c.DialTimeout, c.ReadTimeout, c.WriteTimeout
			opt = o
		case asynq.RedisFailoverClientOpt:
			o.DialTimeout, o.ReadTimeout, o.WriteTimeout = c.DialTimeout, c.ReadTimeout, c.WriteTimeout
			opt = o
		}
		rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
		if !ok {
			return nil, fmt.Errorf("redis.url: unsupported connection %T", opt)
		}
		return rdb, nil
	case len(c.ClusterAddrs) > 0:
		reload := c.ClusterReloadInterval
		if reload == 0 {
			reload = DefaultClusterReload
		}
		rdb := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: c.ClusterAddrs, Username: c.Username, Password: c.Password, TLSConfig: tlsCfg,
			DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
			ClusterStateReloadInterval: reload,
			// A node that failed a command is avoided for this long; the
			// default 15 s outlasts a failover.
			FailingTimeoutSeconds: 2,
		})
		rdb.AddHook(reloadOnNetError{rdb})
		return rdb, nil
	default:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: c.Sentinel.MasterName, SentinelAddrs: c.Sentinel.Addrs,
			SentinelUsername: c.Sentinel.Username, SentinelPassword: c.Sentinel.Password,
			Username: c.Username, Password: c.Password, TLSConfig: tlsCfg,
			DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		}), nil
	}
}

// reloadOnNetError asks a cluster client for a fresh slot map whenever a
// command fails for want of a node (refused, reset, timed out), not only on
// the MOVED reply that a dead master never sends.
type reloadOnNetError struct{ c *redis.ClusterClient }

func (h reloadOnNetError) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.c.ReloadState(ctx)
		}
		return conn, err
	}
}

func (h reloadOnNetError) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnNetError) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnNetError) check(ctx context.Context, err error) {
	var redisErr redis.Error
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) || (errors.As(err, &redisErr) && !isClusterDown(redisErr)) {
		return
	}
	h.c.ReloadState(ctx)
}

// isClusterDown reports the replies a cluster gives while it fails over.
func isClusterDown(err redis.Error) bool {
	return strings.HasPrefix(err.Error(), "CLUSTERDOWN") || strings.HasPrefix(err.Error(), "TRYAGAIN")
}
