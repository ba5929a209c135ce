package redisstore

import (
	"context"
)

// The ticket feed: every ticket the store creates or changes is announced
// on a Redis pub/sub channel (its id), so that every replica can tell the
// pages it serves (console's live feed). Pub/sub is fire and forget: a
// subscriber that was away misses what was said meanwhile and must read
// the tickets again when it comes back, and an announcement lost to a
// crash between the write and the publish is missed the same way.

func (s *Store) feedChannel() string { return s.base + "feed" }

// announce publishes the id of a ticket just written. A failure only
// costs live pages an update, so it is not the write's error.
func (s *Store) announce(ctx context.Context, id string) {
	s.rdb.Publish(context.WithoutCancel(ctx), s.feedChannel(), id)
}

// Subscribe returns the ids of tickets written from now on (by any
// process on this Redis), until ctx ends; then the channel closes. The
// subscription is in place when Subscribe returns.
func (s *Store) Subscribe(ctx context.Context) (<-chan string, error) {
	sub := s.rdb.Subscribe(ctx, s.feedChannel())
	if _, err := sub.Receive(ctx); err != nil { // the confirmation
		sub.Close()
		return nil, err
	}
	out := make(chan string, 64)
	go func() {
		defer close(out)
		defer sub.Close()
		msgs := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				select {
				case out <- m.Payload:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
