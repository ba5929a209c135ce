package console_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
)

// countingFeed is a live feed that counts subscriptions and can end them
// all at once (as a lost Redis connection would).
type countingFeed struct {
	subscribed atomic.Int64 // Subscribe calls
	mu         sync.Mutex
	kill       chan struct{}
}

func newCountingFeed() *countingFeed { return &countingFeed{kill: make(chan struct{})} }

func (f *countingFeed) Subscribe(ctx context.Context) (<-chan string, error) {
	f.subscribed.Add(1)
	f.mu.Lock()
	kill := f.kill
	f.mu.Unlock()
	out := make(chan string)
	go func() {
		defer close(out)
		select {
		case <-ctx.Done():
		case <-kill:
		}
	}()
	return out, nil
}

// endAll ends every subscription open now.
func (f *countingFeed) endAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.kill)
	f.kill = make(chan struct{})
}

// openStream opens GET /api/v1/events with tok. On 200 it returns the body
// after reading the "ready" event; otherwise the status and error code.
func openStream(t *testing.T, addr, tok string) (io.ReadCloser, int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events", nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		code, _ := response{body: b}.errBody(t)
		return nil, resp.StatusCode, code, resp.Header
	}
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended before ready: %v", err)
		}
		if line == "event: ready\n" {
			break
		}
	}
	return resp.Body, 200, "", resp.Header
}

// The live feed refuses a caller without a valid token before it
// subscribes to anything.
func TestEventsRefusesUnauthenticated(t *testing.T) {
	feed := newCountingFeed()
	h := newHarness(t, func(c *console.Config) { c.Feed = feed })
	expired := expiredToken(t, "alice@example.com")
	forged, err := impostor.Token("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"no token": "", "expired": expired, "forged": forged, "garbage": "not-a-token"} {
		r := h.do(t, request{method: "GET", path: "/api/v1/events", token: tok})
		if code, _ := r.errBody(t); r.status != 401 || code != "unauthenticated" {
			t.Errorf("%s: %d %s, want 401 unauthenticated", name, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("%s: answered as a stream (%s)", name, ct)
		}
	}
	if n := feed.subscribed.Load(); n != 0 {
		t.Errorf("%d subscriptions made for refused callers", n)
	}
}

// One user may hold at most console.MaxFeedStreams live feeds open on a
// server: one more is 429 with Retry-After, while another user still gets
// one; a feed that ends gives its place back.
func TestEventsStreamsCappedPerUser(t *testing.T) {
	feed := newCountingFeed()
	h := newHarness(t, func(c *console.Config) { c.Feed = feed })
	h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) {
		return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	}
	addr := h.listen(t)
	alice := token(t, "alice@example.com")
	var open []io.ReadCloser
	defer func() {
		for _, b := range open {
			b.Close()
		}
	}()
	for i := range console.MaxFeedStreams {
		body, status, code, _ := openStream(t, addr, alice)
		if status != 200 {
			t.Fatalf("stream %d of alice: %d %s", i+1, status, code)
		}
		open = append(open, body)
	}
	_, status, code, header := openStream(t, addr, alice)
	if status != 429 || code != "too_many_requests" || header.Get("Retry-After") == "" {
		t.Fatalf("stream %d of alice: %d %s (Retry-After %q), want 429 too_many_requests with Retry-After", console.MaxFeedStreams+1, status, code, header.Get("Retry-After"))
	}
	bob, status, code, _ := openStream(t, addr, token(t, "bob@example.com"))
	if status != 200 {
		t.Fatalf("bob's stream while alice is at her limit: %d %s", status, code)
	}
	open = append(open, bob)

	// The subscription ends (Redis went away): every stream ends, and
	// their places are free.
	feed.endAll()
	for i, b := range open {
		if _, err := io.Copy(io.Discard, b); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		b.Close()
	}
	open = nil
	for i := range console.MaxFeedStreams {
		body, status, code, _ := openStream(t, addr, alice)
		if status != 200 {
			t.Fatalf("stream %d of alice after the others ended: %d %s", i+1, status, code)
		}
		open = append(open, body)
	}
}

// GET /api/v1/audit refuses malformed parameters with 400 invalid, naming
// the parameter, before the audit log is read; the message never carries a
// raw control character. A caller without a token is 401.
func TestAuditQueryRefusesBadParameters(t *testing.T) {
	svc := &auditService{}
	h := newHarness(t, func(c *console.Config) {
		svc.TicketService = c.Service
		c.Service = svc
	})
	tok := token(t, "alice@example.com")
	for _, tc := range []struct{ query, name string }{
		{"limit=0", "limit"},
		{"limit=-1", "limit"},
		{"limit=ten", "limit"},
		{"limit=1e3", "limit"},
		{"limit=99999999999999999999", "limit"},
		{"limit=%1b%5b2J", "limit"},
		{"cursor=abc", "cursor"},
		{"cursor=1-2-3", "cursor"},
		{"cursor=-1", "cursor"},
		{"cursor=1-", "cursor"},
		{"cursor=" + strings.Repeat("9", 50) + "-0", "cursor"},
		{"cursor=1-0%00", "cursor"},
		{"cursor=%e2%80%ae1-0", "cursor"},
		{"since=yesterday", "since"},
		{"since=2026-13-01T00:00:00Z", "since"},
		{"since=2026-12-01", "since"},
		{"until=%00", "until"},
		{"until=%1b%5b31m2026-12-01T00:00:00Z", "until"},
		{"until=2026-12-01T00:00:00Z%c2%85", "until"},
	} {
		r := h.do(t, request{method: "GET", path: "/api/v1/audit?" + tc.query, token: tok})
		code, msg := r.errBody(t)
		if r.status != 400 || code != "invalid" || !strings.HasPrefix(msg, tc.name) {
			t.Errorf("?%s: %d %s, want 400 invalid naming %s", tc.query, r.status, r.body, tc.name)
		}
		if i := strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }); i >= 0 {
			t.Errorf("?%s: the message holds a raw control character: %q", tc.query, msg)
		}
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/audit"}); r.status != 401 {
		t.Errorf("without a token: %d %s, want 401", r.status, r.body)
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/tickets/t1/timeline"}); r.status != 401 {
		t.Errorf("timeline without a token: %d %s, want 401", r.status, r.body)
	}
	if svc.calls.Load() != 0 {
		t.Errorf("the audit log was read %d times for refused requests", svc.calls.Load())
	}
	// Well-formed parameters reach the service as given.
	q := url.Values{"limit": {"5"}, "cursor": {"1700000000000-3"}, "since": {"2026-12-01T00:00:00Z"}, "user": {"bob@example.com"}}
	if r := h.do(t, request{method: "GET", path: "/api/v1/audit?" + q.Encode(), token: tok}); r.status != 200 {
		t.Fatalf("good query: %d %s", r.status, r.body)
	}
	if got := svc.last; got.Limit != 5 || got.Cursor != "1700000000000-3" || got.User != "bob@example.com" || !got.Since.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("query passed on as %+v", got)
	}
}

// auditService adds a console.AuditViewer to a TicketService; it counts
// the reads and keeps the last query.
type auditService struct {
	console.TicketService
	calls atomic.Int64
	last  broker.AuditQuery
}

func (s *auditService) AuditEvents(_ context.Context, q broker.AuditQuery) (broker.AuditPage, error) {
	s.calls.Add(1)
	s.last = q
	return broker.AuditPage{Events: []broker.AuditEvent{}}, nil
}

func (s *auditService) Timeline(_ context.Context, id string) ([]broker.AuditEvent, error) {
	s.calls.Add(1)
	return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
}

// expiredToken is email's token that expired a minute ago.
func expiredToken(t *testing.T, email string) string {
	t.Helper()
	claims, err := issuer.Claims(email, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims["exp"] = time.Now().Add(-time.Minute).Unix()
	tok, err := issuer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
