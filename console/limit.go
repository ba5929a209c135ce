package console

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/jitaccess/jit/broker"
)

// RateLimiter limits how often one user may change things.
type RateLimiter interface {
	// Allow counts one write by key (a user's email) and returns zero when
	// it may go ahead, or how long to wait until the next one would be
	// allowed. An error means the limit could not be checked.
	Allow(ctx context.Context, key string) (retryAfter time.Duration, err error)
}

// limitWrites runs after authenticate and before the body is read: a
// write (POST, PUT, PATCH, DELETE) by a user over Config.WriteLimiter's
// limit is answered 429 too_many_requests with Retry-After in seconds.
// Reads are not limited. When the limit cannot be checked the write is
// refused 503 unavailable: it could not be stored either.
func (s *server) limitWrites(c *fiber.Ctx) error {
	if s.cfg.WriteLimiter == nil {
		return c.Next()
	}
	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete:
	default:
		return c.Next()
	}
	u, _ := broker.UserFrom(c.UserContext())
	wait, err := s.cfg.WriteLimiter.Allow(c.UserContext(), u.Email)
	if err != nil {
		s.cfg.Logger.ErrorContext(c.UserContext(), "rate limit not checked", "err", err)
		return broker.Errorf(broker.EUNAVAILABLE, "the rate limit cannot be checked; try again")
	}
	if wait > 0 {
		s.metrics.rateLimited.Inc()
		secs := int(math.Ceil(wait.Seconds()))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return broker.Errorf(codeTooManyRequests, "too many changes in a short time; try again in %d s", secs)
	}
	return c.Next()
}
