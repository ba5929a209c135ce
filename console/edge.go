package console

import (
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// MaxHeaderBytes is the most the request line and header fields of one
// request may take together: room for 32 KiB of header fields (ID tokens
// with many group claims are that large) and a 4 KiB request line. A
// larger request is answered 431.
const MaxHeaderBytes = 36 << 10

// Codes of refusals made at the HTTP edge, before any use case runs. They
// have no broker counterpart because the service never sees these requests.
const (
	codeMethodNotAllowed     = "method_not_allowed"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeHeadersTooLarge      = "headers_too_large"
	codeTooManyRequests      = "too_many_requests"
)

// The transport streams request bodies (fiber.Config.StreamRequestBody):
// fasthttp reads the headers and at most 8 KiB of a body before the
// handlers run, and the rest only when loadBody asks for it. That is what
// lets the API authenticate before it reads a body, and count the body
// limit in bytes as they arrive on the wire.

// edge is the first middleware of every request. It refuses compressed
// bodies (any Content-Encoding but identity: 415), since the API takes only
// small JSON documents and decompressing them is how a 2 KB request becomes
// gigabytes. Outside /api/v1 it reads the body (bounded) at once; under
// /api/v1 that waits until the caller is authenticated (apiBody). When the
// handlers are done, finishBody deals with what is left of the body.
func (s *server) edge(c *fiber.Ctx) error {
	defer s.finishBody(c)
	if ce := strings.TrimSpace(string(c.Request().Header.Peek(fiber.HeaderContentEncoding))); ce != "" && !strings.EqualFold(ce, "identity") {
		return broker.Errorf(codeUnsupportedMediaType, "compressed request bodies are not accepted: send the body without Content-Encoding")
	}
	if !isAPIPath(c.Path()) {
		if err := s.loadBody(c); err != nil {
			return err
		}
	}
	return c.Next()
}

// isAPIPath reports whether p is under /api/v1, where the body is read only
// after authentication.
func isAPIPath(p string) bool {
	return p == "/api/v1" || strings.HasPrefix(p, "/api/v1/")
}

// apiBody runs after authenticate (and the write limit) under /api/v1 and
// reads the body the handlers will decode.
func (s *server) apiBody(c *fiber.Ctx) error {
	if err := s.loadBody(c); err != nil {
		return err
	}
	return c.Next()
}

// errBodyTooLarge is answered 413 by handleError, naming the limit.
var errBodyTooLarge = fiber.ErrRequestEntityTooLarge

// loadBody reads the request body, at most BodyLimit bytes of it as sent on
// the wire, and keeps it as the request's body for the handlers
// (c.Request().Body()). A body that declares or turns out to be larger is
// refused 413 without keeping any of it (finishBody deals with the rest).
func (s *server) loadBody(c *fiber.Ctx) error {
	req := c.Request()
	limit := s.cfg.BodyLimit
	if req.Header.ContentLength() > limit {
		return errBodyTooLarge
	}
	stream := req.BodyStream()
	if stream == nil {
		// Nothing streamed: no body, or one the transport has already read
		// whole (bounded by fiber.Config.BodyLimit, which is BodyLimit).
		if len(req.Body()) > limit {
			return errBodyTooLarge
		}
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(stream, int64(limit)+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return broker.Errorf(broker.EINVALID, "request body could not be read")
	}
	if len(body) > limit {
		return errBodyTooLarge
	}
	req.SetBodyRaw(body) // also releases the stream
	return nil
}

// drainLimit is how much of a body nobody read finishBody reads and drops
// to keep the connection (as net/http does, with the same 256 KiB).
func (s *server) drainLimit() int64 {
	return int64(max(4*s.cfg.BodyLimit, 256<<10))
}

// finishBody runs after the handlers. A body nobody read (a refused
// request) is still on the connection. If little is left (drainLimit), it
// is read and dropped, so that a client still sending it gets the answer
// rather than a reset connection, and the connection can carry the next
// request; a longer one is not read, and the connection is closed after
// the answer instead.
func (s *server) finishBody(c *fiber.Ctx) {
	req := c.Request()
	stream := req.BodyStream()
	if stream == nil {
		return
	}
	if int64(req.Header.ContentLength()) > s.drainLimit() {
		c.Context().SetConnectionClose()
		return
	}
	n, err := io.CopyN(io.Discard, stream, s.drainLimit()+1)
	if !errors.Is(err, io.EOF) || n > s.drainLimit() {
		c.Context().SetConnectionClose()
	}
}
