package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
	groupsClaim string
}

var _ TokenVerifier = (*OIDCVerifier)(nil)

// NewOIDCVerifier discovers the issuer at issuerURL (its
// /.well-known/openid-configuration) and returns a verifier that accepts ID
// tokens it signed for audience. Groups are read from groupsClaim
// (DefaultGroupsClaim if empty). ctx bounds discovery only; an HTTP client
// set with oidc.ClientContext on it is used for discovery and key fetches.
func NewOIDCVerifier(ctx context.Context, issuerURL, audience, groupsClaim string) (*OIDCVerifier, error) {
	if issuerURL == "" {
		return nil, errors.New("console: OIDC issuer URL is required")
	}
	if audience == "" {
		return nil, errors.New("console: OIDC audience is required")
	}
	if groupsClaim == "" {
		groupsClaim = DefaultGroupsClaim
	}
	p, err := oidc.NewProvider(ctx, issuerURL)
	if err != nil {
		return nil, fmt.Errorf("console: discover OIDC issuer %s: %w", issuerURL, err)
	}
	return &OIDCVerifier{
		verifier:    p.Verifier(&oidc.Config{ClientID: audience}),
		groupsClaim: groupsClaim,
	}, nil
}

// Verify checks rawToken and returns the user it names: the "email" claim,
// normalised with broker.NormalizeEmail (required; a token whose
// email_verified is false is refused), and the groups claim (a list of
// strings, or one string) exactly as the identity provider sent it. Errors:
// EUNAUTHENTICATED with a message saying what is wrong but never quoting
// the token; EUNAVAILABLE when the issuer's keys cannot be fetched.
func (v *OIDCVerifier) Verify(ctx context.Context, rawToken string) (broker.User, error) {
	tok, err := v.verifier.Verify(ctx, rawToken)
	if err != nil {
		return broker.User{}, verifyError(err)
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "token claims are not a JSON object")
	}
	var email string
	if err := json.Unmarshal(claims["email"], &email); err != nil || strings.TrimSpace(email) == "" {
		return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "token has no email claim")
	}
	if raw, ok := claims["email_verified"]; ok {
		var verified bool
		if err := json.Unmarshal(raw, &verified); err == nil && !verified {
			return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "token email is not verified")
		}
	}
	groups, err := groupsFrom(claims[v.groupsClaim])
	if err != nil {
		return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "token claim %q must be a list of strings", v.groupsClaim)
	}
	// The one normalisation of identifiers (broker.User): here, once.
	return broker.User{Email: broker.NormalizeEmail(email), Groups: groups}, nil
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
		return broker.Errorf(broker.EUNAUTHENTICATED, "token expired")
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "fetching keys"):
		return broker.Errorf(broker.EUNAVAILABLE, "identity provider keys cannot be fetched; try again")
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "failed to unmarshal claims"):
		return broker.Errorf(broker.EUNAUTHENTICATED, "malformed token")
	case strings.Contains(msg, "failed to verify signature"), strings.Contains(msg, "not signed"), strings.Contains(msg, "multiple signatures"):
		return broker.Errorf(broker.EUNAUTHENTICATED, "token signature is not valid")
	case strings.Contains(msg, "expected audience"):
		return broker.Errorf(broker.EUNAUTHENTICATED, "token audience mismatch")
	case strings.Contains(msg, "issued by a different provider"):
		return broker.Errorf(broker.EUNAUTHENTICATED, "token issuer mismatch")
	case strings.Contains(msg, "before the nbf"):
		return broker.Errorf(broker.EUNAUTHENTICATED, "token not yet valid")
	}
	return broker.Errorf(broker.EUNAUTHENTICATED, "invalid token")
}
