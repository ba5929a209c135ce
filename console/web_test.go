package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jitaccess/jit/console"
)

func newWebHarness(t *testing.T, mod ...func(*console.Config)) *harness {
	t.Helper()
	files := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/app-1a2b.js": {Data: []byte("console.log(1)")},
		"favicon.svg":        {Data: []byte("<svg/>")},
	}
	return newHarness(t, func(c *console.Config) {
		c.Web = &console.Web{Files: files, Issuer: "http://127.0.0.1:7000/oidc", ClientID: "jit-web"}
		for _, m := range mod {
			m(c)
		}
	})
}

func TestWebServesTheAppOutsideTheAPI(t *testing.T) {
	h := newWebHarness(t)
	for _, tc := range []struct {
		path, wantBody, wantType, wantCache string
	}{
		{"/", "<!doctype html>", "text/html; charset=utf-8", "no-cache"},
		{"/callback?code=x&state=y", "<!doctype html>", "text/html; charset=utf-8", "no-cache"},
		{"/assets/app-1a2b.js", "console.log(1)", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		{"/favicon.svg", "<svg/>", "image/svg+xml", "no-cache"},
		{"/index.html", "<!doctype html>", "text/html; charset=utf-8", "no-cache"},
	} {
		r := h.do(t, request{method: "GET", path: tc.path})
		if r.status != 200 || !strings.HasPrefix(string(r.body), tc.wantBody) {
			t.Errorf("GET %s: %d %q, want 200 %q", tc.path, r.status, r.body, tc.wantBody)
			continue
		}
		if got := r.header.Get("Content-Type"); got != tc.wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.wantType)
		}
		if got := r.header.Get("Cache-Control"); got != tc.wantCache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, tc.wantCache)
		}
		csp := r.header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self';", "connect-src 'self' http://127.0.0.1:7000;", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: missing framing or sniffing protection: %v", tc.path, r.header)
		}
	}
}

func TestWebConfigNamesTheIssuerAndClient(t *testing.T) {
	r := newWebHarness(t).do(t, request{method: "GET", path: "/config.json"})
	var got map[string]string
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("GET /config.json: %d %s", r.status, r.body)
	}
	if got["issuer"] != "http://127.0.0.1:7000/oidc" || got["client_id"] != "jit-web" || !strings.Contains(got["scopes"], "openid") || got["terminate_reason"] != "required" {
		t.Errorf("config = %v", got)
	}
}

func TestWebLeavesTheAPIAlone(t *testing.T) {
	h := newWebHarness(t)
	// Unknown API paths stay JSON errors, with or without a token.
	for _, tok := range []string{"", token(t, "alice@example.com")} {
		r := h.do(t, request{method: "GET", path: "/api/v1/no-such-thing", token: tok})
		want := http.StatusNotFound
		if tok == "" {
			want = http.StatusUnauthorized
		}
		if r.status != want || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("token=%t: %d %s %q, want %d JSON", tok != "", r.status, r.header.Get("Content-Type"), r.body, want)
		}
	}
	// Only GET serves the app.
	if r := h.do(t, request{method: "POST", path: "/approvals", body: "{}"}); r.status == 200 {
		t.Errorf("POST /approvals: %d %q, want an error", r.status, r.body)
	}
}

func TestConsoleLinkAsJSON(t *testing.T) {
	h := newHarness(t)
	h.svc.ConsoleURLFn = func(ctx context.Context, id, region, destination string) (string, error) {
		return "https://signin.aws.amazon.com/federation?Action=login&SigninToken=t", nil
	}
	tok := token(t, "alice@example.com")
	r := h.do(t, request{method: "GET", path: "/api/v1/tickets/abc/console", token: tok, header: map[string]string{"Accept": "application/json"}})
	var got struct{ URL string }
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 || !strings.HasPrefix(got.URL, "https://signin.aws.amazon.com/federation?") {
		t.Fatalf("JSON form: %d %s", r.status, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", r.header.Get("Cache-Control"))
	}
	r = h.do(t, request{method: "GET", path: "/api/v1/tickets/abc/console", token: tok})
	if r.status != http.StatusFound || !strings.HasPrefix(r.header.Get("Location"), "https://signin.aws.amazon.com/") {
		t.Errorf("default form: %d Location %q, want a 302 to the sign-in URL", r.status, r.header.Get("Location"))
	}
}

func TestWebNeedsAnIndex(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "index.html") {
			t.Errorf("New with an app lacking index.html: panic %v, want one naming index.html", r)
		}
	}()
	newHarness(t, func(c *console.Config) {
		c.Web = &console.Web{Files: fstest.MapFS{"assets/a.js": {Data: []byte("x")}}, Issuer: "http://127.0.0.1:7000", ClientID: "jit"}
	})
}

// The server's own paths are never the app: /metrics serves metrics, and
// unknown paths under the server's prefixes are 404 JSON, not index.html.
func TestWebLeavesServerPathsAlone(t *testing.T) {
	h := newWebHarness(t)
	r := h.do(t, request{method: "GET", path: "/metrics"})
	if ct := r.header.Get("Content-Type"); r.status != 200 || !strings.HasPrefix(ct, "text/plain") || strings.Contains(string(r.body), "<!doctype html>") {
		t.Errorf("GET /metrics: %d %s %.200q, want the metrics as text", r.status, ct, r.body)
	}
	for _, p := range []string{"/metrics/x", "/healthz/x", "/readyz/deep/x", "/api", "/api/v2/tickets", "/dev/token",
		"/openapi.json", "/api/anything", "/approvals", "/../../etc/passwd", "/callback/x", "/assets/missing.js"} {
		r := h.do(t, request{method: "GET", path: p})
		if code, _ := r.errBody(t); r.status != 404 || code != "not_found" {
			t.Errorf("GET %s: %d %s, want 404 not_found", p, r.status, code)
		}
	}
}

// With metrics served on their own address, GET /metrics on the API's is
// 404 JSON, not the page.
func TestMetricsElsewhereIsNotThePage(t *testing.T) {
	h := newWebHarness(t, func(c *console.Config) { c.MetricsElsewhere = true })
	r := h.do(t, request{method: "GET", path: "/metrics"})
	if code, _ := r.errBody(t); r.status != 404 || code != "not_found" {
		t.Errorf("GET /metrics: %d %s, want 404 not_found", r.status, code)
	}
}
