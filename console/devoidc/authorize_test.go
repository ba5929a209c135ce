package devoidc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// codeFlow runs the authorization code flow with PKCE the way a browser
// app does, using golang.org/x/oauth2 as the client. It returns the code
// and the config to exchange it with.
func codeFlow(t *testing.T, path string) (oauth2.Config, string, string, string) {
	t.Helper()
	iss, _ := serve(t, path, "jit")
	const redirect = "http://127.0.0.1:9/callback"
	iss.AllowRedirectURI(redirect)
	root := strings.TrimSuffix(iss.IssuerURL(), "/")
	cfg := oauth2.Config{
		ClientID: "jit", RedirectURL: redirect, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: root + "/authorize", TokenURL: root + "/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "n0nce"))

	page := get(t, authURL)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, `value="bob@example.com"`) {
		t.Fatalf("sign-in page: %d %s", page.StatusCode, page.body)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("login_hint", "bob@example.com")
	loc := postForm(t, authURL, form)
	back, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, redirect+"?") {
		t.Fatalf("redirect %q is not to the registered URI", loc)
	}
	if back.Query().Get("state") != "st4te" || back.Query().Get("code") == "" {
		t.Fatalf("redirect %q lacks code or state", loc)
	}
	return cfg, back.Query().Get("code"), verifier, iss.IssuerURL()
}

func TestCodeFlowWithPKCE(t *testing.T) {
	for _, path := range []string{"", "/oidc"} {
		t.Run("path="+path, func(t *testing.T) {
			cfg, code, pkce, issuer := codeFlow(t, path)
			tok, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := verifier(t, issuer, "jit").Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var claims struct{ Email, Nonce string }
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != "bob@example.com" || claims.Nonce != "n0nce" {
				t.Errorf("claims = %+v, want bob@example.com with nonce n0nce", claims)
			}
			// A code is good once.
			if _, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(pkce)); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
				t.Errorf("second exchange: %v, want invalid_grant", err)
			}
		})
	}
}

func TestCodeFlowRefusesAWrongVerifier(t *testing.T) {
	cfg, code, _, _ := codeFlow(t, "")
	_, err := cfg.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if err == nil || !strings.Contains(err.Error(), "code_verifier does not match") {
		t.Fatalf("Exchange with another verifier: %v, want invalid_grant", err)
	}
}

func TestAuthorizeRefusesBadRequests(t *testing.T) {
	iss, _ := serve(t, "", "jit")
	iss.AllowRedirectURI("http://127.0.0.1:9/callback")
	base := url.Values{
		"client_id": {"jit"}, "redirect_uri": {"http://127.0.0.1:9/callback"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"s"}, "code_challenge": {"abc"}, "code_challenge_method": {"S256"},
	}
	with := func(k, v string) string {
		q := url.Values{}
		for key, vals := range base {
			q[key] = vals
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return iss.IssuerURL() + "/authorize?" + q.Encode()
	}
	// Never redirected: the client or the redirect URI is not trusted.
	for name, u := range map[string]string{
		"unknown client":      with("client_id", "other"),
		"unregistered target": with("redirect_uri", "http://evil.example/callback"),
	} {
		r := get(t, u)
		if r.StatusCode != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("%s: %d Location %q, want 400 on the page", name, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// Redirected back with an OAuth error.
	for name, tc := range map[string]struct{ url, code string }{
		"no PKCE":        {with("code_challenge", ""), "invalid_request"},
		"plain PKCE":     {with("code_challenge_method", "plain"), "invalid_request"},
		"implicit":       {with("response_type", "id_token"), "unsupported_response_type"},
		"no openid":      {with("scope", "email"), "invalid_scope"},
		"bad max_age":    {with("max_age", "-1"), "invalid_request"},
		"prompt=none":    {with("prompt", "none"), "login_required"},
		"unknown person": {"", "access_denied"},
	} {
		var loc string
		if tc.url == "" {
			f := url.Values{}
			for k, v := range base {
				f[k] = v
			}
			f.Set("login_hint", "mallory@example.com")
			loc = postForm(t, iss.IssuerURL()+"/authorize", f)
		} else {
			r := get(t, tc.url)
			loc = r.Header.Get("Location")
		}
		u, _ := url.Parse(loc)
		if u == nil || u.Query().Get("error") != tc.code || u.Query().Get("state") != "s" || u.Query().Get("code") != "" {
			t.Errorf("%s: redirected to %q, want error=%s with the state and no code", name, loc, tc.code)
		}
	}
}

func TestTokenEndpointCORS(t *testing.T) {
	iss, _ := serve(t, "", "jit")
	iss.AllowRedirectURI("http://127.0.0.1:9/callback")
	for origin, want := range map[string]string{"http://127.0.0.1:9": "http://127.0.0.1:9", "http://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodPost, iss.IssuerURL()+"/token", strings.NewReader("grant_type=authorization_code&code=x"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Error string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("origin %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
		if resp.StatusCode != http.StatusBadRequest || body.Error != "invalid_grant" {
			t.Errorf("origin %s: %d %q, want 400 invalid_grant", origin, resp.StatusCode, body.Error)
		}
	}
}

type response struct {
	*http.Response
	body string
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, u string) response {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, string(b)}
}

// postForm posts the sign-in form and returns where it redirects.
func postForm(t *testing.T, u string, form url.Values) string {
	t.Helper()
	resp, err := noRedirects.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST %s: %d, want 303", u, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// A step-up sign-in (max_age, prompt=login) shows the page saying so, and
// the ID token carries the time of that sign-in and the method; a refresh
// keeps the sign-in's time, since it is no new authentication.
func TestStepUpAuthTime(t *testing.T) {
	iss, _ := serve(t, "", "jit")
	const redirect = "http://127.0.0.1:9/callback"
	iss.AllowRedirectURI(redirect)
	root := strings.TrimSuffix(iss.IssuerURL(), "/")
	cfg := oauth2.Config{ClientID: "jit", RedirectURL: redirect, Scopes: []string{"openid", "email"},
		Endpoint: oauth2.Endpoint{AuthURL: root + "/authorize", TokenURL: root + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	pkce := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(pkce), oauth2.SetAuthURLParam("max_age", "0"), oauth2.SetAuthURLParam("prompt", "login"))
	page := get(t, authURL)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "Sign in again") || !strings.Contains(page.body, `name="max_age" value="0"`) {
		t.Fatalf("sign-in page: %d %s", page.StatusCode, page.body)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("login_hint", "bob@example.com")
	back, _ := url.Parse(postForm(t, authURL, form))
	tok, err := cfg.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(pkce))
	if err != nil {
		t.Fatal(err)
	}
	claimsOf := func(tok *oauth2.Token) (c struct {
		AuthTime int64    `json:"auth_time"`
		AMR      []string `json:"amr"`
		IAT      int64    `json:"iat"`
	}) {
		t.Helper()
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier(t, iss.IssuerURL(), "jit").Verify(t.Context(), raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := claimsOf(tok)
	if first.AuthTime == 0 || first.AuthTime > first.IAT || len(first.AMR) != 1 || first.AMR[0] != "pwd" {
		t.Fatalf("claims %+v, want auth_time at the sign-in and amr [pwd]", first)
	}
	later := time.Now().Add(time.Hour)
	iss.SetClock(func() time.Time { return later }) // the refresh an hour on
	tok.Expiry = time.Now().Add(-time.Minute)
	next, err := cfg.TokenSource(t.Context(), tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	if again := claimsOf(next); again.AuthTime != first.AuthTime || again.IAT == first.IAT {
		t.Errorf("refreshed claims %+v, want the first sign-in's auth_time %d with a new iat", again, first.AuthTime)
	}
}
