package console_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// validCreate is a create body the console accepts.
const validCreate = `{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "end": "2030-01-02T06:00:00Z", "reason": "x"}`

func TestBadRequests(t *testing.T) {
	alice := token(t, "alice@example.com")
	claims := func(mod func(map[string]any)) string {
		c, err := issuer.Claims("alice@example.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		mod(c)
		tok, err := issuer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherKey, err := impostor.Token("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	big := `{"reason": "` + strings.Repeat("x", 64<<10) + `"}`

	tests := []struct {
		name        string
		req         request
		wantStatus  int
		wantCode    string
		wantMessage string // substring
	}{
		// Authentication.
		{"missing token", request{method: "GET", path: "/api/v1/tickets"}, 401, "unauthenticated", "missing bearer token"},
		{"missing token on create", request{method: "POST", path: "/api/v1/tickets", body: validCreate}, 401, "unauthenticated", "missing bearer token"},
		{"basic auth", request{method: "GET", path: "/api/v1/tickets", header: map[string]string{"Authorization": "Basic YWxpY2U6cHc="}}, 401, "unauthenticated", "Bearer <token>"},
		{"bearer without token", request{method: "GET", path: "/api/v1/tickets", header: map[string]string{"Authorization": "Bearer "}}, 401, "unauthenticated", "Bearer <token>"},
		{"malformed token", request{method: "GET", path: "/api/v1/tickets", token: "not.a.jwt"}, 401, "unauthenticated", "malformed token"},
		{"expired token", request{method: "GET", path: "/api/v1/tickets", token: claims(func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
		})}, 401, "unauthenticated", "token expired"},
		{"other issuer key", request{method: "GET", path: "/api/v1/tickets", token: otherKey}, 401, "unauthenticated", "token signature is not valid"},
		{"wrong audience", request{method: "GET", path: "/api/v1/tickets", token: claims(func(c map[string]any) {
			c["aud"] = "someone-else"
		})}, 401, "unauthenticated", "token audience mismatch"},
		{"wrong issuer", request{method: "GET", path: "/api/v1/tickets", token: claims(func(c map[string]any) {
			c["iss"] = "https://evil.example.com"
		})}, 401, "unauthenticated", "token issuer mismatch"},
		{"no email", request{method: "GET", path: "/api/v1/me", token: claims(func(c map[string]any) {
			delete(c, "email")
		})}, 401, "unauthenticated", "no email"},
		{"email not verified", request{method: "GET", path: "/api/v1/me", token: claims(func(c map[string]any) {
			c["email_verified"] = false
		})}, 401, "unauthenticated", "not verified"},
		{"groups not strings", request{method: "GET", path: "/api/v1/me", token: claims(func(c map[string]any) {
			c["groups"] = []any{1, 2}
		})}, 401, "unauthenticated", `"groups"`},

		// Bodies.
		{"malformed JSON", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"account_id": "1111`}, 400, "invalid", "malformed JSON"},
		{"syntax error", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"account_id" "x"}`}, 400, "invalid", "malformed JSON"},
		{"unknown field", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"account_id": "111111111111", "role": "admin"}`}, 400, "invalid", `unknown field "role"`},
		{"wrong type", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"reason": 5}`}, 400, "invalid", `field "reason": expected a string, got number`},
		{"wrong element type", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"beneficiaries": "alice@example.com"}`}, 400, "invalid", `field "beneficiaries": expected an array of strings, got string`},
		{"wrong element type in array", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"beneficiaries": ["a@example.com", 1]}`}, 400, "invalid", `field "beneficiaries": expected a string, got number`},
		{"array body", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `[]`}, 400, "invalid", "JSON object"},
		{"null body", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `null`}, 400, "invalid", "JSON object"},
		{"trailing data", request{method: "POST", path: "/api/v1/tickets", token: alice, body: validCreate + `{}`}, 400, "invalid", "single JSON object"},
		{"trailing garbage", request{method: "POST", path: "/api/v1/tickets", token: alice, body: validCreate + ` x`}, 400, "invalid", "single JSON object"},
		{"empty body", request{method: "POST", path: "/api/v1/tickets", token: alice}, 400, "invalid", "body is required"},
		{"blank body", request{method: "POST", path: "/api/v1/tickets", token: alice, body: "  \n"}, 400, "invalid", "body is required"},
		{"not JSON content type", request{method: "POST", path: "/api/v1/tickets", token: alice, body: validCreate, contentType: "text/plain"}, 400, "invalid", "Content-Type"},
		{"form content type", request{method: "POST", path: "/api/v1/tickets/t1/approve", token: alice, body: "comment=ok", contentType: "application/x-www-form-urlencoded"}, 400, "invalid", "Content-Type"},
		{"body over limit", request{method: "POST", path: "/api/v1/tickets", token: alice, body: big, overHTTP: true}, 413, "too_large", "65536 bytes"},
		// Authentication comes before the body is read.
		{"body over limit without token", request{method: "POST", path: "/api/v1/tickets", body: big, overHTTP: true}, 401, "unauthenticated", "missing bearer token"},

		// Ticket times.
		{"end and duration", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"end": "2030-01-02T06:00:00Z", "duration": "1h"}`}, 400, "invalid", "not both"},
		{"neither end nor duration", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"reason": "x"}`}, 400, "invalid", "end or duration is required"},
		{"bad start", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"start": "tomorrow", "duration": "1h"}`}, 400, "invalid", "start must be an RFC 3339 time"},
		{"start without zone", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"start": "2030-01-02T06:00:00", "duration": "1h"}`}, 400, "invalid", "start must be an RFC 3339 time"},
		{"bad end", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"end": "2030-01-02 06:00"}`}, 400, "invalid", "end must be an RFC 3339 time"},
		{"bad duration", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"duration": "1 hour"}`}, 400, "invalid", "duration must be"},
		{"negative duration", request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{"duration": "-1h"}`}, 400, "invalid", "duration must be"},

		// Decisions and queries.
		{"reject without body", request{method: "POST", path: "/api/v1/tickets/t1/reject", token: alice}, 400, "invalid", "body is required"},
		{"approve unknown field", request{method: "POST", path: "/api/v1/tickets/t1/approve", token: alice, body: `{"comment": "ok", "stage": 2}`}, 400, "invalid", `unknown field "stage"`},
		{"terminate comment not a string", request{method: "POST", path: "/api/v1/tickets/t1/terminate", token: alice, body: `{"comment": ["a"]}`}, 400, "invalid", `field "comment": expected a string, got array`},
		{"credentials with a body", request{method: "POST", path: "/api/v1/tickets/t1/credentials", token: alice, body: `{"duration": "12h"}`}, 400, "invalid", `unknown field "duration"`},
		{"mine not a bool", request{method: "GET", path: "/api/v1/tickets?mine=maybe", token: alice}, 400, "invalid", "mine must be true or false"},
		{"pending_for_me not a bool", request{method: "GET", path: "/api/v1/tickets?pending_for_me=yes", token: alice}, 400, "invalid", "pending_for_me must be true or false"},
		{"limit not a number", request{method: "GET", path: "/api/v1/tickets?limit=ten", token: alice}, 400, "invalid", "limit must be a positive integer"},
		{"limit zero", request{method: "GET", path: "/api/v1/tickets?limit=0", token: alice}, 400, "invalid", "limit must be a positive integer"},

		// Routing.
		{"unknown route", request{method: "GET", path: "/nope"}, 404, "not_found", "no route for GET /nope"},
		{"unknown API route", request{method: "GET", path: "/api/v1/nope", token: alice}, 404, "not_found", "no route"},
		{"wrong method", request{method: "DELETE", path: "/api/v1/tickets/t1/approve", token: alice}, 405, "method_not_allowed", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := h.do(t, tt.req)
			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			code, msg := r.errBody(t)
			if code != tt.wantCode || !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("error = %s: %q, want %s: ...%q...", code, msg, tt.wantCode, tt.wantMessage)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if tt.wantStatus == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want Bearer", r.header.Get("WWW-Authenticate"))
			}
			if tt.req.token != "" && strings.Contains(string(r.body), tt.req.token) {
				t.Error("response echoes the token")
			}
			if n := h.svc.calls.Load(); n != 0 {
				t.Errorf("service called %d times, want 0", n)
			}
			logs := h.logs.String()
			if tt.wantStatus == 401 {
				// Refused authentications are logged, once, without the token.
				if n := strings.Count(logs, "authentication refused"); n != 1 {
					t.Errorf("logged %q; want one line saying authentication refused", logs)
				}
				if tt.req.token != "" && strings.Contains(logs, tt.req.token) {
					t.Error("the log holds the token")
				}
			} else if logs != "" {
				t.Errorf("logged %q; only internal errors and refused authentications are logged", logs)
			}
		})
	}
}

func TestErrorCodeMapping(t *testing.T) {
	alice := token(t, "alice@example.com")
	tests := []struct {
		err         error
		wantStatus  int
		wantCode    string
		wantMessage string
		wantLogged  bool
	}{
		{broker.Errorf(broker.EINVALID, "bad"), 400, "invalid", "bad", false},
		{broker.Errorf(broker.EUNAUTHENTICATED, "who?"), 401, "unauthenticated", "who?", false},
		{broker.Errorf(broker.EFORBIDDEN, "no"), 403, "forbidden", "no", false},
		{broker.Errorf(broker.ENOTFOUND, "ticket t1 not found"), 404, "not_found", "ticket t1 not found", false},
		{broker.Errorf(broker.ECONFLICT, "ticket t1 is expired"), 409, "conflict", "ticket t1 is expired", false},
		{broker.Errorf(broker.ETOOLARGE, "too many"), 413, "too_large", "too many", false},
		{broker.Errorf(broker.EUNAVAILABLE, "try later"), 503, "unavailable", "try later", false},
		{broker.Errorf(broker.EINTERNAL, "store exploded at 10.0.0.1"), 500, "internal", "internal error", true},
		{fmt.Errorf("get ticket: %w", broker.Errorf(broker.ECONFLICT, "wrapped")), 409, "conflict", "wrapped", false},
		{errors.New("redis: connection refused 10.0.0.1:6379"), 500, "internal", "internal error", true},
		{broker.Errorf("weird", "unknown code"), 500, "internal", "internal error", true},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			h := newHarness(t)
			h.svc.TicketFn = func(context.Context, string) (*broker.Ticket, error) { return nil, tt.err }
			r := h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: alice})
			if r.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", r.status, tt.wantStatus)
			}
			if code, msg := r.errBody(t); code != tt.wantCode || msg != tt.wantMessage {
				t.Errorf("error = %s: %q, want %s: %q", code, msg, tt.wantCode, tt.wantMessage)
			}
			logs := h.logs.String()
			if logged := logs != ""; logged != tt.wantLogged {
				t.Errorf("logged = %v (%q), want %v", logged, logs, tt.wantLogged)
			}
			if strings.Contains(logs, alice) {
				t.Error("log contains the token")
			}
		})
	}
}

func TestPanicIsInternal(t *testing.T) {
	h := newHarness(t)
	h.svc.TicketFn = func(context.Context, string) (*broker.Ticket, error) { panic("boom") }
	r := h.do(t, request{method: "GET", path: "/api/v1/tickets/t1", token: token(t, "alice@example.com")})
	if code, msg := r.errBody(t); r.status != 500 || code != "internal" || msg != "internal error" {
		t.Errorf("panic = %d %s: %s, want 500 internal", r.status, code, msg)
	}
	if !strings.Contains(h.logs.String(), "boom") {
		t.Errorf("log %q does not mention the panic", h.logs.String())
	}
}

// stubVerifier returns a fixed result, to test the verifier seam.
type stubVerifier struct {
	user broker.User
	err  error
}

func (s stubVerifier) Verify(context.Context, string) (broker.User, error) { return s.user, s.err }
