package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/jitaccess/jit/broker"
)

// DefaultGroupsClaim is the ID token claim read for the user's groups when
// none is configured.
const DefaultGroupsClaim = "groups"

// OIDCVerifier authenticates OIDC ID tokens with go-oidc: signature against
// the issuer's published keys, issuer, audience and expiry.
type OIDCVerifier struct {
	verifier    *oidc.IDTokenVerifier
	clientIDs   []string
	groupsClaim string
}

var _ TokenVerifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier discovers the issuer at issuerURL (its
// /.well-known/openid-configuration) and returns a verifier that accepts ID
// tokens it signed for any of clientIDs (JIT's clients: the CLI's, the
// approver page's). Groups are read from groupsClaim (DefaultGroupsClaim if
// empty). ctx bounds discovery only; an HTTP client set with
// oidc.ClientContext on it is used for discovery and key fetches. The
// issuer's keys are fetched on first use and again, for a token signed
// with a key JIT does not hold, at most every JWKSRefetchEvery (jwks.go).
func NewOIDCVerifier(ctx context.Context, issuerURL string, clientIDs []string, groupsClaim string) (*OIDCVerifier, error) {
	if issuerURL == "" {
		return nil, errors.New("console: OIDC issuer URL is required")
	}
	var ids []string
	for _, id := range clientIDs {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("console: at least one OIDC client ID (token audience) is required")
	}
	if groupsClaim == "" {
		groupsClaim = DefaultGroupsClaim
	}
	// The audience is checked in Verify, against every client ID. The
	// issuer's keys are fetched again at most every JWKSRefetchEvery (jwks).
	verifier, _, err := discover(ctx, issuerURL, oidc.Config{SkipClientIDCheck: true})
	if err != nil {
		return nil, fmt.Errorf("console: discover OIDC issuer %s: %w", issuerURL, err)
	}
	return &OIDCVerifier{
		verifier:    verifier,
		clientIDs:   ids,
		groupsClaim: groupsClaim,
	}, nil
}

// Verify checks rawToken and returns the user it names: the "email" claim,
// normalised with broker.NormalizeEmail (required; a token whose
// email_verified is false is refused), and the groups claim (a list of
// strings, or one string) exactly as the identity provider sent it. The
// token's "aud" must name one of JIT's client IDs; when it names several parties,
// "azp" must be one of JIT's client IDs too (OIDC Core 3.1.3.7): a token
// issued to another client that merely lists JIT among its audiences is
// not JIT's. Errors: EUNAUTHENTICATED with a message saying what is wrong
// but never quoting the token; EUNAVAILABLE when the issuer's keys cannot
// be fetched. Every EUNAUTHENTICATED error carries its reason (Reason*).
func (v *OIDCVerifier) Verify(ctx context.Context, rawToken string) (broker.User, error) {
	tok, err := v.verifier.Verify(ctx, rawToken)
	if err != nil {
		return broker.User{}, verifyError(err)
	}
	if !slices.ContainsFunc(tok.Audience, v.isClient) {
		return broker.User{}, refused(ReasonAudience, "token audience mismatch")
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return broker.User{}, refused(ReasonMalformed, "token claims are not a JSON object")
	}
	if len(tok.Audience) > 1 {
		var azp string
		if err := json.Unmarshal(claims["azp"], &azp); err != nil || !v.isClient(azp) {
			return broker.User{}, refused(ReasonAuthorizedParty, "token has several audiences and its authorized party (azp) is not a JIT client")
		}
	}
	var email string
	if err := json.Unmarshal(claims["email"], &email); err != nil || strings.TrimSpace(email) == "" {
		return broker.User{}, refused(ReasonClaims, "token has no email claim")
	}
	if raw, ok := claims["email_verified"]; ok {
		var verified bool
		if err := json.Unmarshal(raw, &verified); err == nil && !verified {
			return broker.User{}, refused(ReasonClaims, "token email is not verified")
		}
	}
	if broker.IsWorkload(broker.NormalizeEmail(email)) {
		// Never a person who could pass for a workload (workload.go).
		return broker.User{}, refused(ReasonClaims, "token email is not an email address")
	}
	groups, err := groupsFrom(claims[v.groupsClaim])
	if err != nil {
		return broker.User{}, refused(ReasonClaims, "token claim %q must be a list of strings", v.groupsClaim)
	}
	// The sign-in the token records, for step-up (broker.StepUp): a
	// malformed claim counts as absent, which step-up refuses.
	var authTime time.Time
	var at float64
	if json.Unmarshal(claims["auth_time"], &at) == nil && at > 0 {
		authTime = time.Unix(int64(at), 0).UTC()
	}
	var acr string
	json.Unmarshal(claims["acr"], &acr)
	amr, _ := groupsFrom(claims["amr"])
	// The one normalisation of identifiers (broker.User): here, once.
	return broker.User{Email: broker.NormalizeEmail(email), Groups: groups, AuthTime: authTime, ACR: acr, AMR: amr}, nil
}

// isClient reports whether id is one of JIT's client IDs.
func (v *OIDCVerifier) isClient(id string) bool {
	return slices.Contains(v.clientIDs, id)
}

// groupsFrom reads a groups claim: absent or null is no groups, a string is
// one group, a list of strings is the groups.
func groupsFrom(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// verifyError turns a go-oidc verification error into a broker error with
// a message fit for the caller. go-oidc types only the expiry error, so the
// others are told apart by their text; an unknown text is still
// EUNAUTHENTICATED ("invalid token").
func verifyError(err error) error {
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return refused(ReasonExpired, "token expired")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "fetching keys"):
		return broker.Errorf(broker.EUNAVAILABLE, "identity provider keys cannot be fetched; try again")
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "failed to unmarshal claims"):
		return refused(ReasonMalformed, "malformed token")
	case strings.Contains(msg, "failed to verify signature"), strings.Contains(msg, "not signed"), strings.Contains(msg, "multiple signatures"):
		return refused(ReasonSignature, "token signature is not valid")
	case strings.Contains(msg, "expected audience"):
		return refused(ReasonAudience, "token audience mismatch")
	case strings.Contains(msg, "issued by a different provider"):
		return refused(ReasonIssuer, "token issuer mismatch")
	case strings.Contains(msg, "before the nbf"):
		return refused(ReasonNotYetValid, "token not yet valid")
	}
	return refused(ReasonInvalid, "invalid token")
}
