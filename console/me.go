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
	out := meResponse{Email: u.Email, Groups: groups}
	if s.cfg.Admin != nil {
		access, err := s.cfg.Admin.Access(c.UserContext())
		if err != nil {
			return err
		}
		out.Access = &access
	}
	return c.JSON(out)
}

// meResponse is the body of GET /api/v1/me.
type meResponse struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	// Access (admin, may_request, approves, ...) is there when the service
	// can answer it (see AdminService).
	*broker.Access
}
