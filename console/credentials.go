package console

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/console/wire"
)

// credentials answers POST /api/v1/tickets/:id/credentials with a fresh
// session as a credential_process document. The response must never be
// cached. The body is optional and, when sent, must be an empty object.
func (s *server) credentials(c *fiber.Ctx) error {
	if err := decodeBody(c, &struct{}{}, false); err != nil {
		return err
	}
	cr, err := s.cfg.Service.Credentials(c.UserContext(), ticketID(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
	return c.JSON(wire.NewCredentialProcess(cr))
}

// consoleLink answers GET /api/v1/tickets/:id/console[?region=&destination=]
// with a redirect to a fresh AWS console sign-in URL for the caller, or,
// when the request accepts only JSON (the browser app, which cannot read a
// cross-origin redirect), with {"url": ...}.
func (s *server) consoleLink(c *fiber.Ctx) error {
	region, dest := utils.CopyString(c.Query("region")), utils.CopyString(c.Query("destination"))
	u, err := s.cfg.Service.ConsoleURL(c.UserContext(), ticketID(c), region, dest)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if c.Get(fiber.HeaderAccept) == fiber.MIMEApplicationJSON {
		return c.JSON(wire.ConsoleLink{URL: u})
	}
	return c.Redirect(u, fiber.StatusFound)
}
