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
// change is announced misses it, so replicas should also reload on start.
type RedisPubSub struct {
	Client redis.UniversalClient
}

var _ PubSub = RedisPubSub{}

// Publish sends msg on channel.
func (p RedisPubSub) Publish(ctx context.Context, channel, msg string) error {
	return p.Client.Publish(ctx, channel, msg).Err()
}

// Subscribe subscribes to channel and returns once Redis confirms it.
func (p RedisPubSub) Subscribe(ctx context.Context, channel string, fn func(msg string)) (func(), error) {
	sub := p.Client.Subscribe(ctx, channel)
	if _, err := sub.Receive(ctx); err != nil {
		sub.Close()
		return nil, fmt.Errorf("redis subscribe %s: %w", channel, err)
	}
	ch := sub.Channel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			fn(m.Payload)
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
