package console

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// HeaderRequestID carries a request's id: taken from the request when it
// is a plain token of at most 64 characters, else made here, and always
// sent back.
const HeaderRequestID = "X-Request-ID"

// requestID gives the request an id, puts it in the request's context
// (so every log line about the request carries it, see
// broker.NewLogHandler) and in the response, and logs the request once it
// is answered: method, path, status, duration, user. Never headers,
// query strings or bodies, which may carry secrets.
func (s *server) requestID(c *fiber.Ctx) error {
	id := c.Get(HeaderRequestID)
	if !plainID(id) {
		b := make([]byte, 12)
		rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Set(HeaderRequestID, id)
	c.SetUserContext(broker.WithRequestID(c.UserContext(), id))
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	if !s.cfg.AccessLog {
		return nil
	}
	level := slog.LevelInfo
	if p := c.Path(); p == "/metrics" || p == "/healthz" || p == "/readyz" {
		level = slog.LevelDebug
	}
	u, _ := broker.UserFrom(c.UserContext())
	s.cfg.Logger.Log(c.UserContext(), level, "request", "method", c.Method(), "path", c.Path(),
		"status", c.Response().StatusCode(), "duration_ms", time.Since(start).Milliseconds(), "user", u.Email)
	return nil
}

// plainID reports whether id is an acceptable caller-supplied request id.
func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// auditRefused records a refused sign-in: the reason and the client
// address, never the token.
func (s *server) auditRefused(c *fiber.Ctx, reason, message string) {
	s.auditEdge(c, broker.AuditEvent{Type: "auth.refused", Action: "sign-in refused", Result: reason,
		Detail: message + " (client " + c.IP() + ", " + c.Method() + " " + c.Path() + ")"})
}

// auditDenied records a request the broker refused as forbidden.
func (s *server) auditDenied(c *fiber.Ctx, message string) {
	u, _ := broker.UserFrom(c.UserContext())
	s.auditEdge(c, broker.AuditEvent{Type: "authz.denied", Actor: u.Email, Action: c.Method() + " " + c.Path(),
		TicketID: c.Params("id"), Detail: message})
}

func (s *server) auditEdge(c *fiber.Ctx, e broker.AuditEvent) {
	if s.cfg.Audit == nil {
		return
	}
	e.At = s.cfg.Now().UTC()
	e.RequestID = broker.RequestIDFrom(c.UserContext())
	if err := s.cfg.Audit.Record(c.UserContext(), e); err != nil {
		s.cfg.Logger.ErrorContext(c.UserContext(), "audit record", "type", e.Type, "err", err)
	}
}
