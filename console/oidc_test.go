package console_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/console/devoidc"
)

func TestOIDCVerifierClaims(t *testing.T) {
	sign := func(mod func(map[string]any)) string {
		c, err := issuer.Claims("bob@example.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		delete(c, "auth_time") // the cases below are about who; one adds when
		delete(c, "amr")
		mod(c)
		tok, err := issuer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	roles, err := console.NewOIDCVerifier(t.Context(), issuer.IssuerURL(), []string{audience}, "roles")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		verifier *console.OIDCVerifier
		token    string
		want     broker.User
	}{
		{"groups", verifier, sign(func(map[string]any) {}), broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}}},
		{"email lowercased", verifier, sign(func(c map[string]any) { c["email"] = " Bob@EXAMPLE.com" }), broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}}},
		{"only ASCII is lowered", verifier, sign(func(c map[string]any) { c["email"] = "\u017fAM@example.com" }), broker.User{Email: "\u017fam@example.com", Groups: []string{"approvers", "engineers"}}},
		{"groups exactly as sent", verifier, sign(func(c map[string]any) { c["groups"] = []string{" Admins ", "\u017fecurity", "Ops"} }), broker.User{Email: "bob@example.com", Groups: []string{" Admins ", "\u017fecurity", "Ops"}}},
		{"no groups", verifier, sign(func(c map[string]any) { delete(c, "groups") }), broker.User{Email: "bob@example.com"}},
		{"one group as a string", verifier, sign(func(c map[string]any) { c["groups"] = "admins" }), broker.User{Email: "bob@example.com", Groups: []string{"admins"}}},
		{"no email_verified", verifier, sign(func(c map[string]any) { delete(c, "email_verified") }), broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}}},
		{"audience list with azp", verifier, sign(func(c map[string]any) { c["aud"] = []string{"other", audience}; c["azp"] = audience }), broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}}},
		{"one audience in a list", verifier, sign(func(c map[string]any) { c["aud"] = []string{audience} }), broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}}},
		{"auth_time and amr", verifier, sign(func(c map[string]any) {
			c["auth_time"] = 1_800_000_000
			c["amr"] = []string{"pwd", "mfa"}
			c["acr"] = "gold"
		}),
			broker.User{Email: "bob@example.com", Groups: []string{"approvers", "engineers"}, AuthTime: time.Unix(1_800_000_000, 0), AMR: []string{"pwd", "mfa"}, ACR: "gold"}},
		{"custom groups claim", roles, sign(func(c map[string]any) { c["roles"] = []string{"admin"} }), broker.User{Email: "bob@example.com", Groups: []string{"admin"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.verifier.Verify(t.Context(), tt.token)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("user (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOIDCVerifierUnavailable(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	iss, err := devoidc.New("http://"+srv.Listener.Addr().String(), audience, []devoidc.User{{Email: "alice@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.Handler()
	srv.Start()
	v, err := console.NewOIDCVerifier(t.Context(), iss.IssuerURL(), []string{audience}, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Token("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // the keys were never fetched and now cannot be
	_, err = v.Verify(t.Context(), tok)
	if code := broker.ErrorCode(err); code != broker.EUNAVAILABLE {
		t.Errorf("Verify with the issuer down = %v, want code unavailable", err)
	}
	if strings.Contains(broker.ErrorMessage(err), iss.IssuerURL()) {
		t.Errorf("message %q names the issuer's address", broker.ErrorMessage(err))
	}
}

func TestNewOIDCVerifierErrors(t *testing.T) {
	if _, err := console.NewOIDCVerifier(t.Context(), issuer.IssuerURL(), []string{" "}, ""); err == nil {
		t.Error("no audience: NewOIDCVerifier succeeded")
	}
	if _, err := console.NewOIDCVerifier(t.Context(), "", []string{audience}, ""); err == nil {
		t.Error("no issuer: NewOIDCVerifier succeeded")
	}
	if _, err := console.NewOIDCVerifier(t.Context(), issuer.IssuerURL()+"/other", []string{audience}, ""); err == nil {
		t.Error("wrong issuer URL: NewOIDCVerifier succeeded")
	}
}

func TestVerifierErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantLogged bool
	}{
		{"unavailable", broker.Errorf(broker.EUNAVAILABLE, "identity provider down"), 503, "unavailable", false},
		{"uncoded", errors.New("jwks: dial tcp: refused"), 500, "internal", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *console.Config) { c.Verifier = stubVerifier{err: tt.err} })
			r := h.do(t, request{method: "GET", path: "/api/v1/me", token: "opaque-token"})
			if code, _ := r.errBody(t); r.status != tt.wantStatus || code != tt.wantCode {
				t.Errorf("= %d %s, want %d %s", r.status, code, tt.wantStatus, tt.wantCode)
			}
			logs := h.logs.String()
			if (logs != "") != tt.wantLogged {
				t.Errorf("logged %q, want logged = %v", logs, tt.wantLogged)
			}
			if strings.Contains(logs, "opaque-token") || strings.Contains(string(r.body), "opaque-token") {
				t.Error("token leaked into the log or the response")
			}
		})
	}
}

func TestStubVerifierUser(t *testing.T) {
	h := newHarness(t, func(c *console.Config) {
		c.Verifier = stubVerifier{user: broker.User{Email: "dave@example.com", Groups: []string{"ops"}}}
	})
	h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) {
		mustUser(t, ctx, "dave@example.com")
		return sampleTicket(id), nil
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/tickets/x", token: "opaque"}); r.status != 200 {
		t.Errorf("status = %d %s", r.status, r.body)
	}
}

// TestOIDCVerifierRefusesWorkloadEmail: a person's ID token can never pass
// for a workload (broker.WorkloadPrefix), whatever its case.
func TestOIDCVerifierRefusesWorkloadEmail(t *testing.T) {
	for _, email := range []string{"workload:deploy", " Workload:deploy"} {
		c, err := issuer.Claims("bob@example.com", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c["email"] = email
		tok, err := issuer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := verifier.Verify(t.Context(), tok); broker.ErrorCode(err) != broker.EUNAUTHENTICATED {
			t.Errorf("email %q: Verify = %v, %v; want unauthenticated", email, u, err)
		}
	}
}
