package console

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// statusByCode is the one table from broker error codes to HTTP statuses.
var statusByCode = map[string]int{
	broker.EINVALID:         http.StatusBadRequest,
	broker.EUNAUTHENTICATED: http.StatusUnauthorized,
	broker.EFORBIDDEN:       http.StatusForbidden,
	broker.ENOTFOUND:        http.StatusNotFound,
	broker.ECONFLICT:        http.StatusConflict,
	broker.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	broker.EUNAVAILABLE:     http.StatusServiceUnavailable,
	broker.EINTERNAL:        http.StatusInternalServerError,
	broker.EDUPLICATE:       http.StatusConflict,
	broker.ETOOMANY:         http.StatusConflict,
	broker.ESTEPUP:          http.StatusForbidden,
	// Refusals at the edge (edge.go).
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	codeHeadersTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
	codeTooManyRequests:      http.StatusTooManyRequests,
}

// handleError is the app's only error handler: it writes err as
// {"code", "message"} with the status from statusByCode, and logs internal
// errors, which users see only as "internal error".
func (s *server) handleError(c *fiber.Ctx, err error) error {
	body := s.errorBody(c, err)
	status := statusByCode[body.Code] // errorBody returns only codes of the table
	if body.Code == broker.EFORBIDDEN || body.Code == broker.ESTEPUP {
		s.auditDenied(c, body.Message)
	}
	if _, signedIn := broker.UserFrom(c.UserContext()); signedIn && body.Code == broker.ENOTFOUND && c.Params("id") != "" {
		// A ticket the caller may not see answers 404, like one that does
		// not exist: still a refusal to record (probing shows here).
		s.auditDenied(c, body.Message)
	}
	if body.Code == broker.EUNAUTHENTICATED {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="jit"`)
	}
	return c.Status(status).JSON(body)
}

// errorBody translates err into the code and message users see.
func (s *server) errorBody(c *fiber.Ctx, err error) wire.Error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		// Fiber's own errors: unknown route, wrong method, body too large,
		// a panic caught by the recover middleware, and so on.
		switch fe.Code {
		case http.StatusNotFound:
			return wire.Error{Code: broker.ENOTFOUND, Message: fmt.Sprintf("no route for %s %s", c.Method(), c.Path())}
		case http.StatusMethodNotAllowed:
			return wire.Error{Code: codeMethodNotAllowed, Message: fmt.Sprintf("method %s is not allowed for %s", c.Method(), c.Path())}
		case http.StatusRequestEntityTooLarge:
			return wire.Error{Code: broker.ETOOLARGE, Message: fmt.Sprintf("request body is larger than %d bytes", s.cfg.BodyLimit)}
		case http.StatusRequestHeaderFieldsTooLarge:
			// fasthttp could not fit the headers in its read buffer and
			// will close the connection.
			return wire.Error{Code: codeHeadersTooLarge, Message: fmt.Sprintf("request headers are larger than %d bytes", MaxHeaderBytes)}
		case http.StatusUnauthorized:
			return wire.Error{Code: broker.EUNAUTHENTICATED, Message: "authentication required"}
		case http.StatusForbidden:
			return wire.Error{Code: broker.EFORBIDDEN, Message: "forbidden"}
		case http.StatusServiceUnavailable:
			return wire.Error{Code: broker.EUNAVAILABLE, Message: "service unavailable"}
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return wire.Error{Code: broker.EINVALID, Message: fe.Message}
		}
		s.logInternal(c, err)
		return wire.Error{Code: broker.EINTERNAL, Message: "internal error"}
	}
	code := broker.ErrorCode(err)
	if _, ok := statusByCode[code]; !ok || code == broker.EINTERNAL {
		s.logInternal(c, err)
		return wire.Error{Code: broker.EINTERNAL, Message: "internal error"}
	}
	out := wire.Error{Code: code, Message: broker.ErrorMessage(err)}
	var be *broker.Error
	if errors.As(err, &be) {
		out.TicketID, out.MaxAge = be.TicketID, int64(be.MaxAge/time.Second)
	}
	return out
}

// logInternal logs an internal error with where it happened. Errors from
// lower layers never carry secrets, and the request's headers and body
// (which may) are not logged.
func (s *server) logInternal(c *fiber.Ctx, err error) {
	s.cfg.Logger.ErrorContext(c.UserContext(), "internal error",
		"method", c.Method(), "path", c.Path(), "err", err)
}
