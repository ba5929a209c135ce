package redistest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The harness's cluster serves keys on every master, and a killed master's
// replica takes over its slots with the data.
func TestClusterFailover(t *testing.T) {
	c, err := StartCluster()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if n := len(c.Addrs()); n != 6 {
		t.Fatalf("%d nodes, want 6", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), ClusterStateReloadInterval: 200 * time.Millisecond})
	defer rdb.Close()
	if err := rdb.Set(ctx, "{tickets}:x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	master, replicas, err := c.MasterOf(ctx, "{tickets}:x")
	if err != nil || len(replicas) != 1 {
		t.Fatalf("master %s replicas %v: %v", master, replicas, err)
	}
	if err := c.Synced(ctx); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := c.Kill(master); err != nil {
		t.Fatal(err)
	}
	promoted, err := c.WaitMaster(ctx, replicas[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica %s promoted %s after its master was killed", replicas[0], promoted.Sub(killed).Round(time.Millisecond))
	readAfterFailover(ctx, t, rdb, "{tickets}:x")
}

// readAfterFailover waits until key reads "1" again.
func readAfterFailover(ctx context.Context, t *testing.T, rdb redis.UniversalClient, key string) {
	t.Helper()
	for {
		v, err := rdb.Get(ctx, key).Result()
		if err == nil {
			if v != "1" {
				t.Fatalf("value after failover %q, want 1", v)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("key unreadable after failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The harness's sentinels promote a replica, with the data, when the
// master is killed, and a failover client follows them.
func TestSentinelFailover(t *testing.T) {
	s, err := StartSentinel()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: s.Sentinels})
	defer rdb.Close()
	if err := rdb.Set(ctx, "x", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Synced(ctx); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	old, err := s.KillMaster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	promoted, err := s.WaitPromoted(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica promoted %s after the master was killed", promoted.Sub(killed).Round(time.Millisecond))
	readAfterFailover(ctx, t, rdb, "x")
}
