package devoidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// User is someone the issuer can mint tokens for.
type User struct {
	Email  string   `json:"email"`
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
}

// Issuer is a development OIDC issuer. It is safe for concurrent use.
type Issuer struct {
	issuer   string
	audience string
	users    []User
	key      *rsa.PrivateKey
	keyID    string
	signer   jose.Signer
	now      func() time.Time

	// base is the issuer URL's path without a trailing slash; Handler
	// serves its documents under it.
	base string

	mu        sync.Mutex
	redirects []string                // registered redirect URIs (AllowRedirectURI)
	codes     map[string]grant        // authorization codes not yet exchanged
	devices   map[string]*deviceGrant // device codes (device.go)
	refreshes map[string]refreshGrant // refresh tokens (refresh.go)
	tokenTTL  time.Duration           // ID tokens of the grants (SetTokenTTL)
}

// New returns an issuer whose tokens carry issuerURL as "iss" and audience
// as "aud", for the given users (emails are matched case-insensitively and
// must be unique). It makes a fresh 2048-bit RSA key, so tokens from one
// Issuer never verify against another.
func New(issuerURL, audience string, users []User) (*Issuer, error) {
	u, err := url.Parse(issuerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("devoidc: issuer URL %q must be an absolute http(s) URL", issuerURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("devoidc: issuer URL %q must not have a query or fragment", issuerURL)
	}
	if audience == "" {
		return nil, errors.New("devoidc: audience is required")
	}
	var list []User
	for _, usr := range users {
		email := strings.ToLower(strings.TrimSpace(usr.Email))
		if email == "" || !strings.Contains(email, "@") {
			return nil, fmt.Errorf("devoidc: user email %q is not an email address", usr.Email)
		}
		if slices.ContainsFunc(list, func(o User) bool { return o.Email == email }) {
			return nil, fmt.Errorf("devoidc: user %s is listed twice", email)
		}
		list = append(list, User{Email: email, Name: usr.Name, Groups: slices.Clone(usr.Groups)})
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("devoidc: generate key: %w", err)
	}
	kid := keyID(&key.PublicKey)
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("devoidc: signer: %w", err)
	}
	return &Issuer{
		issuer:    issuerURL,
		audience:  audience,
		users:     list,
		key:       key,
		keyID:     kid,
		signer:    signer,
		now:       time.Now,
		base:      strings.TrimSuffix(u.Path, "/"),
		codes:     map[string]grant{},
		devices:   map[string]*deviceGrant{},
		refreshes: map[string]refreshGrant{},
		tokenTTL:  DefaultTokenTTL,
	}, nil
}

// keyID names a public key after its SHA-256 digest, so two issuers never
// share a key id.
func keyID(pub *rsa.PublicKey) string {
	sum := sha256.Sum256(pub.N.Bytes())
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// IssuerURL returns the issuer URL tokens carry as "iss".
func (i *Issuer) IssuerURL() string { return i.issuer }

// Audience returns the audience tokens carry as "aud".
func (i *Issuer) Audience() string { return i.audience }

// Users returns a copy of the issuer's users.
func (i *Issuer) Users() []User {
	out := make([]User, len(i.users))
	for n, u := range i.users {
		out[n] = User{Email: u.Email, Name: u.Name, Groups: slices.Clone(u.Groups)}
	}
	return out
}

// Lookup returns the user with the given email (case-insensitive) or, when
// name has no "@", the one user whose email's local part is name ("alice"
// finds alice@example.com). It reports false for unknown or ambiguous names.
func (i *Issuer) Lookup(name string) (User, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return User{}, false
	}
	var found []User
	for _, u := range i.users {
		local, _, _ := strings.Cut(u.Email, "@")
		if u.Email == name || (!strings.Contains(name, "@") && local == name) {
			found = append(found, u)
		}
	}
	if len(found) != 1 {
		return User{}, false
	}
	u := found[0]
	return User{Email: u.Email, Name: u.Name, Groups: slices.Clone(u.Groups)}, true
}

// Claims returns the claims Token would sign for the user with the given
// email, valid for ttl from now: iss, aud, sub, email, email_verified, name,
// groups, iat and exp. Tests change them (an "exp" in the past, another
// "aud") and pass them to Sign.
func (i *Issuer) Claims(email string, ttl time.Duration) (map[string]any, error) {
	u, ok := i.user(email)
	if !ok {
		return nil, fmt.Errorf("devoidc: unknown user %q", email)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("devoidc: ttl %s must be positive", ttl)
	}
	now := i.now().UTC()
	groups := slices.Clone(u.Groups)
	if groups == nil {
		groups = []string{}
	}
	return map[string]any{
		"iss":            i.issuer,
		"aud":            i.audience,
		"sub":            u.Email,
		"email":          u.Email,
		"email_verified": true,
		"name":           u.Name,
		"groups":         groups,
		"iat":            now.Unix(),
		"exp":            now.Add(ttl).Unix(),
		// The development issuer authenticates afresh on every sign-in
		// (it keeps no session), with a password as far as anyone knows.
		"auth_time": now.Unix(),
		"amr":       []string{"pwd"},
	}, nil
}

// Token returns a signed RS256 ID token for the user with the given email,
// valid for ttl. Unknown users are an error.
func (i *Issuer) Token(email string, ttl time.Duration) (string, error) {
	claims, err := i.Claims(email, ttl)
	if err != nil {
		return "", err
	}
	return i.Sign(claims)
}

// Sign signs arbitrary claims with the issuer's key, exactly as given. It
// exists so tests can make tokens a real issuer would not (expired, for
// another audience, without an email).
func (i *Issuer) Sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devoidc: encode claims: %w", err)
	}
	obj, err := i.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devoidc: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// user finds a user by exact (case-insensitive) email.
func (i *Issuer) user(email string) (User, bool) {
	email = strings.ToLower(strings.TrimSpace(email))
	for _, u := range i.users {
		if u.Email == email {
			return u, true
		}
	}
	return User{}, false
}

// jwks returns the public key set.
func (i *Issuer) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &i.key.PublicKey, KeyID: i.keyID, Algorithm: string(jose.RS256), Use: "sig",
	}}}
}

// discovery is the subset of the OpenID Provider Metadata the issuer serves.
type discovery struct {
	Issuer          string   `json:"issuer"`
	AuthEndpoint    string   `json:"authorization_endpoint"`
	TokenEndpoint   string   `json:"token_endpoint"`
	DeviceEndpoint  string   `json:"device_authorization_endpoint"`
	JWKSURI         string   `json:"jwks_uri"`
	ResponseTypes   []string `json:"response_types_supported"`
	GrantTypes      []string `json:"grant_types_supported"`
	PKCEMethods     []string `json:"code_challenge_methods_supported"`
	TokenAuth       []string `json:"token_endpoint_auth_methods_supported"`
	SubjectTypes    []string `json:"subject_types_supported"`
	SigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
	ClaimsSupported []string `json:"claims_supported"`
	ScopesSupported []string `json:"scopes_supported"`
}

// Handler serves, under the issuer URL's path: the discovery document at
// /.well-known/openid-configuration and the key set at /jwks (both open to
// any origin, as public documents), the authorization code flow at
// /authorize and /token (see authorize.go), the device grant at
// /device_authorization and /device (device.go) and refresh tokens at
// /token (refresh.go). Mount it without stripping the
// issuer URL's path (for an issuer URL with no path, at the root). Other
// paths get 404.
func (i *Issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		root := strings.TrimSuffix(i.issuer, "/")
		var body any
		switch r.URL.Path {
		case i.base + "/authorize":
			i.authorize(w, r)
			return
		case i.base + "/token":
			i.exchange(w, r)
			return
		case i.base + "/device_authorization":
			i.deviceAuthorization(w, r)
			return
		case i.base + "/device":
			i.deviceVerify(w, r)
			return
		case i.base + "/.well-known/openid-configuration":
			body = discovery{
				Issuer:          i.issuer,
				AuthEndpoint:    root + "/authorize",
				TokenEndpoint:   root + "/token",
				DeviceEndpoint:  root + "/device_authorization",
				JWKSURI:         root + "/jwks",
				ResponseTypes:   []string{"code", "id_token"},
				GrantTypes:      []string{"authorization_code", "refresh_token", deviceGrantType},
				PKCEMethods:     []string{"S256"},
				TokenAuth:       []string{"none"},
				SubjectTypes:    []string{"public"},
				SigningAlgs:     []string{string(jose.RS256)},
				ClaimsSupported: []string{"iss", "aud", "sub", "email", "email_verified", "name", "groups", "iat", "exp", "nonce"},
				ScopesSupported: []string{"openid", "email", "profile", "offline_access"},
			}
		case i.base + "/jwks":
			body = i.jwks()
		default:
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", "*")
		writeJSON(w, http.StatusOK, body)
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
