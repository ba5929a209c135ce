package console

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// credentialProcess is the AWS CLI credential_process document. Its field
// names are fixed by the AWS CLI, so they are not snake_case.
type credentialProcess struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

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
	return c.JSON(credentialProcess{
		Version:         1,
		AccessKeyID:     cr.AccessKeyID,
		SecretAccessKey: cr.SecretAccessKey,
		SessionToken:    cr.SessionToken,
		Expiration:      cr.Expiration.UTC().Format(time.RFC3339),
	})
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
		return c.JSON(fiber.Map{"url": u})
	}
	return c.Redirect(u, fiber.StatusFound)
}
