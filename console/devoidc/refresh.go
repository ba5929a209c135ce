package devoidc

import (
	"net/http"
	"net/url"
	"time"
)

// Refresh tokens: every token answer carries one; POST <issuer>/token
// with grant_type=refresh_token exchanges it (once: each answer brings a
// new one) for a fresh ID token, so a command line stays signed in
// without a browser.

// refreshTTL is how long a refresh token can be used.
const refreshTTL = 24 * time.Hour

// refreshGrant is what a refresh token stands for.
type refreshGrant struct {
	clientID, email string
	expires         time.Time
	// authTime is when the user signed in: a refreshed ID token carries
	// it on, since a refresh is no new authentication.
	authTime time.Time
}

// SetTokenTTL sets how long the ID tokens of the code, device and refresh
// grants stay valid (DefaultTokenTTL until set). Tests shorten it to see
// a client refresh.
func (i *Issuer) SetTokenTTL(d time.Duration) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.tokenTTL = d
}

// refresh answers grant_type=refresh_token.
func (i *Issuer) refresh(w http.ResponseWriter, f url.Values) {
	rt := f.Get("refresh_token")
	i.mu.Lock()
	g, ok := i.refreshes[rt]
	delete(i.refreshes, rt) // rotated: one use
	i.mu.Unlock()
	if !ok || i.now().After(g.expires) || g.clientID != f.Get("client_id") {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is unknown, used or expired")
		return
	}
	i.issueTokens(w, g.email, "", g.authTime)
}

// issueTokens answers a successful token request for the user: an ID
// token (also the access token: JIT's API takes the ID token as its bearer
// token) and a new refresh token. authTime is when the user signed in (the
// ID token's auth_time).
func (i *Issuer) issueTokens(w http.ResponseWriter, email, nonce string, authTime time.Time) {
	i.mu.Lock()
	ttl := i.tokenTTL
	i.mu.Unlock()
	claims, err := i.Claims(email, ttl)
	if err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_grant", "the user is gone")
		return
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	claims["auth_time"] = authTime.Unix()
	tok, err := i.Sign(claims)
	if err != nil {
		tokenError(w, http.StatusInternalServerError, "server_error", "internal error")
		return
	}
	rt := randomString()
	i.mu.Lock()
	now := i.now()
	for k, g := range i.refreshes {
		if now.After(g.expires) {
			delete(i.refreshes, k)
		}
	}
	i.refreshes[rt] = refreshGrant{clientID: i.audience, email: email, expires: now.Add(refreshTTL), authTime: authTime}
	i.mu.Unlock()
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"id_token": tok, "access_token": tok, "token_type": "Bearer", "expires_in": int(ttl.Seconds()),
		"refresh_token": rt,
	})
}
