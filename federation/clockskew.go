package federation

import (
	"context"
	"sync/atomic"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// skewTolerance is the smallest difference between AWS's clock and this
// host's that ClockSkew corrects: the Date header AWS's answers carry has
// whole seconds, so a smaller measurement is noise (and the policy times it
// would move have whole seconds too).
const skewTolerance = 2 * time.Second

// ClockSkew tracks how far AWS's clock is ahead of this host's (negative:
// behind), from the Date header of every AWS answer, so that times JIT
// writes into policies that AWS evaluates on its own clock (a session's
// end in aws:CurrentTime, a cut's bound in aws:TokenIssueTime) mean the
// same moment to AWS as to JIT. A server whose clock is 30 s ahead of
// AWS's would otherwise hand out sessions that work 30 s after their
// ticket ended. The zero value knows no skew; a nil *ClockSkew is valid
// and corrects nothing. Safe for concurrent use.
type ClockSkew struct {
	ns atomic.Int64 // the last measurement: AWS's Date minus the local time the answer came
}

// Observe is an aws-sdk-go-v2 API option (aws.Config.APIOptions) that
// records the skew of every answer the client receives.
func (c *ClockSkew) Observe(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("JitClockSkew",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if skew, ok := awsmiddleware.GetAttemptSkew(md); ok {
				c.set(skew)
			}
			return out, md, err
		}), middleware.Before)
}

func (c *ClockSkew) set(d time.Duration) {
	if c != nil {
		c.ns.Store(int64(d))
	}
}

// skew returns the measured skew, or zero when it is within the tolerance.
// AWS's clock read at least this much ahead when the answer was sent, and
// at most a second (the Date header's precision) plus the round trip more.
func (c *ClockSkew) skew() time.Duration {
	if c == nil {
		return 0
	}
	d := time.Duration(c.ns.Load())
	if d > -skewTolerance && d < skewTolerance {
		return 0
	}
	return d
}

// Earliest returns the earliest time AWS's clock may show when this host's
// shows t: a deadline written for AWS this way never passes later than t.
func (c *ClockSkew) Earliest(t time.Time) time.Time {
	return t.Add(c.skew())
}

// Latest returns the latest time AWS's clock may show when this host's
// shows t (the Date header's second and a second for the round trip
// added): a bound on issue times written for AWS this way covers every
// session AWS issued before t.
func (c *ClockSkew) Latest(t time.Time) time.Time {
	if d := c.skew(); d != 0 {
		return t.Add(d + 2*time.Second)
	}
	return t
}
