package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/console/devoidc"
)

const audience = "jit-test"

// Shared by every test: a real issuer served over HTTP, a second issuer at
// the same URL with another key, and a real OIDCVerifier.
var (
	issuer   *devoidc.Issuer
	impostor *devoidc.Issuer
	verifier *console.OIDCVerifier
)

func TestMain(m *testing.M) {
	srv := httptest.NewUnstartedServer(nil)
	url := "http://" + srv.Listener.Addr().String()
	users := []devoidc.User{
		{Email: "alice@example.com", Name: "Alice", Groups: []string{"engineers"}},
		{Email: "Bob@Example.com", Name: "Bob", Groups: []string{"approvers", "engineers"}},
		{Email: "carol@example.com", Name: "Carol"},
	}
	var err error
	if issuer, err = devoidc.New(url, audience, users); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if impostor, err = devoidc.New(url, audience, users); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv.Config.Handler = issuer.Handler()
	srv.Start()
	if verifier, err = console.NewOIDCVerifier(context.Background(), url, []string{audience}, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

// fakeService is a console.TicketService whose methods are function fields.
// A method left nil fails the test if called. Calls counts every call.
type fakeService struct {
	t     *testing.T
	calls atomic.Int32

	CreateTicketFn func(ctx context.Context, in broker.CreateTicketInput) (*broker.Ticket, error)
	TicketFn       func(ctx context.Context, id string) (*broker.Ticket, error)
	TicketsFn      func(ctx context.Context, in broker.ListInput) ([]*broker.Ticket, error)
	ApproveFn      func(ctx context.Context, id, comment string) (*broker.Ticket, error)
	RejectFn       func(ctx context.Context, id, comment string) (*broker.Ticket, error)
	TerminateFn    func(ctx context.Context, id, comment string) (*broker.Ticket, error)
	CredentialsFn  func(ctx context.Context, id string) (broker.Credentials, error)
	ConsoleURLFn   func(ctx context.Context, id, region, destination string) (string, error)
}

var _ console.TicketService = (*fakeService)(nil)

var errUnexpected = errors.New("unexpected call")

func (f *fakeService) called(name string, fn any) bool {
	f.calls.Add(1)
	if fn == nil {
		f.t.Errorf("unexpected call to %s", name)
		return false
	}
	return true
}

func (f *fakeService) CreateTicket(ctx context.Context, in broker.CreateTicketInput) (*broker.Ticket, error) {
	if !f.called("CreateTicket", f.CreateTicketFn) {
		return nil, errUnexpected
	}
	return f.CreateTicketFn(ctx, in)
}

func (f *fakeService) Ticket(ctx context.Context, id string) (*broker.Ticket, error) {
	if !f.called("Ticket", f.TicketFn) {
		return nil, errUnexpected
	}
	return f.TicketFn(ctx, id)
}

func (f *fakeService) Tickets(ctx context.Context, in broker.ListInput) ([]*broker.Ticket, error) {
	if !f.called("Tickets", f.TicketsFn) {
		return nil, errUnexpected
	}
	return f.TicketsFn(ctx, in)
}

func (f *fakeService) ApproveRevision(ctx context.Context, id string, _ int, comment string) (*broker.Ticket, error) {
	if !f.called("Approve", f.ApproveFn) {
		return nil, errUnexpected
	}
	return f.ApproveFn(ctx, id, comment)
}

func (f *fakeService) RejectRevision(ctx context.Context, id string, _ int, comment string) (*broker.Ticket, error) {
	if !f.called("Reject", f.RejectFn) {
		return nil, errUnexpected
	}
	return f.RejectFn(ctx, id, comment)
}

func (f *fakeService) Terminate(ctx context.Context, id, comment string) (*broker.Ticket, error) {
	if !f.called("Terminate", f.TerminateFn) {
		return nil, errUnexpected
	}
	return f.TerminateFn(ctx, id, comment)
}

func (f *fakeService) Credentials(ctx context.Context, id string) (broker.Credentials, error) {
	if !f.called("Credentials", f.CredentialsFn) {
		return broker.Credentials{}, errUnexpected
	}
	return f.CredentialsFn(ctx, id)
}

func (f *fakeService) ConsoleURL(ctx context.Context, id, region, destination string) (string, error) {
	if !f.called("ConsoleURL", f.ConsoleURLFn) {
		return "", errUnexpected
	}
	return f.ConsoleURLFn(ctx, id, region, destination)
}

// syncBuffer is a log sink safe for the handler goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixedNow is the console's clock in tests.
var fixedNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// harness is an app over a fake service, with its log.
type harness struct {
	app  *fiber.App
	svc  *fakeService
	logs *syncBuffer
}

func newHarness(t *testing.T, mod ...func(*console.Config)) *harness {
	t.Helper()
	h := &harness{svc: &fakeService{t: t}, logs: &syncBuffer{}}
	cfg := console.Config{
		Service:  h.svc,
		Verifier: verifier,
		Logger:   slog.New(slog.NewTextHandler(h.logs, nil)),
		Now:      func() time.Time { return fixedNow },
	}
	for _, m := range mod {
		m(&cfg)
	}
	h.app = console.New(cfg)
	return h
}

// token returns a valid ID token for the user.
func token(t *testing.T, email string) string {
	t.Helper()
	tok, err := issuer.Token(email, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// request describes one call to the app.
type request struct {
	method, path string
	token        string // "" sends no Authorization header
	body         string // sent as application/json unless contentType is set
	contentType  string
	header       map[string]string
	// overHTTP sends the request to the app served on a real listener, for
	// what app.Test cannot show: fasthttp refuses an oversized body before
	// Fiber routes it, and app.Test reports that as its own error.
	overHTTP bool
}

// response is what the app answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errBody decodes an error response.
func (r response) errBody(t *testing.T) (code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Code, e.Message
}

func (h *harness) do(t *testing.T, r request) response {
	t.Helper()
	var body io.Reader = http.NoBody
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequestWithContext(t.Context(), r.method, r.path, body)
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	var resp *http.Response
	var err error
	if r.overHTTP {
		req.RequestURI = ""
		req.URL.Scheme, req.URL.Host = "http", h.listen(t)
		resp, err = http.DefaultClient.Do(req)
	} else {
		resp, err = h.app.Test(req, 10_000)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// listen serves the app on a loopback port until the test ends and returns
// its address.
func (h *harness) listen(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.app.Listener(ln) }()
	t.Cleanup(func() {
		if err := h.app.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}
