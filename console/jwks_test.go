package console

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/fake"
)

// jwksIssuer is an OIDC issuer on httptest whose key set can be rotated
// and whose key set fetches are counted.
type jwksIssuer struct {
	srv     *httptest.Server
	fetches atomic.Int64
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey // kid -> key, all published
	strange *rsa.PrivateKey            // signs tokens with made-up key ids
}

func newJWKSIssuer(t *testing.T) *jwksIssuer {
	t.Helper()
	i := &jwksIssuer{keys: map[string]*rsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": i.srv.URL, "jwks_uri": i.srv.URL + "/jwks",
			"authorization_endpoint": i.srv.URL + "/authorize", "token_endpoint": i.srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		i.fetches.Add(1)
		i.mu.Lock()
		var set jose.JSONWebKeySet
		for kid, k := range i.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		i.mu.Unlock()
		json.NewEncoder(w).Encode(set)
	})
	i.srv = httptest.NewServer(mux)
	t.Cleanup(i.srv.Close)
	i.rotate(t, "k1")
	return i
}

// rotate publishes a new key under kid.
func (i *jwksIssuer) rotate(t *testing.T, kid string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	i.mu.Lock()
	i.keys[kid] = k
	i.mu.Unlock()
}

// token signs an ID token for bob with the key kid (a key of its own, the
// issuer never publishes, when kid is not one of the issuer's).
func (i *jwksIssuer) token(t *testing.T, kid string) string {
	t.Helper()
	i.mu.Lock()
	k, ok := i.keys[kid]
	i.mu.Unlock()
	if !ok {
		i.mu.Lock()
		if i.strange == nil {
			var err error
			if i.strange, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				i.mu.Unlock()
				t.Fatal(err)
			}
		}
		k = i.strange
		i.mu.Unlock()
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"iss": i.srv.URL, "aud": "jit", "sub": "bob", "email": "bob@example.com",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The people's verifier: 100 tokens with made-up key ids make JIT fetch
// the issuer's keys once, not 100 times, and are refused as badly signed
// (401); within JWKSRefetchEvery of that fetch, more of them fetch
// nothing. A key the issuer rotates in is accepted once the interval has
// passed since the last fetch, and refused before.
func TestJWKSRefetchIsBounded(t *testing.T) {
	iss := newJWKSIssuer(t)
	clock := fake.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC))
	v, keys, err := discover(t.Context(), iss.srv.URL, oidcConfig())
	if err != nil {
		t.Fatal(err)
	}
	keys.now = clock.Now
	people := &OIDCVerifier{verifier: v, clientIDs: []string{"jit"}, groupsClaim: DefaultGroupsClaim}
	ctx := t.Context()

	if u, err := people.Verify(ctx, iss.token(t, "k1")); err != nil || u.Email != "bob@example.com" {
		t.Fatalf("a token signed with the issuer's key: %v %v", u, err)
	}
	if n := iss.fetches.Load(); n != 1 {
		t.Fatalf("%d key fetches for the first token, want 1", n)
	}
	clock.Advance(JWKSRefetchEvery)
	var wg sync.WaitGroup
	for n := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := people.Verify(ctx, iss.token(t, fmt.Sprintf("random-%d", n)))
			if broker.ErrorCode(err) != broker.EUNAUTHENTICATED || refusalReason(err) != ReasonSignature {
				t.Errorf("token with a made-up key id: %v (reason %s), want unauthenticated, bad signature", err, refusalReason(err))
			}
		}()
	}
	wg.Wait()
	if n := iss.fetches.Load(); n != 2 {
		t.Fatalf("%d key fetches after 100 tokens with made-up key ids, want 2 (the first, and one more)", n)
	}
	clock.Advance(JWKSRefetchEvery - time.Second)
	for n := range 10 {
		people.Verify(ctx, iss.token(t, fmt.Sprintf("again-%d", n)))
	}
	if n := iss.fetches.Load(); n != 2 {
		t.Fatalf("%d key fetches within the interval, want still 2", n)
	}
	if u, err := people.Verify(ctx, iss.token(t, "k1")); err != nil || u.Email != "bob@example.com" {
		t.Fatalf("a good token within the interval: %v %v", u, err)
	}

	// The issuer rotates in k2: refused until the interval since the last
	// fetch has passed, then fetched once and accepted.
	iss.rotate(t, "k2")
	rotated := iss.token(t, "k2")
	if _, err := people.Verify(ctx, rotated); refusalReason(err) != ReasonSignature {
		t.Fatalf("a rotated key within the interval: %v, want refused", err)
	}
	clock.Advance(time.Second)
	if u, err := people.Verify(ctx, rotated); err != nil || u.Email != "bob@example.com" {
		t.Fatalf("a rotated key after the interval: %v %v, want accepted", u, err)
	}
	if n := iss.fetches.Load(); n != 3 {
		t.Fatalf("%d key fetches after the rotation, want 3", n)
	}
	if _, err := people.Verify(ctx, rotated); err != nil || iss.fetches.Load() != 3 {
		t.Fatalf("the rotated key again: %v, %d fetches; want accepted from the keys held", err, iss.fetches.Load())
	}
}

func oidcConfig() oidc.Config { return oidc.Config{SkipClientIDCheck: true} }

// An issuer whose key set cannot be fetched makes the token unverifiable
// for now (503), not badly signed; it is asked again only after the
// interval.
func TestJWKSFetchFailureIsUnavailable(t *testing.T) {
	var fetches atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/openid-configuration" {
			json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
				"authorization_endpoint": srv.URL + "/a", "token_endpoint": srv.URL + "/t"})
			return
		}
		fetches.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	clock := fake.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC))
	v, keys, err := discover(t.Context(), srv.URL, oidcConfig())
	if err != nil {
		t.Fatal(err)
	}
	keys.now = clock.Now
	people := &OIDCVerifier{verifier: v, clientIDs: []string{"jit"}, groupsClaim: DefaultGroupsClaim}
	iss := &jwksIssuer{srv: srv, keys: map[string]*rsa.PrivateKey{}}
	for range 5 {
		if _, err := people.Verify(context.Background(), iss.token(t, "k1")); broker.ErrorCode(err) != broker.EUNAVAILABLE {
			t.Errorf("keys cannot be fetched: %v, want unavailable", err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d fetches of a failing key set within the interval, want 1", n)
	}
}

// A workload issuer's verifier is bounded the same way: 100 tokens with
// made-up key ids fetch its keys once after the first.
func TestWorkloadJWKSRefetchIsBounded(t *testing.T) {
	iss := newJWKSIssuer(t)
	a := newWorkloadAuth(workloadList{{Name: "deploy", Issuer: iss.srv.URL, Audience: "jit", Claims: map[string]string{"sub": "bob"}}}, &peopleStub{})
	ctx := t.Context()
	if u, ok, err := a.verify(ctx, iss.token(t, "k1")); !ok || err != nil || u.Email != "workload:deploy" {
		t.Fatalf("workload token: %v %v %v", u, ok, err)
	}
	for n := range 100 {
		if _, ok, err := a.verify(ctx, iss.token(t, fmt.Sprintf("random-%d", n))); !ok || refusalReason(err) != ReasonSignature {
			t.Fatalf("workload token with a made-up key id: %v %v, want bad signature", ok, err)
		}
	}
	if n := iss.fetches.Load(); n != 1 {
		t.Errorf("%d key fetches of the workload issuer, want 1 (within the interval of the first)", n)
	}
}

// NewOIDCVerifier, the people's verifier the server builds, uses the
// bounded key set: its first token fetches the keys, 100 with made-up key
// ids right after fetch nothing more.
func TestOIDCVerifierJWKSRefetchIsBounded(t *testing.T) {
	iss := newJWKSIssuer(t)
	v, err := NewOIDCVerifier(t.Context(), iss.srv.URL, []string{"jit"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), iss.token(t, "k1")); err != nil {
		t.Fatal(err)
	}
	for n := range 100 {
		if _, err := v.Verify(t.Context(), iss.token(t, fmt.Sprintf("random-%d", n))); refusalReason(err) != ReasonSignature {
			t.Fatalf("token with a made-up key id: %v, want bad signature", err)
		}
	}
	if n := iss.fetches.Load(); n != 1 {
		t.Errorf("%d key fetches, want 1", n)
	}
}
