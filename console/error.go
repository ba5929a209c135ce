package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
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
	// Refusals at the edge (edge.go).
	codeMethodNotAllowed:     http.StatusMethodNotAllowed,
	codeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	codeHeadersTooLarge:      http.StatusRequestHeaderFieldsTooLarge,
	codeTooManyRequests:      http.StatusTooManyRequests,
}

// errorBody is what every error response holds.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// handleError is the app's only error handler: it writes err as
// {"code", "message"} with the status from statusByCode, and logs internal
// errors, which users see only as "internal error".
func (s *server) handleError(c *fiber.Ctx, err error) error {
	body := s.errorBody(c, err)
	status := statusByCode[body.Code] // errorBody returns only codes of the table
	if body.Code == broker.EFORBIDDEN {
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
func (s *server) errorBody(c *fiber.Ctx, err error) errorBody {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		// Fiber's own errors: unknown route, wrong method, body too large,
		// a panic caught by the recover middleware, and so on.
		switch fe.Code {
		case http.StatusNotFound:
			return errorBody{broker.ENOTFOUND, fmt.Sprintf("no route for %s %s", c.Method(), c.Path())}
		case http.StatusMethodNotAllowed:
			return errorBody{codeMethodNotAllowed, fmt.Sprintf("method %s is not allowed for %s", c.Method(), c.Path())}
		case http.StatusRequestEntityTooLarge:
			return errorBody{broker.ETOOLARGE, fmt.Sprintf("request body is larger than %d bytes", s.cfg.BodyLimit)}
		case http.StatusRequestHeaderFieldsTooLarge:
			// fasthttp could not fit the headers in its read buffer and
			// will close the connection.
			return errorBody{codeHeadersTooLarge, fmt.Sprintf("request headers are larger than %d bytes", MaxHeaderBytes)}
		case http.StatusUnauthorized:
			return errorBody{broker.EUNAUTHENTICATED, "authentication required"}
		case http.StatusForbidden:
			return errorBody{broker.EFORBIDDEN, "forbidden"}
		case http.StatusServiceUnavailable:
			return errorBody{broker.EUNAVAILABLE, "service unavailable"}
		}
		if fe.Code >= 400 && fe.Code < 500 {
			return errorBody{broker.EINVALID, fe.Message}
		}
		s.logInternal(c, err)
		return errorBody{broker.EINTERNAL, "internal error"}
	}
	code := broker.ErrorCode(err)
	if _, ok := statusByCode[code]; !ok || code == broker.EINTERNAL {
		s.logInternal(c, err)
		return errorBody{broker.EINTERNAL, "internal error"}
	}
	return errorBody{code, broker.ErrorMessage(err)}
}

// logInternal logs an internal error with where it happened. Errors from
// lower layers never carry secrets, and the request's headers and body
// (which may) are not logged.
func (s *server) logInternal(c *fiber.Ctx, err error) {
	s.cfg.Logger.ErrorContext(c.UserContext(), "internal error",
		"method", c.Method(), "path", c.Path(), "err", err)
}
