package federation

import (
	"context"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// skewTolerance is the smallest difference between AWS's clock and this
// host's that ClockSkew corrects: the Date header AWS's answers carry has
// whole seconds, so a smaller measurement is noise (and the policy times it
// would move have whole seconds too).
const skewTolerance = 2 * time.Second

// maxSkewRoundTrip: an answer that took longer says too little about when
// AWS wrote its Date header, and is not used.
const maxSkewRoundTrip = time.Second

// ClockSkew tracks how far AWS's clock is ahead of this host's (negative:
// behind), from the Date header of every AWS answer, so that times JIT
// writes into policies that AWS evaluates on its own clock (a session's
// end in aws:CurrentTime, a cut's bound in aws:TokenIssueTime) mean the
// same moment to AWS as to JIT. A server whose clock is 30 s ahead of
// AWS's would otherwise hand out sessions that work 30 s after their
// ticket ended. The zero value knows no skew; a nil *ClockSkew is valid
// and corrects nothing. Safe for concurrent use.
type ClockSkew struct {
	mu sync.Mutex
	// The last answer's bounds on the skew: AWS wrote its Date (whole
	// seconds) at some moment between the request and the answer.
	low, high time.Duration
}

// Observe is an aws-sdk-go-v2 API option (aws.Config.APIOptions) that
// records the skew of every answer the client receives.
func (c *ClockSkew) Observe(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("JitClockSkew",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			sent := time.Now()
			out, md, err := next.HandleDeserialize(ctx, in)
			came := time.Now()
			if date, ok := awsmiddleware.GetServerTime(md); ok && came.Sub(sent) <= maxSkewRoundTrip {
				c.set(date.Sub(came), date.Add(time.Second).Sub(sent))
			}
			return out, md, err
		}), middleware.Before)
}

func (c *ClockSkew) set(low, high time.Duration) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.low, c.high = low, high
	c.mu.Unlock()
}

// bounds returns the measured bounds on the skew, or zeros when AWS's
// clock is within the tolerance of this host's.
func (c *ClockSkew) bounds() (low, high time.Duration) {
	if c == nil {
		return 0, 0
	}
	c.mu.Lock()
	low, high = c.low, c.high
	c.mu.Unlock()
	if low > -skewTolerance && high < skewTolerance {
		return 0, 0
	}
	return low, high
}

// Earliest returns the earliest time AWS's clock may show when this host's
// shows t: a deadline written for AWS this way never passes later than t.
func (c *ClockSkew) Earliest(t time.Time) time.Time {
	low, _ := c.bounds()
	return t.Add(low)
}

// Latest returns the latest time AWS's clock may show when this host's
// shows t: a bound on issue times written for AWS this way covers every
// session AWS issued before t.
func (c *ClockSkew) Latest(t time.Time) time.Time {
	_, high := c.bounds()
	return t.Add(high)
}
