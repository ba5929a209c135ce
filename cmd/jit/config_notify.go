package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/broker/redisstore"
	jitslack "github.com/jitaccess/jit/console/slack"
)

// NotifyConfig says how people are told about tickets.
type NotifyConfig struct {
	// Email sends mail over SMTP; without email.smtp.host notifications
	// are logged at info level instead.
	Email struct {
		SMTP SMTPConfig `yaml:"smtp"`
	} `yaml:"email"`
	// PreExpiry is how long before a ticket's end its people are told
	// (default 15m; a negative value turns the notice off).
	PreExpiry time.Duration `yaml:"pre_expiry"`
	// Slack posts ticket news to a channel per account, with Approve and
	// Reject buttons on approval requests (docs/notifications.md).
	Slack SlackConfig `yaml:"slack"`
	// MaxRetry is how often a failed delivery is retried, with backoff
	// (default 8).
	MaxRetry int `yaml:"max_retry"`
}

// SlackConfig is the Slack app JIT posts as.
type SlackConfig struct {
	// BotToken (env JIT_SLACK_BOT_TOKEN) and SigningSecret (env
	// JIT_SLACK_SIGNING_SECRET) are the app's; never logged.
	BotToken      string `yaml:"bot_token"`
	SigningSecret string `yaml:"signing_secret"`
	// Channels maps account ids to channel ids; DefaultChannel is for the
	// other accounts (empty: they are not posted).
	Channels       map[string]string `yaml:"channels"`
	DefaultChannel string            `yaml:"default_channel"`
	// PermissionSetChannels maps permission sets to channel ids; they win
	// over the account's.
	PermissionSetChannels map[string]string `yaml:"permission_set_channels"`
	// APIURL overrides Slack's Web API address (tests).
	APIURL string `yaml:"api_url"`
}

// SMTPConfig is the mail server (see notify.SMTPConfig).
type SMTPConfig struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// TLS is starttls (default), opportunistic, tls or none.
	TLS      string `yaml:"tls"`
	Username string `yaml:"username"`
	// Password (env JIT_SMTP_PASSWORD) is never logged.
	Password string `yaml:"password"`
	From     string `yaml:"from"`
	// CAFile names PEM certificates trusted for the server's TLS (a
	// private relay's CA); empty trusts the system's roots.
	CAFile string `yaml:"ca_file"`
}

// validateNotify checks the notify section.
func (c *Config) validateNotify() error {
	if v, ok := os.LookupEnv("JIT_SMTP_PASSWORD"); ok {
		c.Notify.Email.SMTP.Password = v
	}
	if v, ok := os.LookupEnv("JIT_SLACK_BOT_TOKEN"); ok {
		c.Notify.Slack.BotToken = v
	}
	if v, ok := os.LookupEnv("JIT_SLACK_SIGNING_SECRET"); ok {
		c.Notify.Slack.SigningSecret = v
	}
	if sl := c.Notify.Slack; (sl.BotToken == "") != (sl.SigningSecret == "") {
		return fmt.Errorf("notify.slack needs both bot_token and signing_secret")
	} else if sl.BotToken != "" && len(sl.Channels) == 0 && len(sl.PermissionSetChannels) == 0 && sl.DefaultChannel == "" {
		return fmt.Errorf("notify.slack: set channels, permission_set_channels or default_channel")
	}
	s := c.Notify.Email.SMTP
	if s.Host == "" {
		return nil
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("notify.email.smtp.from %q must be an address such as \"JIT <jit@example.com>\"", s.From)
	}
	if c.Notify.MaxRetry < 0 {
		return fmt.Errorf("notify.max_retry %d must not be negative", c.Notify.MaxRetry)
	}
	_, err := c.smtp()
	return err
}

// smtp returns the mail sender, or nil without a host.
func (c *Config) smtp() (*notify.SMTP, error) {
	s := c.Notify.Email.SMTP
	if s.Host == "" {
		return nil, nil
	}
	cfg := notify.SMTPConfig{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Password: s.Password, From: s.From}
	if s.CAFile != "" {
		pemBytes, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notify.email.smtp.ca_file: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("notify.email.smtp.ca_file %s holds no PEM certificate", s.CAFile)
		}
	}
	m, err := notify.NewSMTP(cfg)
	if err != nil {
		return nil, fmt.Errorf("notify.email.smtp: %w", err)
	}
	return m, nil
}

// slack returns the Slack channel, or nil when not configured.
func (c *Config) slack(rdb redis.UniversalClient, logger *slog.Logger) (*jitslack.Slack, error) {
	sl := c.Notify.Slack
	if sl.BotToken == "" {
		return nil, nil
	}
	s, err := jitslack.New(jitslack.Config{Token: sl.BotToken, SigningSecret: sl.SigningSecret, APIURL: sl.APIURL,
		Channels: sl.Channels, PermissionSets: sl.PermissionSetChannels, Default: sl.DefaultChannel, BaseURL: c.BaseURL,
		Replay: redisstore.NewReplayGuard(rdb, ""), Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("notify.slack: %w", err)
	}
	return s, nil
}
