package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker"
)

// Config is the server's configuration file. Environment variables
// override some fields (see applyEnv); flags override both.
type Config struct {
	Listen  string      `yaml:"listen"`
	BaseURL string      `yaml:"base_url"`
	Redis   RedisConfig `yaml:"redis"`
	OIDC    OIDCConfig  `yaml:"oidc"`
	AWS     AWSConfig   `yaml:"aws"`
	Worker  struct {
		Concurrency int `yaml:"concurrency"`
	} `yaml:"worker"`
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// Registry is the SEED: stored in Redis at startup only when Redis
	// holds no registry yet; after that `jit admin apply` changes it (see
	// docs/registry.md).
	Registry broker.RegistryData `yaml:"registry"`
	// Tickets bounds what requesters may ask for.
	Tickets TicketsConfig `yaml:"tickets"`
	// Directory lists the users JIT knows when aws.identity_center is not
	// configured (Identity Center resolves users itself).
	Directory DirectoryConfig `yaml:"directory"`
	// Metrics, Log, Audit and Notify: config_ops.go, config_notify.go.
	Metrics MetricsConfig `yaml:"metrics"`
	Log     LogConfig     `yaml:"log"`
	Audit   AuditConfig   `yaml:"audit"`
	Notify  NotifyConfig  `yaml:"notify"`
	// Web tunes the approver page.
	Web WebConfig `yaml:"web"`
	// OnCall reaches the on-call schedule providers (config_oncall.go).
	OnCall OnCallConfig `yaml:"on_call"`
}

// WebConfig tunes the approver page.
type WebConfig struct {
	// TerminateReason is "required" (default) or "optional": whether the
	// page's Terminate dialog insists on a reason.
	TerminateReason string `yaml:"terminate_reason"`
}

// TicketsConfig bounds what requesters may ask for; zero fields mean the
// defaults.
type TicketsConfig struct {
	// MaxLeadTime is how far ahead a ticket may start (default 720h, 30 days).
	MaxLeadTime time.Duration `yaml:"max_lead_time"`
	// MaxPendingPerRequester is how many tickets one requester may have
	// waiting for approval at once (default 20).
	MaxPendingPerRequester int `yaml:"max_pending_per_requester"`
	// Retention, if set, is how long an ended ticket stays in Redis after
	// its last change: workers delete older ones every hour (retention.go),
	// their audit events stay. Unset keeps every ticket.
	Retention time.Duration `yaml:"retention"`
}

// DefaultMaxPendingPerRequester is tickets.max_pending_per_requester's default.
const DefaultMaxPendingPerRequester = 20

// DirectoryConfig lists known users: beneficiaries must be among them.
// Groups lists the members of identity provider groups, so that a
// delegate acts with the delegator's groups now (broker.GroupDirectory).
type DirectoryConfig struct {
	Users   []string            `yaml:"users"`
	Domains []string            `yaml:"domains"`
	Groups  map[string][]string `yaml:"groups"`
}

// RedisConfig says where Redis is: one URL, a cluster, or a sentinel group,
// and how to connect (redisclient.go).
type RedisConfig struct {
	URL          string   `yaml:"url"`
	ClusterAddrs []string `yaml:"cluster_addrs"`
	Sentinel     struct {
		MasterName string   `yaml:"master_name"`
		Addrs      []string `yaml:"addrs"`
		// Username and Password authenticate to the sentinels themselves.
		Username string `yaml:"username"`
		Password string `yaml:"password"`
	} `yaml:"sentinel"`
	// Username and Password authenticate to the Redis servers (ACL user).
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	TLS      RedisTLS `yaml:"tls"`
	// Timeouts of one connection attempt and of one command's read and
	// write; zero means go-redis's defaults (5 s, 3 s, 3 s).
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// ClusterReloadInterval is how often a cluster client refreshes its
	// slot map; default DefaultClusterReload.
	ClusterReloadInterval time.Duration `yaml:"cluster_reload_interval"`
}

// OIDCConfig says which identity provider's tokens JIT accepts.
type OIDCConfig struct {
	Issuer      string   `yaml:"issuer"`
	ClientIDs   []string `yaml:"client_ids"`
	GroupsClaim string   `yaml:"groups_claim"`
	// WebClientID is the public client (authorization code flow with PKCE,
	// redirect URI <base_url>/callback) the approver page signs in with;
	// one of ClientIDs, the first by default.
	WebClientID string `yaml:"web_client_id"`
	// CLIClientID is the public client `jit login` signs in with
	// (authorization code with PKCE on http://127.0.0.1:<any port>/callback,
	// and the device grant); one of ClientIDs, WebClientID by default.
	CLIClientID string `yaml:"cli_client_id"`
}

// AWSConfig says how JIT reaches AWS. Credentials come from the standard
// AWS chain (environment, shared config, instance role).
type AWSConfig struct {
	Region    string `yaml:"region"`
	Partition string `yaml:"partition"`
	// Endpoint overrides every service's endpoint (the AWS sandbox).
	Endpoint string `yaml:"endpoint"`
	// ManagementRole is the role JIT assumes in each account to write deny
	// entries; empty means JIT's own credentials act in every account.
	ManagementRole string `yaml:"management_role"`
	// IdentityCenter is the instance for the identity_center grant path.
	IdentityCenter IdentityCenterConfig `yaml:"identity_center"`
}

// RateLimitConfig limits each user's writes to the API (POST, PUT, PATCH
// and DELETE under /api/v1); a write over the limit is answered 429 with
// Retry-After. The count is kept in Redis, so it holds across replicas.
type RateLimitConfig struct {
	// WritesPerMinute is the sustained rate per user; unset means
	// defaultWritesPerMinute, and an explicit 0 turns the limit off.
	WritesPerMinute *int `yaml:"writes_per_minute"`
	// Burst is how many writes a user may make at once; unset means
	// defaultWriteBurst.
	Burst *int `yaml:"burst"`
}

// The write limit when the config sets none: generous for people and
// scripts, far below what a runaway loop sends.
const (
	defaultWritesPerMinute = 60
	defaultWriteBurst      = 20
)

// limits returns the rate and burst; a rate of 0 means no limit.
func (r RateLimitConfig) limits() (perMinute, burst int) {
	perMinute, burst = defaultWritesPerMinute, defaultWriteBurst
	if r.WritesPerMinute != nil {
		perMinute = *r.WritesPerMinute
	}
	if r.Burst != nil {
		burst = *r.Burst
	}
	return perMinute, burst
}

// loadConfig reads a YAML file strictly (unknown keys are errors), applies
// environment overrides and validates the result.
func loadConfig(path string) (*Config, error) {
	cfg := &Config{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(cfg); err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
	}
	cfg.applyEnv()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// applyEnv applies JIT_* environment overrides.
func (c *Config) applyEnv() {
	for env, field := range map[string]*string{
		"JIT_LISTEN":             &c.Listen,
		"JIT_BASE_URL":           &c.BaseURL,
		"JIT_REDIS_URL":          &c.Redis.URL,
		"JIT_OIDC_ISSUER":        &c.OIDC.Issuer,
		"JIT_OIDC_GROUPS_CLAIM":  &c.OIDC.GroupsClaim,
		"JIT_OIDC_WEB_CLIENT_ID": &c.OIDC.WebClientID,
		"JIT_OIDC_CLI_CLIENT_ID": &c.OIDC.CLIClientID,
		"JIT_AWS_REGION":         &c.AWS.Region,
		"JIT_AWS_ENDPOINT":       &c.AWS.Endpoint,
	} {
		if v, ok := os.LookupEnv(env); ok {
			*field = v
		}
	}
	if v, ok := os.LookupEnv("JIT_OIDC_CLIENT_IDS"); ok {
		c.OIDC.ClientIDs = strings.Split(v, ",")
	}
	c.applyOpsEnv()
}

// validate fills defaults and names the first bad field.
func (c *Config) validate() error {
	if err := c.validateOnCall(); err != nil {
		return err
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Listen
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base_url %q must be an http(s) URL", c.BaseURL)
	}
	n := 0
	if c.Redis.URL != "" {
		n++
		if _, err := url.Parse(c.Redis.URL); err != nil || !strings.HasPrefix(c.Redis.URL, "redis") {
			return fmt.Errorf("redis.url %q must be a redis:// or rediss:// URL", c.Redis.URL)
		}
	}
	if len(c.Redis.ClusterAddrs) > 0 {
		n++
	}
	if c.Redis.Sentinel.MasterName != "" || len(c.Redis.Sentinel.Addrs) > 0 {
		n++
		if c.Redis.Sentinel.MasterName == "" || len(c.Redis.Sentinel.Addrs) == 0 {
			return errors.New("redis.sentinel needs both master_name and addrs")
		}
	}
	if n == 0 {
		return errors.New("redis: set url, cluster_addrs or sentinel")
	} else if n > 1 {
		return errors.New("redis: set only one of url, cluster_addrs and sentinel")
	}
	if err := c.Redis.validateClient(); err != nil {
		return err
	}
	if u, err := url.Parse(c.OIDC.Issuer); c.OIDC.Issuer == "" || err != nil || u.Host == "" {
		return fmt.Errorf("oidc.issuer %q must be the issuer URL of your identity provider", c.OIDC.Issuer)
	}
	if len(c.OIDC.ClientIDs) == 0 || c.OIDC.ClientIDs[0] == "" {
		return errors.New("oidc.client_ids: at least one client id (token audience) is required")
	}
	if c.OIDC.WebClientID == "" {
		c.OIDC.WebClientID = c.OIDC.ClientIDs[0]
	} else if !slices.Contains(c.OIDC.ClientIDs, c.OIDC.WebClientID) {
		return fmt.Errorf("oidc.web_client_id %q must be one of oidc.client_ids, or its tokens would be refused", c.OIDC.WebClientID)
	}
	if c.OIDC.CLIClientID != "" && !slices.Contains(c.OIDC.ClientIDs, c.OIDC.CLIClientID) {
		return fmt.Errorf("oidc.cli_client_id %q must be one of oidc.client_ids, or its tokens would be refused", c.OIDC.CLIClientID)
	}
	if c.AWS.Region == "" {
		c.AWS.Region = "us-east-1"
	}
	switch c.AWS.Partition {
	case "":
		c.AWS.Partition = "aws"
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return fmt.Errorf("aws.partition %q must be aws, aws-cn or aws-us-gov", c.AWS.Partition)
	}
	if c.AWS.Endpoint != "" {
		if u, err := url.Parse(c.AWS.Endpoint); err != nil || u.Host == "" {
			return fmt.Errorf("aws.endpoint %q must be a URL", c.AWS.Endpoint)
		}
	}
	if ic := c.AWS.IdentityCenter; (ic.InstanceARN == "") != (ic.IdentityStoreID == "") {
		return errors.New("aws.identity_center needs both instance_arn and identity_store_id")
	} else if ic.InstanceARN != "" && !strings.HasPrefix(ic.InstanceARN, "arn:") {
		return fmt.Errorf("aws.identity_center.instance_arn %q is not an ARN", ic.InstanceARN)
	}
	if err := c.validateTickets(); err != nil {
		return err
	}
	switch c.Web.TerminateReason {
	case "":
		c.Web.TerminateReason = "required"
	case "required", "optional":
	default:
		return fmt.Errorf("web.terminate_reason %q must be required or optional", c.Web.TerminateReason)
	}
	if err := c.validateOps(); err != nil {
		return err
	}
	if perMinute, burst := c.RateLimit.limits(); perMinute < 0 {
		return fmt.Errorf("rate_limit.writes_per_minute %d must not be negative (0 turns the limit off)", perMinute)
	} else if perMinute > 0 && burst < 1 {
		return fmt.Errorf("rate_limit.burst %d must be at least 1", burst)
	}
	if c.Worker.Concurrency < 0 {
		return fmt.Errorf("worker.concurrency %d must not be negative", c.Worker.Concurrency)
	}
	return checkSeed(c.seed())
}

// validateTickets checks the tickets and directory sections and fills
// their defaults.
func (c *Config) validateTickets() error {
	switch t := &c.Tickets; {
	case t.MaxLeadTime < 0:
		return fmt.Errorf("tickets.max_lead_time %s must not be negative", t.MaxLeadTime)
	case t.MaxPendingPerRequester < 0:
		return fmt.Errorf("tickets.max_pending_per_requester %d must not be negative", t.MaxPendingPerRequester)
	case t.Retention < 0 || (t.Retention > 0 && t.Retention < 24*time.Hour):
		return fmt.Errorf("tickets.retention %s must be at least 24h (or unset: keep every ticket)", t.Retention)
	case t.MaxPendingPerRequester == 0:
		t.MaxPendingPerRequester = DefaultMaxPendingPerRequester
	}
	d := c.Directory
	if (len(d.Users) > 0 || len(d.Domains) > 0) && c.AWS.IdentityCenter.InstanceARN != "" {
		return errors.New("directory: leave it out when aws.identity_center is set; Identity Center resolves users itself")
	}
	for i, u := range d.Users {
		if a, err := mail.ParseAddress(u); err != nil || a.Address != u {
			return fmt.Errorf("directory.users[%d] %q is not an email address", i, u)
		}
	}
	for g, members := range d.Groups {
		for i, m := range members {
			if a, err := mail.ParseAddress(m); err != nil || a.Address != m {
				return fmt.Errorf("directory.groups.%s[%d] %q is not an email address", g, i, m)
			}
		}
	}
	for i, dom := range d.Domains {
		if a, err := mail.ParseAddress("user@" + dom); err != nil || a.Address != "user@"+dom || strings.ContainsAny(dom, "@ ") {
			return fmt.Errorf("directory.domains[%d] %q is not an email domain", i, dom)
		}
	}
	return nil
}

// directory is the user directory for servers without Identity Center:
// the config's list, or nil (JIT then knows only the caller).
func (c *Config) directory() broker.Directory {
	if len(c.Directory.Users) == 0 && len(c.Directory.Domains) == 0 {
		return nil
	}
	return broker.ListDirectory{Users: c.Directory.Users, Domains: c.Directory.Domains}
}

// groups is the group directory: the config's directory.groups, or nil
// (then a delegate acts only with what the rules name the delegator for
// by email).
func (c *Config) groups() broker.GroupDirectory {
	if len(c.Directory.Groups) == 0 {
		return nil
	}
	return broker.ListDirectory{Groups: c.Directory.Groups}
}
