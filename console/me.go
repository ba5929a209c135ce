package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
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
	out := wire.Me{Email: u.Email, Groups: groups}
	if s.cfg.Admin != nil {
		access, err := s.cfg.Admin.Access(c.UserContext())
		if err != nil {
			return err
		}
		out.Access = &access
	}
	return c.JSON(out)
}
