package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// JWKSRefetchEvery is how often, at most, JIT fetches an issuer's keys
// (its jwks_uri) again because a token names a key it does not hold.
// go-oidc's own key set fetches them for every such token, so anyone could
// make JIT hammer the identity provider, or a workload issuer, by sending
// tokens with made-up key ids; in between, such a token is refused as
// badly signed. A key the issuer rotates in is picked up within this long.
const JWKSRefetchEvery = 30 * time.Second

// jwksAlgs are the signature algorithms a key set verifies (go-oidc's).
var jwksAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
	jose.PS256, jose.PS384, jose.PS512, jose.EdDSA,
}

// jwksMaxBytes bounds a key set document.
const jwksMaxBytes = 1 << 20

// jwks is an oidc.KeySet for one issuer's jwks_uri that fetches the keys
// on first use and then again, when a token is signed with none of the
// keys held, at most once per every (concurrent callers share a fetch).
type jwks struct {
	url   string
	ctx   context.Context // for fetches: carries the HTTP client (oidc.ClientContext), never cancelled
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	last    time.Time // when the last fetch started; zero before the first
	lastErr error     // how the last fetch failed, nil if it did not
	fetch   *jwksFetch
}

// jwksFetch is a fetch in flight; done is closed when keys and err are set.
type jwksFetch struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

var _ oidc.KeySet = (*jwks)(nil)

// newJWKS returns the key set at url, fetched again at most once per
// JWKSRefetchEvery. ctx's values (an oidc.ClientContext HTTP client) are
// used for every fetch; its cancellation is not.
func newJWKS(ctx context.Context, url string) *jwks {
	return &jwks{url: url, ctx: context.WithoutCancel(ctx), every: JWKSRefetchEvery, now: time.Now}
}

// VerifySignature verifies jwt with the key its header names (any key if
// it names none) and returns its payload. A token no held key verifies
// fetches the keys again, unless they were fetched less than every ago:
// then it is refused at once. Errors say "fetching keys" when the keys
// cannot be fetched (verifyError: EUNAVAILABLE).
func (k *jwks) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, jwksAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not signed exactly once")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.Lock()
	held := k.keys
	k.mu.Unlock()
	if payload, ok := verifyWith(jws, kid, held); ok {
		return payload, nil
	}
	keys, err := k.refetch(ctx)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errors.New("no key of the issuer verifies the token")
}

// verifyWith verifies jws with the keys whose id is kid (every key when
// kid is empty).
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refetch returns the keys after fetching them again, or joining a fetch
// in flight; within every of the last fetch it fetches nothing and
// returns the keys held (with the last fetch's error, if it failed).
func (k *jwks) refetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	f := k.fetch
	if f == nil {
		if !k.last.IsZero() && k.now().Sub(k.last) < k.every {
			keys, err := k.keys, k.lastErr
			k.mu.Unlock()
			if err != nil {
				return nil, err
			}
			return keys, nil
		}
		f = &jwksFetch{done: make(chan struct{})}
		k.fetch, k.last = f, k.now()
		go k.run(f)
	}
	k.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("fetching keys: %w", ctx.Err())
	case <-f.done:
		return f.keys, f.err
	}
}

// run fetches the keys for f; a failed fetch keeps the keys held.
func (k *jwks) run(f *jwksFetch) {
	keys, err := k.get()
	k.mu.Lock()
	if err == nil {
		k.keys = keys
	} else {
		err = fmt.Errorf("fetching keys: %w", err)
	}
	k.lastErr, k.fetch = err, nil
	f.keys, f.err = k.keys, err
	k.mu.Unlock()
	close(f.done)
}

// get fetches and parses the key set, skipping keys of algorithms or
// types it cannot verify with.
func (k *jwks) get() ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(k.ctx, discoveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Cache-Control", "no-cache")
	client := http.DefaultClient
	if c, ok := k.ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		client = c
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", k.url, resp.Status)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s holds no JSON Web Key Set: %v", k.url, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var meta struct {
			Alg string `json:"alg"`
		}
		if json.Unmarshal(raw, &meta) != nil || (meta.Alg != "" && !slices.Contains(jwksAlgs, jose.SignatureAlgorithm(meta.Alg))) {
			continue
		}
		var key jose.JSONWebKey
		if err := json.Unmarshal(raw, &key); err != nil {
			continue // a key type or parameters it cannot use
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// discover discovers the issuer at issuerURL and returns a verifier of its
// ID tokens whose keys come from a jwks (never go-oidc's own key set, which
// fetches the keys for every unknown key id), and that key set. The
// verifier accepts the signing algorithms the issuer announces that JIT
// supports (RS256 when it announces none).
func discover(ctx context.Context, issuerURL string, config oidc.Config) (*oidc.IDTokenVerifier, *jwks, error) {
	p, err := oidc.NewProvider(ctx, issuerURL)
	if err != nil {
		return nil, nil, err
	}
	var doc struct {
		JWKS string   `json:"jwks_uri"`
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKS == "" {
		return nil, nil, errors.New("discovery document has no jwks_uri")
	}
	if len(config.SupportedSigningAlgs) == 0 {
		for _, a := range doc.Algs {
			if slices.Contains(jwksAlgs, jose.SignatureAlgorithm(a)) {
				config.SupportedSigningAlgs = append(config.SupportedSigningAlgs, a)
			}
		}
	}
	keys := newJWKS(ctx, doc.JWKS)
	return oidc.NewVerifier(issuerURL, keys, &config), keys, nil
}
