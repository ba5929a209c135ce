package federation

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestLocalLimiterOutstanding(t *testing.T) {
	l := NewLocalLimiter(1000, 3)
	ctx := context.Background()
	var inFlight, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			release, err := l.Acquire(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			n := inFlight.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			inFlight.Add(-1)
			release() // a second release is harmless
		})
	}
	wg.Wait()
	if got := most.Load(); got > 3 {
		t.Errorf("%d operations outstanding at once, want at most 3", got)
	}
	// All slots taken: Acquire gives up with the context.
	var releases []func()
	for range 3 {
		r, err := l.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire with every slot taken: %v, want the context's deadline", err)
	}
	releases[0]()
	if r, err := l.Acquire(ctx); err != nil {
		t.Errorf("Acquire after a release: %v", err)
	} else {
		r()
	}
}

func TestLocalLimiterRate(t *testing.T) {
	l := NewLocalLimiter(20, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	n := 0
	for l.Wait(ctx) == nil {
		n++
	}
	// A burst of one second's worth, then 20 a second: about 24 in 200 ms.
	if n < 20 || n > 26 {
		t.Errorf("%d requests let through in 200 ms at 20/s, want 20..26", n)
	}
}

type apiErr string

func (e apiErr) Error() string                 { return string(e) }
func (e apiErr) ErrorCode() string             { return string(e) }
func (e apiErr) ErrorMessage() string          { return string(e) }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func TestPaceCall(t *testing.T) {
	p := newPace(NewLocalLimiter(1000, 0), time.Millisecond)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		errs  []error
		calls int
		want  string
	}{
		{"ok", []error{nil}, 1, ""},
		{"throttled then ok", []error{apiErr("ThrottlingException"), apiErr("ConflictException"), apiErr("InternalServerException"), nil}, 4, ""},
		{"not retried", []error{apiErr("ValidationException"), nil}, 1, "ValidationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := p.call(ctx, func() error {
				calls++
				return tc.errs[calls-1]
			})
			if calls != tc.calls || apiCode(err) != tc.want {
				t.Errorf("got %d calls, error %v; want %d calls, code %q", calls, err, tc.calls, tc.want)
			}
		})
	}
	// Retrying until the context ends returns both the context's error and the last one.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := p.call(short, func() error { return apiErr("ThrottlingException") })
	if !errors.Is(err, context.DeadlineExceeded) || apiCode(err) != "ThrottlingException" {
		t.Errorf("got %v, want the deadline and the last ThrottlingException", err)
	}
}

func TestPaceBackoff(t *testing.T) {
	p := newPace(nil, time.Second)
	var got []time.Duration
	for d := p.first; len(got) < 8; d = p.next(d) {
		got = append(got, d)
	}
	want := []float64{1000, 1500, 2250, 3375, 5062.5, 7593.75, 10000, 10000}
	for i := range want {
		if w := time.Duration(want[i] * float64(time.Millisecond)); got[i] != w {
			t.Errorf("wait %d: got %s, want %s", i, got[i], w)
		}
	}
}

func TestInlinePolicyParse(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"single statement", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
		{"url-encoded", `%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parseInlinePolicy(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.others) != 1 || len(doc.denies) != 0 {
				t.Fatalf("got %d other statements and %d JIT ones, want 1 and 0", len(doc.others), len(doc.denies))
			}
			now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			doc.deny("111111111111", "u1", now, now.Add(time.Hour))
			doc.deny("111111111111", "u2", now, now.Add(time.Hour))
			text, err := doc.marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := parseInlinePolicy(text)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.others) != 1 || len(again.denies) != 1 || len(again.denies[0].users) != 2 {
				t.Errorf("round trip of %s: %d others, %d JIT entries", text, len(again.others), len(again.denies))
			}
		})
	}
}

// A wait that would pass the deadline is the deadline's error, so callers
// can tell a timeout from a failure.
func TestLocalLimiterWaitDeadline(t *testing.T) {
	l := NewLocalLimiter(1, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}
