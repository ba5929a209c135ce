package federation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

// Identity Center's documented pace (aws-facts.md section 5; 2023 figures,
// unconfirmed now): about 20 requests a second across its APIs and at most
// 10 asynchronous assignment operations outstanding at once.
const (
	DefaultRequestsPerSecond = 20
	DefaultOutstanding       = 10
)

// Polling and retry pace: the first wait, its growth and its cap.
const (
	defaultPollInterval = time.Second
	maxPollInterval     = 10 * time.Second
	pollGrowth          = 1.5
)

// Limiter paces calls to Identity Center. Every JIT worker calling the
// same Identity Center instance must share one, so the limits hold across
// all of them.
//
// LocalLimiter holds them within one process; a Redis-backed Limiter (a
// token bucket and a counting semaphore with leases, in broker/redisstore)
// is still to be written for several worker processes.
type Limiter interface {
	// Wait blocks until one more request may be sent; it returns ctx's
	// error if ctx ends first.
	Wait(ctx context.Context) error
	// Acquire blocks until one more asynchronous assignment operation may
	// be outstanding and returns its release, which may be called more
	// than once; it returns ctx's error if ctx ends first.
	Acquire(ctx context.Context) (release func(), err error)
}

// LocalLimiter is an in-process Limiter: a token bucket for the request
// rate and a counting semaphore for outstanding operations.
type LocalLimiter struct {
	rate  *rate.Limiter
	slots chan struct{}
}

var _ Limiter = (*LocalLimiter)(nil)

// NewLocalLimiter returns a Limiter allowing perSecond requests a second
// (bursts of up to one second's worth) and outstanding operations at once.
// Values below 1 take the defaults, 20 and 10.
func NewLocalLimiter(perSecond float64, outstanding int) *LocalLimiter {
	if perSecond < 1 {
		perSecond = DefaultRequestsPerSecond
	}
	if outstanding < 1 {
		outstanding = DefaultOutstanding
	}
	return &LocalLimiter{
		rate:  rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond))),
		slots: make(chan struct{}, outstanding),
	}
}

// Wait implements Limiter. A wait that would pass ctx's deadline fails at
// once, with an error that is context.DeadlineExceeded.
func (l *LocalLimiter) Wait(ctx context.Context) error {
	if err := l.rate.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("request rate: %w (%v)", context.DeadlineExceeded, err)
	}
	return nil
}

// Acquire implements Limiter.
func (l *LocalLimiter) Acquire(ctx context.Context) (func(), error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-l.slots }) }, nil
}

// sharedLimiter is the Limiter of every IdentityCenter and PortalDeny of
// this process that was given none.
var sharedLimiter = sync.OnceValue(func() *LocalLimiter { return NewLocalLimiter(0, 0) })

// pace is the polling and retry schedule shared by IdentityCenter and
// PortalDeny: waits start at first, grow by half up to 10 s, and every
// request first waits for the Limiter.
type pace struct {
	limiter Limiter
	first   time.Duration
}

func newPace(l Limiter, first time.Duration) pace {
	if l == nil {
		l = sharedLimiter()
	}
	if first <= 0 {
		first = defaultPollInterval
	}
	return pace{limiter: l, first: first}
}

func (p pace) next(d time.Duration) time.Duration {
	return min(time.Duration(float64(d)*pollGrowth), max(maxPollInterval, p.first))
}

// call runs f under the rate limit, retrying throttling, conflicts (an
// earlier write not yet propagated) and internal errors with backoff until
// f succeeds, fails otherwise, or ctx ends. It returns the last error of f
// when ctx ends during a retry.
func (p pace) call(ctx context.Context, f func() error) error {
	d := p.first
	var last error
	for {
		if err := p.limiter.Wait(ctx); err != nil {
			if last != nil {
				return fmt.Errorf("%w (while retrying: %w)", err, last)
			}
			return err
		}
		last = f()
		if last == nil || !retryable(last) {
			return last
		}
		if err := sleep(ctx, jitter(d)); err != nil {
			return fmt.Errorf("%w (while retrying: %w)", err, last)
		}
		d = p.next(d)
	}
}

// poll describes an asynchronous operation, whose first status is st,
// with backoff until done says it is over. Errors of describe are retried
// like those of any other request.
func poll[T any](ctx context.Context, p pace, st T, done func(T) bool, describe func() (T, error)) (T, error) {
	d := p.first
	for !done(st) {
		if err := sleep(ctx, d); err != nil {
			return st, err
		}
		d = p.next(d)
		err := p.call(ctx, func() error {
			next, err := describe()
			if err == nil {
				st = next
			}
			return err
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// retryable reports whether an Identity Center or Identity Store error is
// worth another try.
func retryable(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ThrottlingException", "ConflictException", "InternalServerException":
		return true
	}
	return false
}

// apiCode returns the AWS error code in err's chain, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// jitter spreads a wait over [d/2, d) so workers that were throttled
// together do not come back together.
func jitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
