package devoidc_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// deviceConfig is an x/oauth2 client of the issuer's device and token
// endpoints, as a command line would use them.
func deviceConfig(t *testing.T) (oauth2.Config, string) {
	t.Helper()
	iss, _ := serve(t, "/oidc", "jit")
	root := iss.IssuerURL()
	return oauth2.Config{
		ClientID: "jit", Scopes: []string{"openid", "email", "offline_access"},
		Endpoint: oauth2.Endpoint{DeviceAuthURL: root + "/device_authorization", TokenURL: root + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}, iss.IssuerURL()
}

func TestDeviceGrant(t *testing.T) {
	cfg, issuer := deviceConfig(t)
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !strings.HasPrefix(da.VerificationURI, issuer+"/device") || len(da.UserCode) != 9 {
		t.Fatalf("device answer %+v", da)
	}
	// Not signed in yet: the token endpoint says so.
	short, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	_, err = cfg.DeviceAccessToken(short, da)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DeviceAccessToken before sign-in: %v, want the context's deadline", err)
	}
	page := get(t, da.VerificationURIComplete)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, da.UserCode) || !strings.Contains(page.body, `value="bob@example.com"`) {
		t.Fatalf("device page: %d %s", page.StatusCode, page.body)
	}
	// A wrong code changes nothing; the code typed in lower case works.
	resp, err := http.PostForm(da.VerificationURI, url.Values{"user_code": {"BBBB-BBBB"}, "login_hint": {"bob@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong code: %d, want 400", resp.StatusCode)
	}
	resp, err = http.PostForm(da.VerificationURI, url.Values{"user_code": {strings.ToLower(strings.ReplaceAll(da.UserCode, "-", ""))}, "login_hint": {"bob@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d, want 200", resp.StatusCode)
	}
	tok, err := cfg.DeviceAccessToken(t.Context(), da)
	if err != nil {
		t.Fatalf("DeviceAccessToken: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier(t, issuer, "jit").Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Subject != "bob@example.com" || tok.RefreshToken == "" {
		t.Fatalf("subject %q, refresh token %q", idt.Subject, tok.RefreshToken)
	}
	// The device code is used up.
	if _, err := cfg.DeviceAccessToken(t.Context(), da); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("second DeviceAccessToken: %v, want invalid_grant", err)
	}
}

func TestDeviceGrantDenied(t *testing.T) {
	cfg, _ := deviceConfig(t)
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(da.VerificationURI, url.Values{"user_code": {da.UserCode}, "deny": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := cfg.DeviceAccessToken(t.Context(), da); err == nil || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("DeviceAccessToken after deny: %v, want access_denied", err)
	}
}

func TestRefreshTokenRotates(t *testing.T) {
	cfg, code, pkce, issuer := codeFlow(t, "")
	tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	first := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute) // make the source refresh
	fresh, err := cfg.TokenSource(t.Context(), tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := fresh.Extra("id_token").(string)
	if _, err := verifier(t, issuer, "jit").Verify(t.Context(), raw); err != nil {
		t.Fatalf("refreshed ID token: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == first {
		t.Fatalf("refresh token not rotated: %q", fresh.RefreshToken)
	}
	// The first one is used up.
	_, err = cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: first, Expiry: time.Now().Add(-time.Minute)}).Token()
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("reused refresh token: %v, want invalid_grant", err)
	}
}

func TestLoopbackRedirectAnyPort(t *testing.T) {
	iss, _ := serve(t, "", "jit")
	iss.AllowRedirectURI("http://127.0.0.1/callback")
	base := iss.IssuerURL() + "/authorize?response_type=code&client_id=jit&scope=openid&code_challenge=x&code_challenge_method=S256&redirect_uri="
	for uri, want := range map[string]int{
		"http://127.0.0.1:43123/callback": 200,
		"http://127.0.0.1/callback":       200,
		"http://127.0.0.1:43123/other":    400,
		"http://localhost:43123/callback": 400,
		"https://127.0.0.1:4/callback":    400,
	} {
		if got := get(t, base+url.QueryEscape(uri)).StatusCode; got != want {
			t.Errorf("redirect_uri %s: %d, want %d", uri, got, want)
		}
	}
}
