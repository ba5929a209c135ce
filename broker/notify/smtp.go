package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/wneessen/go-mail"
)

// TLS modes of SMTPConfig.
const (
	TLSStartTLS      = "starttls"      // STARTTLS required (default)
	TLSOpportunistic = "opportunistic" // STARTTLS when offered
	TLSImplicit      = "tls"           // TLS from the first byte (port 465)
	TLSNone          = "none"          // plain text: only for a local relay
)

// SMTPConfig says how to reach the mail server; zero fields mean the
// defaults.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 (465 with TLSImplicit, 25 with TLSNone).
	Port int
	// TLS is TLSStartTLS (default), TLSOpportunistic, TLSImplicit or TLSNone.
	TLS string
	// Username and Password, when set, authenticate (PLAIN, or what the
	// server offers).
	Username string
	Password string
	// From is the sender address, as "JIT <jit@example.com>".
	From    string
	Timeout time.Duration // default 15 s
	// RootCAs, if set, are the certificates trusted for the server's TLS
	// (a private relay's CA); nil trusts the system's roots.
	RootCAs *x509.CertPool
}

// SMTP sends mail through a server.
type SMTP struct{ cfg SMTPConfig }

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns a sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, fmt.Errorf("notify: smtp host and from are required")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSOpportunistic, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("notify: smtp tls %q must be starttls, opportunistic, tls or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
		if cfg.Port == 0 {
			cfg.Port = 587
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &SMTP{cfg: cfg}, nil
}

// Send delivers m.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg := mail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	opts := []mail.Option{mail.WithPort(s.cfg.Port), mail.WithTimeout(s.cfg.Timeout)}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	}
	if s.cfg.RootCAs != nil {
		opts = append(opts, mail.WithTLSConfig(&tls.Config{ServerName: s.cfg.Host, RootCAs: s.cfg.RootCAs, MinVersion: tls.VersionTLS12}))
	}
	if s.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	c, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp send to %s: %w", m.To, err)
	}
	return nil
}
