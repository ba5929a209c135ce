package devoidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/console/devoidc"
)

var testUsers = []devoidc.User{
	{Email: "Alice@Example.com", Name: "Alice", Groups: []string{"engineers", "approvers"}},
	{Email: "bob@example.com", Name: "Bob"},
}

// serve starts an httptest server for an issuer whose URL is the server's
// URL plus path.
func serve(t *testing.T, path, audience string) (*devoidc.Issuer, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	iss, err := devoidc.New("http://"+srv.Listener.Addr().String()+path, audience, testUsers)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = iss.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	return iss, srv
}

func verifier(t *testing.T, issuerURL, audience string) *oidc.IDTokenVerifier {
	t.Helper()
	p, err := oidc.NewProvider(t.Context(), issuerURL)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	return p.Verifier(&oidc.Config{ClientID: audience})
}

func TestTokenVerifiesWithGoOIDC(t *testing.T) {
	for _, path := range []string{"", "/oidc", "/dev/oidc/"} {
		t.Run("path="+path, func(t *testing.T) {
			iss, _ := serve(t, path, "jit")
			raw, err := iss.Token("alice@example.com", time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := verifier(t, iss.IssuerURL(), "jit").Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var got struct {
				Email         string   `json:"email"`
				EmailVerified bool     `json:"email_verified"`
				Name          string   `json:"name"`
				Groups        []string `json:"groups"`
			}
			if err := tok.Claims(&got); err != nil {
				t.Fatal(err)
			}
			want := got
			want.Email, want.EmailVerified, want.Name, want.Groups = "alice@example.com", true, "Alice", []string{"engineers", "approvers"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if tok.Subject != "alice@example.com" {
				t.Errorf("sub = %q, want alice@example.com", tok.Subject)
			}
			if d := time.Until(tok.Expiry); d < 59*time.Minute || d > time.Hour+time.Minute {
				t.Errorf("expiry in %s, want about 1h", d)
			}
		})
	}
}

func TestTokenRejected(t *testing.T) {
	iss, _ := serve(t, "", "jit")
	other, err := devoidc.New(iss.IssuerURL(), "jit", testUsers) // same URL, other key
	if err != nil {
		t.Fatal(err)
	}
	sign := func(mod func(map[string]any)) func() (string, error) {
		return func() (string, error) {
			c, err := iss.Claims("bob@example.com", time.Hour)
			if err != nil {
				return "", err
			}
			mod(c)
			return iss.Sign(c)
		}
	}
	tests := []struct {
		name    string
		token   func() (string, error)
		wantErr string
	}{
		{"other key", func() (string, error) { return other.Token("bob@example.com", time.Hour) }, "failed to verify signature"},
		{"expired", sign(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), "expired"},
		{"wrong audience", sign(func(c map[string]any) { c["aud"] = "someone-else" }), "audience"},
		{"wrong issuer", sign(func(c map[string]any) { c["iss"] = "https://evil.example.com" }), "different provider"},
	}
	v := verifier(t, iss.IssuerURL(), "jit")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := tt.token()
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(t.Context(), raw)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Verify error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestUnknownUser(t *testing.T) {
	iss, err := devoidc.New("http://127.0.0.1:1", "jit", testUsers)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Token("mallory@example.com", time.Hour); err == nil {
		t.Error("Token for an unknown user succeeded")
	}
	if _, err := iss.Token("alice@example.com", 0); err == nil {
		t.Error("Token with zero ttl succeeded")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name, url, aud string
		users          []devoidc.User
	}{
		{"relative URL", "/oidc", "jit", nil},
		{"no audience", "http://localhost", "", nil},
		{"bad email", "http://localhost", "jit", []devoidc.User{{Email: "alice"}}},
		{"duplicate", "http://localhost", "jit", []devoidc.User{{Email: "a@x.io"}, {Email: "A@x.io"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := devoidc.New(tt.url, tt.aud, tt.users); err == nil {
				t.Error("New succeeded")
			}
		})
	}
}

func TestUsersIsACopy(t *testing.T) {
	iss, err := devoidc.New("http://localhost", "jit", testUsers)
	if err != nil {
		t.Fatal(err)
	}
	us := iss.Users()
	us[0].Groups[0] = "changed"
	if got := iss.Users()[0].Groups[0]; got != "engineers" {
		t.Errorf("Users()[0].Groups[0] = %q after changing the copy, want engineers", got)
	}
	if got := us[0].Email; got != "alice@example.com" {
		t.Errorf("email = %q, want it lowercased", got)
	}
}

func TestLookup(t *testing.T) {
	iss, err := devoidc.New("http://localhost", "jit", append(testUsers, devoidc.User{Email: "bob@other.example.com"}))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"alice", "alice@example.com", true},
		{"ALICE@example.com", "alice@example.com", true},
		{"bob", "", false}, // ambiguous
		{"bob@other.example.com", "bob@other.example.com", true},
		{"mallory", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		u, ok := iss.Lookup(tt.name)
		if ok != tt.ok || u.Email != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.name, u.Email, ok, tt.want, tt.ok)
		}
	}
}

func TestHandlerPaths(t *testing.T) {
	iss, srv := serve(t, "/oidc", "jit")
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/oidc/.well-known/openid-configuration", 200},
		{"GET", "/oidc/jwks", 200},
		{"GET", "/jwks", 404},
		{"POST", "/oidc/jwks", 405},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/oidc/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["issuer"] != iss.IssuerURL() || doc["jwks_uri"] != iss.IssuerURL()+"/jwks" {
		t.Errorf("discovery = %v", doc)
	}
}

func TestTokenHandler(t *testing.T) {
	iss, err := devoidc.New("http://localhost", "jit", testUsers)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ctype, body string
		want              int
	}{
		{"bare name", "application/json", `{"user":"alice"}`, 200},
		{"email", "application/json; charset=utf-8", `{"user":"bob@example.com"}`, 200},
		{"unknown", "application/json", `{"user":"mallory"}`, 404},
		{"unknown field", "application/json", `{"user":"alice","admin":true}`, 400},
		{"not json", "text/plain", `{"user":"alice"}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(context.Background(), "POST", "/token", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.ctype)
			rec := httptest.NewRecorder()
			iss.TokenHandler().ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.want, rec.Body)
			}
			if tt.want != 200 {
				return
			}
			var got struct{ Token string }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || strings.Count(got.Token, ".") != 2 {
				t.Errorf("body = %s, want a token", rec.Body)
			}
		})
	}
}
