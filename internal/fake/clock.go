package fake

import (
	"sync"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Clock is a clock a test sets and moves by hand; safe for concurrent use.
// Its zero value stands at the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

var _ broker.Clock = (*Clock)(nil)

// NewClock returns a clock standing at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t (backwards too).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
