package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// authenticate verifies the request's bearer token and puts its user in the
// request's context (c.UserContext) for the handlers after it.
func (s *server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	if strings.TrimSpace(h) == "" {
		return broker.Errorf(broker.EUNAUTHENTICATED, "missing bearer token")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(h), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
		return broker.Errorf(broker.EUNAUTHENTICATED, `Authorization header must be "Bearer <token>"`)
	}
	u, err := s.cfg.Verifier.Verify(c.UserContext(), strings.Clone(token))
	if err != nil {
		return err
	}
	c.SetUserContext(broker.WithUser(c.UserContext(), u))
	return c.Next()
}
