// Package smtptest runs a real SMTP server (emersion/go-smtp) in the test
// process and keeps what it receives, decoded, for assertions.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message as the server received it.
type Mail struct {
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Raw     string
	// TLS says the message came over a TLS connection (after STARTTLS);
	// User is who authenticated, "" for nobody.
	TLS  bool
	User string
}

// Server is a running SMTP server on 127.0.0.1: without TLS or auth from
// Start, with STARTTLS and required authentication from StartTLS.
type Server struct {
	Host string
	Port int
	// CertPEM is the server's self-signed certificate (StartTLS only), for
	// the client's trusted roots.
	CertPEM []byte

	user, password string // required login, if set

	mu     sync.Mutex
	mails  []Mail
	refuse bool
	tries  int
}

// Start starts a server that stops with the test.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, &Server{}, nil)
}

// StartTLS starts a server that offers STARTTLS with a certificate for
// "localhost" and requires PLAIN authentication as user and password
// (over TLS only) before it takes mail.
func StartTLS(t testing.TB, user, password string) *Server {
	t.Helper()
	cert, pemBytes, err := selfSigned("localhost")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{CertPEM: pemBytes, user: user, password: password}
	return start(t, s, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
}

func start(t testing.TB, s *Server, tlsConfig *tls.Config) *Server {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Host, s.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.TLSConfig = tlsConfig
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// selfSigned makes a certificate for host, and its PEM.
func selfSigned(host string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// Refuse makes the server refuse (or accept again) every recipient with a
// temporary error (451).
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	s.refuse = on
	s.mu.Unlock()
}

// Tries returns how many recipients were offered, refused ones included.
func (s *Server) Tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// Mails returns what was received so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Wait polls until pred holds for the mails received, or fails the test
// after within.
func (s *Server) Wait(t testing.TB, within time.Duration, what string, pred func([]Mail) bool) []Mail {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := s.Mails()
		if pred(m) {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; received %d mails: %+v", within, what, len(m), m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, conn: c}, nil }

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) tls() bool {
	_, ok := x.conn.TLSConnectionState()
	return ok
}

// AuthMechanisms implements smtp.AuthSession: PLAIN when the server
// requires a login, over TLS only.
func (x *session) AuthMechanisms() []string {
	if x.s.user == "" || !x.tls() {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth implements smtp.AuthSession.
func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || x.s.user == "" || !x.tls() {
		return nil, smtp.ErrAuthUnsupported
	}
	return sasl.NewPlainServer(func(_, user, password string) error {
		if user != x.s.user || password != x.s.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.user != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.tries++
	if x.s.refuse {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := decode(raw)
	m.From, m.To, m.TLS, m.User = x.from, x.to, x.tls(), x.user
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	return nil
}

// decode reads the subject and the text and HTML parts of a message.
func decode(raw []byte) Mail {
	m := Mail{Raw: string(raw)}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return m
	}
	dec := new(mime.WordDecoder)
	if s, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = s
	}
	walk(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

func walk(m *Mail, ctype, cte string, body io.Reader) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(body)
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
}
