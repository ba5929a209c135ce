package console_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
)

// gzipBomb returns n zero bytes gzipped twice: a few KiB that inflate to n.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	gz := func(src io.Reader) []byte {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := io.Copy(w, src); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	return gz(bytes.NewReader(gz(io.LimitReader(zeros{}, int64(n)))))
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Compressed bodies are refused before anything reads or inflates them.
func TestCompressedBodiesRefused(t *testing.T) {
	bomb := gzipBomb(t, 64<<20)
	alice := token(t, "alice@example.com")
	for _, enc := range []string{"gzip", "gzip, gzip", "deflate", "br", "zstd", "GZIP", "identity, gzip"} {
		t.Run(enc, func(t *testing.T) {
			h := newHarness(t)
			r := h.do(t, request{method: "POST", path: "/api/v1/tickets", token: alice, body: string(bomb),
				header: map[string]string{"Content-Encoding": enc}, overHTTP: true})
			if code, msg := r.errBody(t); r.status != 415 || code != "unsupported_media_type" || !strings.Contains(msg, "Content-Encoding") {
				t.Errorf("= %d %s: %s, want 415 unsupported_media_type naming Content-Encoding", r.status, code, msg)
			}
			if n := h.svc.calls.Load(); n != 0 {
				t.Errorf("service called %d times", n)
			}
		})
	}
	t.Run("outside the API too", func(t *testing.T) {
		var called bool
		h := newHarness(t, func(c *console.Config) {
			c.Extra = func(app *fiber.App) {
				app.Post("/dev/token", func(c *fiber.Ctx) error { called = true; return c.SendString(string(c.Body()[:1])) })
			}
		})
		r := h.do(t, request{method: "POST", path: "/dev/token", body: string(bomb), header: map[string]string{"Content-Encoding": "gzip, gzip"}})
		if r.status != 415 || called {
			t.Errorf("= %d (handler called: %v), want 415 before the handler", r.status, called)
		}
	})
	t.Run("identity is plain", func(t *testing.T) {
		h := newHarness(t)
		h.svc.CreateTicketFn = func(context.Context, broker.CreateTicketInput) (*broker.Ticket, error) { return sampleTicket("t"), nil }
		r := h.do(t, request{method: "POST", path: "/api/v1/tickets", token: alice, body: validCreate, header: map[string]string{"Content-Encoding": "identity"}})
		if r.status != 201 {
			t.Errorf("= %d %s, want 201", r.status, r.body)
		}
	})
}

// rawRequest writes head (request line and headers, without the blank
// line) and body to a fresh connection to addr and returns the answer.
// The body is written from another goroutine, so that the answer can come
// while it is still being sent.
func rawRequest(t *testing.T, addr, head string, body io.Reader) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go io.Copy(conn, body) // ends with an error when the server closes
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer body: %v", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

func errOf(t *testing.T, resp *http.Response) (code, message string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b}.errBody(t)
}

// The body limit counts bytes as sent: a chunked body (no Content-Length)
// over the limit is refused 413 as JSON once the limit is passed, and a
// declared Content-Length over the limit is refused without reading it.
func TestBodyLimitOnRawBytes(t *testing.T) {
	alice := token(t, "alice@example.com")
	t.Run("chunked", func(t *testing.T) {
		h := newHarness(t)
		addr := h.listen(t)
		head := "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
			"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"
		pr, pw := io.Pipe()
		go func() {
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 8<<10, strings.Repeat(" ", 8<<10))
			for range 1 << 10 { // 8 MiB if nobody stops it
				if _, err := io.WriteString(pw, chunk); err != nil {
					return
				}
			}
			io.WriteString(pw, "0\r\n\r\n")
			pw.Close()
		}()
		t.Cleanup(func() { pr.CloseWithError(io.EOF) })
		resp := rawRequest(t, addr, head, pr)
		if code, msg := errOf(t, resp); resp.StatusCode != 413 || code != "too_large" || !strings.Contains(msg, "65536 bytes") {
			t.Errorf("= %d %s: %s, want 413 too_large", resp.StatusCode, code, msg)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		if !resp.Close {
			t.Error("connection kept open with the rest of the body on it")
		}
		if n := h.svc.calls.Load(); n != 0 {
			t.Errorf("service called %d times", n)
		}
	})
	t.Run("declared length", func(t *testing.T) {
		h := newHarness(t)
		addr := h.listen(t)
		// 1 GiB declared, 16 KiB sent: the answer cannot wait for the body.
		head := "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice +
			"\r\nContent-Type: application/json\r\nContent-Length: 1073741824"
		resp := rawRequest(t, addr, head, strings.NewReader(strings.Repeat(" ", 16<<10)))
		if code, _ := errOf(t, resp); resp.StatusCode != 413 || code != "too_large" {
			t.Errorf("= %d %s, want 413 too_large", resp.StatusCode, code)
		}
	})
}

// An unauthenticated request is refused before its body is read: the
// answer comes although only 16 KiB of the declared 1 GiB body were sent
// (the transport reads at most 8 KiB ahead of the handlers).
func TestUnauthenticatedBodyNotRead(t *testing.T) {
	h := newHarness(t)
	addr := h.listen(t)
	for _, head := range []string{
		"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824",
		"POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer forged.token.here\r\nContent-Type: application/json\r\nContent-Length: 1073741824",
	} {
		resp := rawRequest(t, addr, head, strings.NewReader(`{"account_id": "1`+strings.Repeat(" ", 16<<10)))
		if code, _ := errOf(t, resp); resp.StatusCode != 401 || code != "unauthenticated" {
			t.Errorf("= %d %s, want 401 unauthenticated", resp.StatusCode, code)
		}
		if !resp.Close {
			t.Error("connection kept open with the unread body on it")
		}
	}
	if n := h.svc.calls.Load(); n != 0 {
		t.Errorf("service called %d times", n)
	}
}

// A refused request whose small body nobody read leaves the connection
// usable: the next request on it is answered normally.
func TestRefusedBodyDrainedForKeepAlive(t *testing.T) {
	h := newHarness(t)
	addr := h.listen(t)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	var reused []bool
	do := func(method, path, body string) int {
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	big := `{"reason": "` + strings.Repeat("x", 40<<10) + `"}` // more than the transport reads ahead
	if got := do("POST", "/api/v1/tickets", big); got != 401 {
		t.Errorf("unauthenticated POST = %d, want 401", got)
	}
	if got := do("GET", "/healthz", ""); got != 200 {
		t.Errorf("next request = %d, want 200", got)
	}
	if len(reused) != 2 || !reused[1] {
		t.Errorf("connection reuse = %v, want the second request on the first's connection", reused)
	}
}

// Header fields up to 32 KiB in all are accepted (an ID token with many
// groups is that large); a request whose headers do not fit in
// MaxHeaderBytes is answered 431 as JSON.
func TestLargeHeaders(t *testing.T) {
	var groups []string
	for i := range 600 {
		groups = append(groups, fmt.Sprintf("aws-account-%04d-engineers", i))
	}
	claims, err := issuer.Claims("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	claims["groups"] = groups
	bigToken, err := issuer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(bigToken); n < 20<<10 {
		t.Fatalf("token has %d bytes, want at least 20 KiB", n)
	}
	h := newHarness(t)
	h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) {
		if u, _ := broker.UserFrom(ctx); len(u.Groups) != len(groups) {
			t.Errorf("user has %d groups, want %d", len(u.Groups), len(groups))
		}
		return sampleTicket(id), nil
	}
	r := h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: bigToken, overHTTP: true})
	if r.status != 200 {
		t.Errorf("%d-byte token = %d %.200s, want 200", len(bigToken), r.status, r.body)
	}

	h = newHarness(t)
	h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) { return sampleTicket(id), nil }
	pad := 32<<10 - len(otherHeaders(t)) // header fields of 32 KiB in all
	r = h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: token(t, "alice@example.com"), overHTTP: true,
		header: map[string]string{"X-Padding": strings.Repeat("p", pad)}})
	if r.status != 200 {
		t.Errorf("32 KiB of headers = %d %.200s, want 200", r.status, r.body)
	}

	h = newHarness(t)
	r = h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: token(t, "alice@example.com"), overHTTP: true,
		header: map[string]string{"X-Padding": strings.Repeat("p", console.MaxHeaderBytes)}})
	if code, msg := r.errBody(t); r.status != 431 || code != "headers_too_large" || !strings.Contains(msg, "headers") {
		t.Errorf("headers over the limit = %d %s: %s, want 431 headers_too_large", r.status, code, msg)
	}
}

// otherHeaders is a generous copy of the header bytes Go's client
// sends besides X-Padding (its name and the Authorization header included).
func otherHeaders(t *testing.T) string {
	return "Host: 127.0.0.1:65535\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\nX-Padding: \r\nAuthorization: Bearer " +
		token(t, "alice@example.com") + "\r\n\r\n"
}

// Keys named twice, at any depth and in any case, are refused 400 with the
// key named; nothing reaches the service.
func TestDuplicateKeysRefused(t *testing.T) {
	alice := token(t, "alice@example.com")
	tests := []struct {
		name, path, body, want string
	}{
		{"same key", "/api/v1/tickets", `{"account_id": "111111111111", "account_id": "333333333333", "end": "2030-01-02T06:00:00Z", "reason": "x"}`, `duplicate key "account_id"`},
		{"case differs", "/api/v1/tickets", `{"account_id": "111111111111", "ACCOUNT_ID": "333333333333", "end": "2030-01-02T06:00:00Z", "reason": "x"}`, `duplicate key "ACCOUNT_ID"`},
		{"escaped", "/api/v1/tickets", `{"account_id": "111111111111", "account\u005fid": "333333333333"}`, `duplicate key "account_id"`},
		{"long s folds to s", "/api/v1/tickets", `{"reason": "a", "rea\u017fon": "b"}`, `duplicate key "reaſon"`},
		{"approve comment", "/api/v1/tickets/t1/approve", `{"comment": "a", "comment": "b"}`, `duplicate key "comment"`},
		{"nested", "/api/v1/tickets", `{"beneficiaries": [{"a": 1, "b": {"c": 1, "C": 2}}]}`, `duplicate key "C" in beneficiaries[0].b`},
		{"reject comment", "/api/v1/tickets/t1/reject", `{"comment": "ok", "Comment": "not ok"}`, `duplicate key "Comment"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.do(t, request{method: "POST", path: tt.path, token: alice, body: tt.body})
			if code, msg := r.errBody(t); r.status != 400 || code != "invalid" || !strings.Contains(msg, tt.want) {
				t.Errorf("= %d %s: %s, want 400 invalid ...%s...", r.status, code, msg, tt.want)
			}
			if n := h.svc.calls.Load(); n != 0 {
				t.Errorf("service called %d times", n)
			}
		})
	}
}

// fakeLimiter allows each key n writes.
type fakeLimiter struct {
	mu    sync.Mutex
	n     int
	count map[string]int
}

func (f *fakeLimiter) Allow(_ context.Context, key string) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count[key]++
	if f.count[key] > f.n {
		return 1500 * time.Millisecond, nil
	}
	return 0, nil
}

// Writes over a user's limit are answered 429 with Retry-After; reads and
// other users go on.
func TestWriteLimit(t *testing.T) {
	lim := &fakeLimiter{n: 3, count: map[string]int{}}
	h := newHarness(t, func(c *console.Config) { c.WriteLimiter = lim })
	h.svc.ApproveFn = func(context.Context, string, string) (*broker.Ticket, error) { return sampleTicket("t1"), nil }
	h.svc.TicketFn = func(_ context.Context, id string) (*broker.Ticket, error) { return sampleTicket(id), nil }
	alice, bob := token(t, "alice@example.com"), token(t, "Bob@Example.com")
	for i := range 3 {
		if r := h.do(t, request{method: "POST", path: "/api/v1/tickets/t1/approve", token: alice}); r.status != 200 {
			t.Fatalf("write %d = %d %s, want 200", i+1, r.status, r.body)
		}
	}
	r := h.do(t, request{method: "POST", path: "/api/v1/tickets/t1/approve", token: alice})
	if code, _ := r.errBody(t); r.status != 429 || code != "too_many_requests" {
		t.Errorf("write 4 = %d %s, want 429 too_many_requests", r.status, code)
	}
	if got := r.header.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (seconds, rounded up)", got)
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: alice}); r.status != 200 {
		t.Errorf("read after the limit = %d, want 200", r.status)
	}
	if r := h.do(t, request{method: "POST", path: "/api/v1/tickets/t1/approve", token: bob}); r.status != 200 {
		t.Errorf("another user's write = %d, want 200", r.status)
	}
	if got := lim.count["alice@example.com"]; got != 4 {
		t.Errorf("limiter saw %d writes by alice, want 4 (keyed by the authenticated email)", got)
	}
	if got := h.svc.calls.Load(); got != 5 {
		t.Errorf("service called %d times, want 5 (3 + 1 read + 1 by bob)", got)
	}
}

// A refused authentication is logged with its reason and the client's
// address, never the token, and counted by reason at /metrics.
func TestRefusedAuthenticationLoggedAndCounted(t *testing.T) {
	h := newHarness(t)
	expired := expiredToken(t, "alice@example.com")
	for range 2 {
		h.do(t, request{method: "GET", path: "/api/v1/me", token: expired})
	}
	h.do(t, request{method: "GET", path: "/api/v1/me"})
	logs := h.logs.String()
	if strings.Contains(logs, expired) || strings.Contains(logs, strings.Split(expired, ".")[2]) {
		t.Errorf("log holds the token: %s", logs)
	}
	if n := strings.Count(logs, "authentication refused"); n != 3 {
		t.Errorf("%d refusals logged, want 3:\n%s", n, logs)
	}
	for _, want := range []string{"reason=expired", "reason=missing_token", "client=", "path=/api/v1/me"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	r := h.do(t, request{method: "GET", path: "/metrics"})
	if r.status != 200 {
		t.Fatalf("/metrics = %d", r.status)
	}
	for _, want := range []string{`jit_auth_refused_total{reason="expired"} 2`, `jit_auth_refused_total{reason="missing_token"} 1`} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, r.body)
		}
	}
}

// With several audiences, azp must be one of JIT's client IDs.
func TestAuthorizedParty(t *testing.T) {
	v, err := console.NewOIDCVerifier(t.Context(), issuer.IssuerURL(), []string{audience, "jit-web"}, "")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(aud any, azp string) string {
		c, err := issuer.Claims("alice@example.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c["aud"] = aud
		if azp != "" {
			c["azp"] = azp
		}
		tok, err := issuer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name string
		tok  string
		ok   bool
	}{
		{"several audiences, no azp", sign([]string{audience, "other-app"}, ""), false},
		{"several audiences, foreign azp", sign([]string{audience, "other-app"}, "other-app"), false},
		{"several audiences, azp not in the list", sign([]string{audience, "other-app"}, "third-app"), false},
		{"several audiences, azp is JIT", sign([]string{"other-app", audience}, audience), true},
		{"several audiences, azp is JIT's other client", sign([]string{audience, "other-app"}, "jit-web"), true},
		{"one audience, no azp", sign(audience, ""), true},
		{"the other client alone", sign("jit-web", ""), true},
		{"foreign audiences only", sign([]string{"other-app", "third-app"}, audience), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *console.Config) { c.Verifier = v })
			r := h.do(t, request{method: "GET", path: "/api/v1/me", token: tt.tok})
			if tt.ok && r.status == 401 {
				t.Errorf("refused: %s", r.body)
			}
			if !tt.ok {
				if code, _ := r.errBody(t); r.status != 401 || code != "unauthenticated" {
					t.Errorf("= %d %s, want 401 unauthenticated", r.status, code)
				}
			}
		})
	}
}
