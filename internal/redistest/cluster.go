package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a private Redis Cluster of three masters, each with one
// replica, on free ports in a temporary directory. Its nodes fail over
// after ClusterNodeTimeout without their master.
type Cluster struct {
	dir   string
	mu    sync.Mutex
	nodes map[string]*exec.Cmd // addr -> running redis-server
}

// ClusterNodeTimeout is the cluster's cluster-node-timeout: how long a
// master may be unreachable before its replica is promoted.
const ClusterNodeTimeout = time.Second

// StartCluster starts six redis-servers with --cluster-enabled yes and
// joins them with `redis-cli --cluster create --cluster-replicas 1`. Stop
// it when done.
func StartCluster() (*Cluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH: %w", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "jit-redis-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, nodes: map[string]*exec.Cmd{}}
	var addrs []string
	for i := range 6 {
		addr, err := c.startNode(bin, i)
		if err != nil {
			c.Stop()
			return nil, err
		}
		addrs = append(addrs, addr)
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range addrs {
		if err := waitClusterOK(ctx, a); err != nil {
			c.Stop()
			return nil, err
		}
	}
	// Every node must see every replica: nodes learn of each other by
	// gossip, and a test may ask any of them which node holds a slot.
	for _, a := range addrs {
		if err := waitReplicas(ctx, a); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// waitReplicas waits until the node at addr sees every master with a
// replica in sync.
func waitReplicas(ctx context.Context, addr string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for {
		slots, err := rdb.ClusterSlots(ctx).Result()
		ready := err == nil && len(slots) == 3
		for _, s := range slots {
			if len(s.Nodes) < 2 || !linked(ctx, s.Nodes[1].Addr) {
				ready = false
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis cluster replicas not in sync: %v %v", err, slots)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// linked reports whether the replica at addr is in sync with its master.
func linked(ctx context.Context, addr string) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	return err == nil && strings.Contains(info, "master_link_status:up")
}

// startNode starts node i on a port whose cluster bus port (port+10000) is
// free too.
func (c *Cluster) startNode(bin string, i int) (string, error) {
	cmd, addr, err := startServer(bin, filepath.Join(c.dir, fmt.Sprint(i)), clusterPort, nil,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-node-timeout", fmt.Sprint(ClusterNodeTimeout.Milliseconds()))
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.nodes[addr] = cmd
	c.mu.Unlock()
	return addr, nil
}

// clusterPort picks a free port whose cluster bus port is free too.
func clusterPort() (int, error) {
	for range 50 {
		port := 20000 + rand.IntN(25000)
		if portFree(port) && portFree(port+10000) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free port pair for a cluster node")
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// waitClusterOK waits until the node at addr reports cluster_state:ok.
func waitClusterOK(ctx context.Context, addr string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for {
		info, err := rdb.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis cluster node %s not ok: %v %s", addr, err, info)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Addrs returns the addresses of the running nodes.
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for a := range c.nodes {
		out = append(out, a)
	}
	return out
}

// MasterOf returns the address of the master serving key's slot, and of its
// replicas.
func (c *Cluster) MasterOf(ctx context.Context, key string) (master string, replicas []string, err error) {
	for _, a := range c.Addrs() {
		rdb := redis.NewClient(&redis.Options{Addr: a})
		slot, err1 := rdb.ClusterKeySlot(ctx, key).Result()
		slots, err2 := rdb.ClusterSlots(ctx).Result()
		rdb.Close()
		if err1 != nil || err2 != nil {
			err = fmt.Errorf("%s: %v %v", a, err1, err2)
			continue
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 {
				for _, n := range s.Nodes[1:] {
					replicas = append(replicas, n.Addr)
				}
				return s.Nodes[0].Addr, replicas, nil
			}
		}
	}
	return "", nil, fmt.Errorf("no node knows the master of %q: %v", key, err)
}

// Kill kills the node at addr with SIGKILL.
func (c *Cluster) Kill(addr string) error {
	c.mu.Lock()
	cmd, ok := c.nodes[addr]
	delete(c.nodes, addr)
	c.mu.Unlock()
	if !ok {
		return fmt.Errorf("no running node at %s", addr)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return nil
}

// WaitMaster waits until the node at addr is a master that the cluster
// reports ok, and returns when it first saw it so.
func (c *Cluster) WaitMaster(ctx context.Context, addr string) (time.Time, error) {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	for {
		role, err := rdb.Do(ctx, "ROLE").Slice()
		if err == nil && len(role) > 0 && role[0] == "master" {
			info, err := rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s did not become master: %v", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop kills every node and removes the directory.
func (c *Cluster) Stop() {
	c.mu.Lock()
	nodes := c.nodes
	c.nodes = map[string]*exec.Cmd{}
	c.mu.Unlock()
	for _, cmd := range nodes {
		cmd.Process.Kill()
		cmd.Wait()
	}
	os.RemoveAll(c.dir)
}

// Synced waits until every replica has acknowledged every write its master
// had received when Synced was called: Redis replicates asynchronously, so
// a write a master took in the instant before it died may be lost with it.
func (c *Cluster) Synced(ctx context.Context) error {
	for _, a := range c.Addrs() {
		if err := syncedMaster(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// syncedMaster waits until the replicas of the node at addr, if it is a
// master, are at its current replication offset.
func syncedMaster(ctx context.Context, addr string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if !strings.Contains(info, "role:master") {
		return nil
	}
	want := infoInt(info, "master_repl_offset")
	for {
		info, err := rdb.Info(ctx, "replication").Result()
		if err == nil && replicasAt(info) >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("replicas of %s not at offset %d: %v", addr, want, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// infoInt reads field from an INFO answer.
func infoInt(info, field string) int64 {
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	return -1
}

// replicasAt returns the lowest offset a master's replicas acknowledged
// (slave0:ip=...,offset=N,...), or -1 without replicas.
func replicasAt(info string) int64 {
	low := int64(-1)
	for line := range strings.SplitSeq(info, "\r\n") {
		if !strings.HasPrefix(line, "slave") || !strings.Contains(line, "offset=") {
			continue
		}
		for kv := range strings.SplitSeq(line[strings.Index(line, ":")+1:], ",") {
			if v, ok := strings.CutPrefix(kv, "offset="); ok {
				var n int64
				fmt.Sscan(v, &n)
				if low < 0 || n < low {
					low = n
				}
			}
		}
	}
	return low
}
