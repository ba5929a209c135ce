package console

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// Reasons an authentication is refused: the "reason" of the log line and
// the label of jit_auth_refused_total.
const (
	ReasonMissing         = "missing_token"   // no Authorization header
	ReasonScheme          = "bad_scheme"      // not "Bearer <token>"
	ReasonMalformed       = "malformed_token" // not a JWT, or claims not an object
	ReasonSignature       = "bad_signature"
	ReasonExpired         = "expired"
	ReasonNotYetValid     = "not_yet_valid"
	ReasonIssuer          = "wrong_issuer"
	ReasonAudience        = "wrong_audience"
	ReasonAuthorizedParty = "wrong_azp"     // several audiences and azp not a JIT client
	ReasonClaims          = "bad_claims"    // email missing or unverified, groups malformed
	ReasonInvalid         = "invalid_token" // anything else
)

// refusal is an authentication error with its reason. It unwraps to the
// *broker.Error the caller sees.
type refusal struct {
	reason string
	err    error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// refused returns an EUNAUTHENTICATED error with a reason.
func refused(reason, format string, args ...any) error {
	return &refusal{reason: reason, err: broker.Errorf(broker.EUNAUTHENTICATED, format, args...)}
}

// refusalReason returns err's reason; ReasonInvalid when a verifier gave none.
func refusalReason(err error) string {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason
	}
	return ReasonInvalid
}

// authenticate verifies the request's bearer token and puts its user in the
// request's context (c.UserContext) for the handlers after it. A refusal
// (EUNAUTHENTICATED) is logged (reason, client address, method and path;
// never the token or any other header) and counted in
// jit_auth_refused_total; other errors (the issuer unreachable) go to the
// error handler as they are. The body has not been read yet (apiBody comes
// after).
func (s *server) authenticate(c *fiber.Ctx) error {
	u, err := s.verify(c)
	if err != nil && broker.ErrorCode(err) == broker.EUNAUTHENTICATED {
		reason := refusalReason(err)
		s.metrics.authRefused.WithLabelValues(reason).Inc()
		s.cfg.Logger.WarnContext(c.UserContext(), "authentication refused",
			"reason", reason, "message", broker.ErrorMessage(err),
			"client", c.IP(), "method", c.Method(), "path", c.Path())
		s.auditRefused(c, reason, broker.ErrorMessage(err))
		return err
	} else if err != nil {
		return err
	}
	c.SetUserContext(broker.WithUser(c.UserContext(), u))
	return c.Next()
}

// verify reads the bearer token and asks the verifier for its user.
func (s *server) verify(c *fiber.Ctx) (broker.User, error) {
	h := c.Get(fiber.HeaderAuthorization)
	if strings.TrimSpace(h) == "" {
		return broker.User{}, refused(ReasonMissing, "missing bearer token")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return broker.User{}, refused(ReasonScheme, `Authorization header must be "Bearer <token>"`)
	}
	token = strings.Clone(token)
	if u, ok, err := s.verifyWorkload(c, token); ok { // workload.go
		return u, err
	}
	return s.cfg.Verifier.Verify(c.UserContext(), token)
}
