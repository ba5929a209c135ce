package console

import (
	"errors"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/console/wire"
)

// Web is the browser app (the approver page) and what it needs to sign in.
type Web struct {
	// Files is the built app: index.html and assets/ (console/web.Files).
	Files fs.FS
	// Issuer is the OIDC issuer the app signs in with (authorization code
	// flow with PKCE) and ClientID its public client; the ID tokens it gets
	// must carry ClientID as their audience.
	Issuer, ClientID string
	// CLIClientID, if set, is the public client the command line signs in
	// with (`jit login`: loopback redirect and device grant); ClientID
	// otherwise.
	CLIClientID string
	// TerminateReasonOptional lets the page terminate without a reason
	// (it asks for one by default).
	TerminateReasonOptional bool
}

// webRoutes serves the app at "/": /config.json, its files, and
// index.html for its own routes (pageRoutes); other GETs are 404. It fails when
// the files cannot be read or have no index.html.
func (s *server) webRoutes(app *fiber.App, w *Web) error {
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
		reason := "required"
		if w.TerminateReasonOptional {
			reason = "optional"
		}
		return c.JSON(wire.WebConfig{Issuer: w.Issuer, ClientID: w.ClientID, CLIClientID: w.CLIClientID, Scopes: "openid email profile", TerminateReason: reason})
	})
	files, err := loadFiles(w.Files)
	if err != nil {
		return err
	}
	index, ok := files["index.html"]
	if !ok {
		return errors.New("console: the web app has no index.html")
	}
	app.Get("/*", func(c *fiber.Ctx) error {
		p := path.Clean("/" + c.Params("*"))
		f, ok := files[strings.TrimPrefix(p, "/")]
		if !ok && !pageRoutes[p] {
			return fiber.ErrNotFound // the server's or nobody's: 404 JSON, never the page
		}
		if !ok {
			f = index // the page's own route
		}
		secure(c)
		c.Set(fiber.HeaderCacheControl, f.cache)
		c.Set(fiber.HeaderContentType, f.contentType)
		body, encoding := f.encoded(string(c.Request().Header.Peek(fiber.HeaderAcceptEncoding)))
		if len(f.variants) > 0 {
			c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		}
		if encoding != "" {
			c.Set(fiber.HeaderContentEncoding, encoding)
		}
		return c.Send(body)
	})
	return nil
}

// pageRoutes are the page's own paths, answered with index.html: the
// page itself and its sign-in callback (auth.js CALLBACK_PATH); its views
// are selected by the URL hash. Any other path that is not one of its
// files is 404 with the JSON error body (/metrics when metrics are served
// elsewhere, /openapi.json, /api/anything).
var pageRoutes = map[string]bool{"/": true, "/callback": true}

// webFile is one file of the app, with the headers it is served with.
type webFile struct {
	body               []byte
	contentType, cache string
	// variants are the build's precompressed copies (precompressed.go).
	variants []encodedBody
}

// loadFiles reads the app once, so that no request copies a file.
func loadFiles(fsys fs.FS) (map[string]webFile, error) {
	files := map[string]webFile{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || isVariant(name) {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f := webFile{body: body, contentType: mime.TypeByExtension(path.Ext(name)), cache: "no-cache"}
		if f.contentType == "" {
			f.contentType = fiber.MIMEOctetStream
		}
		if strings.HasPrefix(name, "assets/") {
			f.cache = "public, max-age=31536000, immutable" // Vite names assets after their content
		}
		if f.variants, err = loadVariants(fsys, name); err != nil {
			return err
		}
		files[name] = f
		return nil
	})
	return files, err
}
