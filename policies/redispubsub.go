package policies

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// RedisPubSub is PubSub over Redis PUBLISH and SUBSCRIBE. It is the only
// code in policies that speaks go-redis (it may move to broker/redisstore).
// Redis pub/sub is fire-and-forget: a replica that is disconnected when a
// change is announced misses it. go-redis reconnects and subscribes again
// on its own; RedisPubSub then delivers Resubscribed, so the subscriber
// can catch up on what it missed.
type RedisPubSub struct {
	Client redis.UniversalClient
}

var _ PubSub = RedisPubSub{}

// Publish sends msg on channel.
func (p RedisPubSub) Publish(ctx context.Context, channel, msg string) error {
	return p.Client.Publish(ctx, channel, msg).Err()
}

// Subscribe subscribes to channel and returns once Redis confirms it. Every
// later confirmation (go-redis subscribing again after a lost connection)
// is delivered as Resubscribed.
func (p RedisPubSub) Subscribe(ctx context.Context, channel string, fn func(msg string)) (func(), error) {
	sub := p.Client.Subscribe(ctx, channel)
	if _, err := sub.Receive(ctx); err != nil {
		sub.Close()
		return nil, fmt.Errorf("redis subscribe %s: %w", channel, err)
	}
	ch := sub.ChannelWithSubscriptions()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			switch m := m.(type) {
			case *redis.Message:
				fn(m.Payload)
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					fn(Resubscribed)
				}
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			sub.Close()
			<-done
		})
	}, nil
}
