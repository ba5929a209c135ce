package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// me answers who the caller is.
func (s *server) me(c *fiber.Ctx) error {
	u, ok := broker.UserFrom(c.UserContext())
	if !ok {
		return broker.Errorf(broker.EUNAUTHENTICATED, "authentication required")
	}
	groups := u.Groups
	if groups == nil {
		groups = []string{}
	}
	return c.JSON(meResponse{Email: u.Email, Groups: groups})
}

// meResponse is the body of GET /api/v1/me.
type meResponse struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
}
