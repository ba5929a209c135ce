package devoidc

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The authorization code flow with PKCE (RFC 7636), so a browser app can
// sign in as a public client: GET <issuer>/authorize shows the demo users;
// choosing one redirects back with a one-time code, which POST
// <issuer>/token exchanges (with the PKCE verifier) for an ID token.
// Only redirect URIs given to AllowRedirectURI are used.

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = time.Minute

// authRequest is what an authorization request asked for.
type authRequest struct {
	ClientID, RedirectURI, State, Nonce, Challenge string
}

// grant is an authorization code waiting to be exchanged.
type grant struct {
	authRequest
	email   string
	expires time.Time
	// authTime is when the user picked themself on the sign-in page.
	authTime time.Time
}

// AllowRedirectURI registers a browser app's redirect URI (absolute, no
// fragment). The token endpoint answers CORS requests from its origin. A
// loopback URI (http://127.0.0.1/callback) allows every port.
func (i *Issuer) AllowRedirectURI(uri string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.redirects = append(i.redirects, uri)
}

// redirectAllowed reports whether uri is registered. A registered
// loopback URI (http://127.0.0.1/callback) matches any port, as a native
// app picks a free one when it starts (RFC 8252 section 7.3).
func (i *Issuer) redirectAllowed(uri string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.ContainsFunc(i.redirects, func(r string) bool { return r == uri || sameLoopback(r, uri) })
}

// sameLoopback reports whether a and b are http URLs on the same loopback
// host with the same path and query, whatever their ports.
func sameLoopback(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil || ua.Scheme != "http" || ub.Scheme != "http" || ua.Hostname() != ub.Hostname() {
		return false
	}
	ip := net.ParseIP(ua.Hostname())
	loop := ua.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
	return loop && ua.Path == ub.Path && ua.RawQuery == ub.RawQuery && ua.Fragment == "" && ub.Fragment == ""
}

// originAllowed reports whether o is the origin of a registered redirect URI.
func (i *Issuer) originAllowed(o string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.ContainsFunc(i.redirects, func(r string) bool { return origin(r) == o })
}

// parseAuthRequest checks an authorization request. A bad client or
// redirect URI is answered on the page (never redirected to); other errors
// go back to the redirect URI as ?error=.
func (i *Issuer) parseAuthRequest(v url.Values) (authRequest, string, string) {
	req := authRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"),
		State: v.Get("state"), Nonce: v.Get("nonce"), Challenge: v.Get("code_challenge"),
	}
	switch {
	case req.ClientID != i.audience:
		return req, "", "unknown client_id " + req.ClientID
	case !i.redirectAllowed(req.RedirectURI):
		return req, "", "redirect_uri " + req.RedirectURI + " is not registered"
	case v.Get("response_type") != "code":
		return req, "unsupported_response_type", "response_type must be code"
	case req.Challenge == "" || v.Get("code_challenge_method") != "S256":
		return req, "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256"
	case !strings.Contains(" "+v.Get("scope")+" ", " openid "):
		return req, "invalid_scope", "scope must include openid"
	case v.Get("max_age") != "" && !validMaxAge(v.Get("max_age")):
		return req, "invalid_request", "max_age must be a whole number of seconds"
	case slices.Contains(strings.Fields(v.Get("prompt")), "none"):
		// No session to answer from without the sign-in page.
		return req, "login_required", "the development issuer keeps no session: sign in on its page"
	}
	return req, "", ""
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>JIT development sign-in</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;text-align:left}p.warn{color:#a00;font-weight:bold}</style>
</head><body>
<h1>JIT development sign-in</h1>
<p class="warn">Development only: anyone on this machine can sign in as anyone.</p>
{{if .Again}}<p id="step-up">Sign in again: a recent sign-in is required.</p>{{end}}
<form method="post">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}{{range .Users}}<button type="submit" name="login_hint" value="{{.Email}}">{{.Email}}{{if .Name}} ({{.Name}}){{end}}</button>
{{end}}</form></body></html>
`))

// authorize serves the sign-in page (GET) and issues a code (POST).
func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	req, code, msg := i.parseAuthRequest(r.Form)
	if msg != "" && code == "" {
		http.Error(w, "sign-in refused: "+msg, http.StatusBadRequest)
		return
	}
	if code != "" {
		redirectBack(w, r, req, url.Values{"error": {code}, "error_description": {msg}})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' "+origin(req.RedirectURI)+"; frame-ancestors 'none'")
	if r.Method == http.MethodGet {
		fields := map[string]string{}
		for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "max_age", "prompt"} {
			fields[k] = r.Form.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = loginPage.Execute(w, struct {
			Fields map[string]string
			Users  []User
			Again  bool
		}{fields, i.Users(), fields["max_age"] != "" || slices.Contains(strings.Fields(fields["prompt"]), "login")})
		return
	}
	u, ok := i.user(r.PostForm.Get("login_hint"))
	if !ok {
		redirectBack(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"no such user"}})
		return
	}
	c := randomString()
	i.mu.Lock()
	now := i.now()
	for k, g := range i.codes {
		if now.After(g.expires) {
			delete(i.codes, k)
		}
	}
	// Every sign-in here is a fresh authentication (the issuer keeps no
	// session), so max_age and prompt=login are always met: auth_time is now.
	i.codes[c] = grant{authRequest: req, email: u.Email, expires: now.Add(codeTTL), authTime: now}
	i.mu.Unlock()
	redirectBack(w, r, req, url.Values{"code": {c}})
}

// validMaxAge reports whether s is an OIDC max_age: a non-negative whole
// number of seconds.
func validMaxAge(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n >= 0
}

func redirectBack(w http.ResponseWriter, r *http.Request, req authRequest, v url.Values) {
	if req.State != "" {
		v.Set("state", req.State)
	}
	sep := "?"
	if strings.Contains(req.RedirectURI, "?") {
		sep = "&"
	}
	http.Redirect(w, r, req.RedirectURI+sep+v.Encode(), http.StatusSeeOther)
}

// exchange serves POST <issuer>/token for grant_type=authorization_code.
func (i *Issuer) exchange(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" && i.originAllowed(o) {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Vary", "Origin")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be a form of at most 4 KiB")
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
	case "refresh_token":
		i.refresh(w, f)
		return
	case deviceGrantType:
		i.deviceToken(w, f)
		return
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code, refresh_token or "+deviceGrantType)
		return
	}
	i.mu.Lock()
	g, ok := i.codes[f.Get("code")]
	delete(i.codes, f.Get("code")) // one use, even a failed one
	i.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case !ok || i.now().After(g.expires):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the code is unknown, used or expired")
		return
	case g.ClientID != f.Get("client_id") || g.RedirectURI != f.Get("redirect_uri"):
		tokenError(w, http.StatusBadRequest, "invalid_grant", "client_id or redirect_uri differ from the authorization request")
		return
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.Challenge)) != 1:
		tokenError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	i.issueTokens(w, g.email, g.Nonce, g.authTime)
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func origin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
