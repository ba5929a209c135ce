package notify_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker/notify"
	"github.com/jitaccess/jit/internal/smtptest"
)

func testMessage() notify.Message {
	return notify.Message{To: "bob@example.com", Subject: "Ticket t1 needs your approval", Text: "text body", HTML: "<p>html body</p>"}
}

// STARTTLS and authentication as configured: the mail travels encrypted
// and authenticated; a wrong password, an untrusted certificate, or a
// server without STARTTLS under the default policy send nothing (never
// the mail or the password in plain text).
func TestSMTPStartTLSAndAuth(t *testing.T) {
	srv := smtptest.StartTLS(t, "jit", "s3cret")
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(srv.CertPEM)
	send := func(cfg notify.SMTPConfig) error {
		t.Helper()
		s, err := notify.NewSMTP(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s.Send(context.Background(), testMessage())
	}
	base := notify.SMTPConfig{Host: "localhost", Port: srv.Port, From: "JIT <jit@example.com>", Username: "jit", Password: "s3cret", RootCAs: roots}

	if err := send(base); err != nil {
		t.Fatalf("STARTTLS with the right password: %v", err)
	}
	ms := srv.Mails()
	if len(ms) != 1 || !ms[0].TLS || ms[0].User != "jit" || ms[0].Subject != "Ticket t1 needs your approval" || !strings.Contains(ms[0].Text, "text body") {
		t.Fatalf("received %+v, want one mail over TLS authenticated as jit", ms)
	}

	wrong := base
	wrong.Password = "guess"
	if err := send(wrong); err == nil || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v, want the server's 535", err)
	}
	untrusted := base
	untrusted.RootCAs = x509.NewCertPool()
	if err := send(untrusted); err == nil {
		t.Error("a certificate nobody trusts was accepted")
	}
	noAuth := base
	noAuth.Username, noAuth.Password = "", ""
	if err := send(noAuth); err == nil {
		t.Error("the server requires a login, but mail without one was reported sent")
	}
	if n := len(srv.Mails()); n != 1 {
		t.Errorf("the server holds %d mails after the refused sends, want 1", n)
	}

	// A server that offers no STARTTLS: the default policy (starttls)
	// refuses to send; only tls: none sends in plain text.
	plain := smtptest.Start(t)
	cfg := notify.SMTPConfig{Host: plain.Host, Port: plain.Port, From: "JIT <jit@example.com>"}
	if err := send(cfg); err == nil {
		t.Error("starttls (the default) sent to a server without STARTTLS")
	}
	cfg.TLS = notify.TLSNone
	if err := send(cfg); err != nil || len(plain.Mails()) != 1 || plain.Mails()[0].TLS {
		t.Errorf("tls: none: %v, %+v", err, plain.Mails())
	}
}
