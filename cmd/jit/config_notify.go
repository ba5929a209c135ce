package main

import (
	"fmt"
	"net/mail"
	"os"
	"time"

	"github.com/jitaccess/jit/broker/notify"
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
	// MaxRetry is how often a failed delivery is retried, with backoff
	// (default 8).
	MaxRetry int `yaml:"max_retry"`
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
}

// validateNotify checks the notify section.
func (c *Config) validateNotify() error {
	if v, ok := os.LookupEnv("JIT_SMTP_PASSWORD"); ok {
		c.Notify.Email.SMTP.Password = v
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
	m, err := notify.NewSMTP(notify.SMTPConfig{Host: s.Host, Port: s.Port, TLS: s.TLS, Username: s.Username, Password: s.Password, From: s.From})
	if err != nil {
		return nil, fmt.Errorf("notify.email.smtp: %w", err)
	}
	return m, nil
}
