package console

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// upstream is a TicketFeed that counts its subscriptions and announces
// what the test sends to the newest one.
type upstream struct {
	mu    sync.Mutex
	count int
	ch    chan string
}

func (u *upstream) Subscribe(ctx context.Context) (<-chan string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.count++
	u.ch = make(chan string)
	return u.ch, nil
}

func (u *upstream) send(id string) {
	u.mu.Lock()
	ch := u.ch
	u.mu.Unlock()
	ch <- id
}

func (u *upstream) end() {
	u.mu.Lock()
	defer u.mu.Unlock()
	close(u.ch)
}

func (u *upstream) subscriptions() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.count
}

func recv(t *testing.T, ch <-chan string) (string, bool) {
	t.Helper()
	select {
	case id, ok := <-ch:
		return id, ok
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received in 5 s")
		return "", false
	}
}

// Many streams share one upstream subscription and each gets every id; a
// stream whose context ends is closed and forgotten; a stream that does
// not keep up is ended without holding up the others; when the upstream
// ends, every stream ends and the next one subscribes again.
func TestFeedHubSharesOneSubscription(t *testing.T) {
	up := &upstream{}
	h := newFeedHub(up)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var streams []<-chan string
	for range 50 {
		ch, err := h.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, ch)
	}
	if n := up.subscriptions(); n != 1 {
		t.Fatalf("50 streams made %d upstream subscriptions, want 1", n)
	}
	up.send("t1")
	for i, ch := range streams {
		if id, ok := recv(t, ch); !ok || id != "t1" {
			t.Fatalf("stream %d got %q %v, want t1", i, id, ok)
		}
	}

	// One stream leaves.
	leaving, leave := context.WithCancel(ctx)
	gone, _ := h.Subscribe(leaving)
	leave()
	if _, ok := recv(t, gone); ok {
		t.Fatal("a stream whose context ended is still open")
	}

	// A stream nobody reads falls behind and is ended; a reading one is not.
	slow, _ := h.Subscribe(ctx)
	fast, _ := h.Subscribe(ctx)
	for i := range feedBuffer + 10 {
		id := fmt.Sprint("s", i)
		up.send(id)
		if got, ok := recv(t, fast); !ok || got != id {
			t.Fatalf("the reading stream got %q %v, want %s", got, ok, id)
		}
	}
	got := 0
	for range slow {
		got++
	}
	if got != feedBuffer {
		t.Fatalf("the stream nobody read held %d ids before it ended, want %d", got, feedBuffer)
	}

	// The upstream ends: every stream ends; the next subscribes again.
	// The 50 first streams fell behind above and are closed already, so
	// fast, the one still open, is what tells that the hub saw the end.
	up.end()
	for i, ch := range append(streams, fast) {
		for {
			if _, ok := recv(t, ch); !ok {
				break
			}
			_ = i
		}
	}
	if _, err := h.Subscribe(ctx); err != nil || up.subscriptions() != 2 {
		t.Fatalf("after the upstream ended: %v, %d subscriptions, want 2", err, up.subscriptions())
	}
}
