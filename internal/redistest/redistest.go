// Package redistest starts a private redis-server for a test package, on a
// free port in a temporary directory. It never touches the shared Redis on
// port 6379.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is a running private redis-server.
type Server struct {
	Addr string
	dir  string
	cmd  *exec.Cmd
}

// Start starts a redis-server (no persistence) and returns it; call Stop
// when done (usually from TestMain).
func Start() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found on PATH: install it with 'apt-get install -y redis-server' (tests never use the shared Redis on 6379)")
	}
	dir, err := os.MkdirTemp("", "jit-redis-")
	if err != nil {
		return nil, err
	}
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir}
		s.cmd = exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir,
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--databases", "1024", "--logfile", filepath.Join(dir, "redis.log"))
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		if waitReady(s.Addr, 5*time.Second) {
			return s, nil
		}
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
	log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
	return nil, fmt.Errorf("redis-server did not start: %s", log)
}

// Stop kills the server and removes its directory.
func (s *Server) Stop() {
	if s == nil || s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// Main runs a test package with a private redis-server whose address is
// passed to setAddr before the tests run. Use it from TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m, func(a string) { redisAddr = a }) }
func Main(m *testing.M, setAddr func(addr string)) {
	s, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		os.Exit(1)
	}
	setAddr(s.Addr)
	code := m.Run()
	s.Stop()
	os.Exit(code)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitReady(addr string, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			fmt.Fprint(c, "PING\r\n")
			c.SetReadDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "+PONG") {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
