package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the sentinels monitor the master by.
const SentinelMaster = "jit"

// Sentinel is a private Redis master with two replicas watched by three
// sentinels (quorum 2), which promote a replica DownAfter after the master
// stops answering.
type Sentinel struct {
	Sentinels []string // the sentinels' addresses
	dir       string
	mu        sync.Mutex
	servers   map[string]*exec.Cmd // data nodes by address
	sentinels []*exec.Cmd
}

// SentinelDownAfter is the sentinels' down-after-milliseconds.
const SentinelDownAfter = time.Second

// StartSentinel starts the group. Stop it when done.
func StartSentinel() (*Sentinel, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "jit-redis-sentinel-")
	if err != nil {
		return nil, err
	}
	s := &Sentinel{dir: dir, servers: map[string]*exec.Cmd{}}
	var master string
	for i := range 3 {
		var extra []string
		if i > 0 {
			h, p := splitAddr(master)
			extra = []string{"--replicaof", h, p}
		}
		cmd, addr, err := startServer(bin, filepath.Join(dir, fmt.Sprint(i)), freePort, nil, extra...)
		if err != nil {
			s.Stop()
			return nil, err
		}
		if i == 0 {
			master = addr
		}
		s.servers[addr] = cmd
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for a := range s.servers {
		if a != master && !waitLinked(ctx, a) {
			s.Stop()
			return nil, fmt.Errorf("replica %s did not sync with %s", a, master)
		}
	}
	h, p := splitAddr(master)
	for i := range 3 {
		conf := func(port int, d string) (string, error) {
			path := filepath.Join(d, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\n"+
				"sentinel monitor %s %s %s 2\nsentinel down-after-milliseconds %s %d\n"+
				"sentinel failover-timeout %s 10000\nsentinel parallel-syncs %s 1\n",
				port, d, filepath.Join(d, "redis.log"), SentinelMaster, h, p, SentinelMaster, SentinelDownAfter.Milliseconds(), SentinelMaster, SentinelMaster)
			return path, os.WriteFile(path, []byte(text), 0o600)
		}
		cmd, addr, err := startServer(bin, filepath.Join(dir, fmt.Sprintf("sentinel%d", i)), freePort, conf, "--sentinel")
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.sentinels = append(s.sentinels, cmd)
		s.Sentinels = append(s.Sentinels, addr)
	}
	// Every sentinel has found the replicas and the other sentinels.
	for _, a := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		for {
			reps, err1 := sc.Replicas(ctx, SentinelMaster).Result()
			sens, err2 := sc.Sentinels(ctx, SentinelMaster).Result()
			if err1 == nil && err2 == nil && len(reps) == 2 && len(sens) == 2 {
				break
			}
			if ctx.Err() != nil {
				sc.Close()
				s.Stop()
				return nil, fmt.Errorf("sentinel %s does not see the group: %d replicas, %d sentinels", a, len(reps), len(sens))
			}
			time.Sleep(50 * time.Millisecond)
		}
		sc.Close()
	}
	return s, nil
}

// startServer starts a redis-server in dir on a port from pick; conf, if
// set, writes a config file for the port and returns its path (sentinels
// need one they can rewrite).
func startServer(bin, dir string, pick func() (int, error), conf func(port int, dir string) (string, error), extra ...string) (*exec.Cmd, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	for range 5 {
		port, err := pick()
		if err != nil {
			return nil, "", err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		var args []string
		if conf != nil {
			path, err := conf(port, dir)
			if err != nil {
				return nil, "", err
			}
			args = append([]string{path}, extra...)
		} else {
			args = append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
				"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log")}, extra...)
		}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			return nil, "", err
		}
		if waitReady(addr, 5*time.Second) {
			return cmd, addr, nil
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	return nil, "", fmt.Errorf("redis-server %v did not start: %s", extra, log)
}

func splitAddr(addr string) (host, port string) {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i], addr[i+1:]
		}
	}
	return addr, ""
}

func waitLinked(ctx context.Context, addr string) bool {
	for ctx.Err() == nil {
		if linked(ctx, addr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Master returns the address the sentinels give for the master.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Sentinels[0]})
	defer sc.Close()
	hp, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
	if err != nil {
		return "", err
	}
	return hp[0] + ":" + hp[1], nil
}

// KillMaster kills the current master with SIGKILL and returns its address.
func (s *Sentinel) KillMaster(ctx context.Context) (string, error) {
	m, err := s.Master(ctx)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	cmd, ok := s.servers[m]
	delete(s.servers, m)
	s.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("master %s is not running", m)
	}
	cmd.Process.Kill()
	cmd.Wait()
	return m, nil
}

// WaitPromoted waits until the sentinels name a master other than old and
// that server says it is a master; it returns when it first saw both.
func (s *Sentinel) WaitPromoted(ctx context.Context, old string) (time.Time, error) {
	for {
		if m, err := s.Master(ctx); err == nil && m != old {
			rdb := redis.NewClient(&redis.Options{Addr: m})
			role, err := rdb.Do(ctx, "ROLE").Slice()
			rdb.Close()
			if err == nil && len(role) > 0 && role[0] == "master" {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("no replica of %s promoted: %v", old, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Synced waits until the replicas have every write the master had.
func (s *Sentinel) Synced(ctx context.Context) error {
	m, err := s.Master(ctx)
	if err != nil {
		return err
	}
	return syncedMaster(ctx, m)
}

// Stop kills every process and removes the directory.
func (s *Sentinel) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cmd := range s.sentinels {
		cmd.Process.Kill()
		cmd.Wait()
	}
	for _, cmd := range s.servers {
		cmd.Process.Kill()
		cmd.Wait()
	}
	s.sentinels, s.servers = nil, map[string]*exec.Cmd{}
	os.RemoveAll(s.dir)
}
