package console

import (
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Web is the browser app (the approver page) and what it needs to sign in.
type Web struct {
	// Files is the built app: index.html and assets/ (console/web.Files).
	Files fs.FS
	// Issuer is the OIDC issuer the app signs in with (authorization code
	// flow with PKCE) and ClientID its public client; the ID tokens it gets
	// must carry ClientID as their audience.
	Issuer, ClientID string
}

// webConfig is the body of GET /config.json.
type webConfig struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	Scopes   string `json:"scopes"`
}

// webRoutes serves the app at "/": /config.json, the files, and index.html
// for any other GET outside /api/ (the app routes itself).
func (s *server) webRoutes(app *fiber.App, w *Web) {
	issuerOrigin := ""
	if u, err := url.Parse(w.Issuer); err == nil {
		issuerOrigin = u.Scheme + "://" + u.Host
	}
	csp := "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
		"connect-src 'self' " + issuerOrigin + "; frame-ancestors 'none'; base-uri 'none'; form-action 'self' " + issuerOrigin
	secure := func(c *fiber.Ctx) {
		c.Set("Content-Security-Policy", csp)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		c.Set(fiber.HeaderXFrameOptions, "DENY")
		c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	}
	app.Get("/config.json", func(c *fiber.Ctx) error {
		secure(c)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(webConfig{Issuer: w.Issuer, ClientID: w.ClientID, Scopes: "openid email profile"})
	})
	app.Get("/*", func(c *fiber.Ctx) error {
		p := path.Clean("/" + c.Params("*"))
		if strings.HasPrefix(p, "/api/") || p == "/api" {
			return fiber.ErrNotFound
		}
		name := strings.TrimPrefix(p, "/")
		body, err := fs.ReadFile(w.Files, name)
		if err != nil || name == "" {
			// Not a file: the app's own route.
			name = "index.html"
			if body, err = fs.ReadFile(w.Files, name); err != nil {
				return fiber.ErrNotFound
			}
		}
		secure(c)
		if strings.HasPrefix(name, "assets/") {
			// Vite names assets after their content.
			c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Set(fiber.HeaderCacheControl, "no-cache")
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = fiber.MIMEOctetStream
		}
		c.Set(fiber.HeaderContentType, ct)
		return c.Send(body)
	})
}
