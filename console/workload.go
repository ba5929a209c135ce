package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// Workload tokens (docs/automation.md): a CI job's OIDC token from its own
// platform, for a workload of the registry in force. Kept apart from the
// people's sign-in (auth.go, oidc.go): authenticate asks here first, and
// only a token whose issuer is a workload issuer is decided here.

// ReasonWorkload: a token from a workload issuer that matches no workload
// of the registry (audience or claims), or several.
const ReasonWorkload = "no_workload"

// WorkloadSource returns the workloads of the registry in force.
type WorkloadSource interface {
	// Workloads returns them; the caller does not modify the result.
	// EUNAVAILABLE when the registry in force cannot be confirmed.
	Workloads(ctx context.Context) ([]broker.Workload, error)
}

// discoveryRetry is how long a failed discovery of a workload issuer is
// remembered before it is tried again.
const discoveryRetry = 10 * time.Second

// discoveryTimeout bounds one discovery of a workload issuer.
const discoveryTimeout = 10 * time.Second

// workloadAuth verifies workload tokens with one go-oidc verifier per
// issuer named in the registry, discovered on first use and kept, with the
// issuer's keys (jwks: fetched again for an unknown key id at most every
// JWKSRefetchEvery).
type workloadAuth struct {
	source WorkloadSource
	people TokenVerifier

	mu        sync.Mutex
	verifiers map[string]*oidc.IDTokenVerifier
	failed    map[string]time.Time // issuer -> when discovery last failed
}

func newWorkloadAuth(source WorkloadSource, people TokenVerifier) *workloadAuth {
	return &workloadAuth{source: source, people: people, verifiers: map[string]*oidc.IDTokenVerifier{}, failed: map[string]time.Time{}}
}

// verify decides rawToken when its issuer is the issuer of a workload of
// the registry in force, and reports whether it did; ok false means the
// token is for the people's verifier. A token matching exactly one
// workload (issuer, the one audience, every claim exactly) authenticates
// as "workload:<name>" with no groups. A token from a workload issuer
// that matches none is tried as a person's token (the people's issuer may
// also issue workloads' tokens), and refused (ReasonWorkload) if it is not
// one either.
func (a *workloadAuth) verify(ctx context.Context, rawToken string) (u broker.User, ok bool, err error) {
	iss := unverifiedIssuer(rawToken)
	if iss == "" {
		return broker.User{}, false, nil
	}
	all, err := a.source.Workloads(ctx)
	if err != nil {
		return broker.User{}, true, err
	}
	var candidates []broker.Workload
	for _, w := range all {
		if w.Issuer == iss {
			candidates = append(candidates, w)
		}
	}
	if len(candidates) == 0 {
		return broker.User{}, false, nil
	}
	v, err := a.verifier(ctx, iss)
	if err != nil {
		return broker.User{}, true, err
	}
	tok, err := v.Verify(ctx, rawToken)
	if err != nil {
		return broker.User{}, true, verifyError(err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return broker.User{}, true, refused(ReasonMalformed, "token claims are not a JSON object")
	}
	var names []string
	for _, w := range candidates {
		// One audience, this workload's: a token meant for several
		// parties could be replayed to JIT by any of them.
		if len(tok.Audience) == 1 && tok.Audience[0] == w.Audience && w.MatchesClaims(claims) {
			names = append(names, w.Name)
		}
	}
	switch len(names) {
	case 1:
		return broker.User{Email: broker.WorkloadPrincipal(names[0])}, true, nil
	case 0:
		if pu, perr := a.people.Verify(ctx, rawToken); perr == nil {
			return pu, true, nil
		}
		return broker.User{}, true, refused(ReasonWorkload, "token of issuer %s matches no workload of the registry: its audience and claims must match one workload's exactly", iss)
	}
	return broker.User{}, true, refused(ReasonWorkload, "token of issuer %s matches several workloads (%s); their claims must tell them apart", iss, strings.Join(names, ", "))
}

// verifier returns the verifier of a workload issuer, discovering it on
// first use. Discovery failing is EUNAVAILABLE, and is not tried again for
// discoveryRetry.
func (a *workloadAuth) verifier(ctx context.Context, iss string) (*oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	v, ok := a.verifiers[iss]
	at, failed := a.failed[iss]
	a.mu.Unlock()
	if ok {
		return v, nil
	}
	if failed && time.Since(at) < discoveryRetry {
		return nil, broker.Errorf(broker.EUNAVAILABLE, "workload token issuer %s cannot be reached; try again", iss)
	}
	dctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	// The audience is checked per workload (verify); the issuer's keys are
	// fetched again at most every JWKSRefetchEvery (jwks).
	v, _, err := discover(dctx, iss, oidc.Config{SkipClientIDCheck: true})
	if err != nil {
		a.mu.Lock()
		a.failed[iss] = time.Now()
		a.mu.Unlock()
		return nil, broker.Errorf(broker.EUNAVAILABLE, "workload token issuer %s cannot be reached; try again", iss)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.failed, iss)
	if old, ok := a.verifiers[iss]; ok {
		return old, nil
	}
	a.verifiers[iss] = v
	return v, nil
}

// unverifiedIssuer reads the "iss" claim of a JWT without verifying it,
// only to pick the verifier that will; "" if there is none.
func unverifiedIssuer(rawToken string) string {
	parts := strings.Split(rawToken, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}

// workloadRoutes are what a workload may call: file, list and read its
// own tickets, use them, and end them early. Everything else (deciding,
// terminating, delegating, reviewing, administering, the live feed) is
// the people's; the broker refuses workloads there too.
var workloadRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/openapi.json"},
	{"GET", "/api/v1/me"},
	{"POST", "/api/v1/tickets"},
	{"GET", "/api/v1/tickets"},
	{"GET", "/api/v1/tickets/*"},
	{"POST", "/api/v1/tickets/*/credentials"},
	{"POST", "/api/v1/tickets/*/cancel"},
	{"POST", "/api/v1/tickets/*/done"},
}

// workloadMay reports whether a workload may call method on path.
func workloadMay(method, path string) bool {
	// Routing ignores case and a trailing slash; so does this.
	path = strings.ToLower(strings.TrimSuffix(path, "/"))
	got := strings.Split(path, "/")
	return slices.ContainsFunc(workloadRoutes, func(r struct{ method, path string }) bool {
		want := strings.Split(r.path, "/")
		if r.method != method || len(want) != len(got) {
			return false
		}
		for i := range want {
			if want[i] != got[i] && (want[i] != "*" || got[i] == "") {
				return false
			}
		}
		return true
	})
}

// verifyWorkload is authenticate's first step: a workload's token is
// decided here (ok true), anything else is left to the people's verifier.
// A workload is kept to workloadRoutes (EFORBIDDEN elsewhere).
func (s *server) verifyWorkload(c *fiber.Ctx, token string) (u broker.User, ok bool, err error) {
	if s.workloads == nil {
		return broker.User{}, false, nil
	}
	u, ok, err = s.workloads.verify(c.UserContext(), token)
	if !ok || err != nil {
		return u, ok, err
	}
	if name, isWorkload := u.Workload(); isWorkload && !workloadMay(c.Method(), c.Path()) {
		return broker.User{}, true, broker.Errorf(broker.EFORBIDDEN, "workload %s may not call %s %s: a workload only files, reads and uses its own tickets", name, c.Method(), c.Path())
	}
	return u, true, nil
}

// CheckWorkloadIssuer discovers a workload token issuer the way the API
// will (its /.well-known/openid-configuration) and fetches its keys
// (jwks_uri), for `jit admin check`. The error says what failed.
func CheckWorkloadIssuer(ctx context.Context, issuer string) error {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKS == "" {
		return errors.New("discovery document has no jwks_uri")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, doc.JWKS, nil)
	if err != nil {
		return fmt.Errorf("jwks_uri %q: %w", doc.JWKS, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch keys: %w", err)
	}
	defer resp.Body.Close()
	var keys struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch keys: %s answered %s", doc.JWKS, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&keys); err != nil || len(keys.Keys) == 0 {
		return fmt.Errorf("fetch keys: %s holds no JSON Web Key Set with keys", doc.JWKS)
	}
	return nil
}
