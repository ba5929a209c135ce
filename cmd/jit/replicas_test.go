package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/internal/redistest"
)

// replica starts a second `jit serve` on h's Redis database, issuer and
// sandbox, that reaches Redis at via (a proxy) instead of directly.
func (h *harness) replica(t *testing.T, via string) *harness {
	t.Helper()
	cfg, err := os.ReadFile(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r := &harness{t: t, db: h.db, sb: h.sb, awsURL: h.awsURL, idp: h.idp, logs: &lockedBuffer{}, cache: t.TempDir()}
	r.apiURL = "http://" + freeAddr(t)
	text := strings.Replace(string(cfg), "listen: "+strings.TrimPrefix(h.apiURL, "http://"), "listen: "+strings.TrimPrefix(r.apiURL, "http://"), 1)
	text = strings.Replace(text, fmt.Sprintf("url: redis://%s/%d", redisAddr, h.db), fmt.Sprintf("url: redis://%s/%d", via, h.db), 1)
	if !strings.Contains(text, r.apiURL[len("http://"):]) || !strings.Contains(text, via) {
		t.Fatalf("replica config not rewritten:\n%s", text)
	}
	r.cfgPath = filepath.Join(t.TempDir(), "jit.yaml")
	if err := os.WriteFile(r.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// meAdmin asks h, as user, GET /api/v1/me and returns the status, the error
// code (if any) and whether the answer says user is an admin.
func (h *harness) meAdmin(user string) (int, string, bool) {
	h.t.Helper()
	status, body := h.api(user, "GET", "/api/v1/me", nil)
	code, _ := body["code"].(string)
	admin, _ := body["admin"].(bool)
	return status, code, admin
}

// Issue 19, finding 1: two `jit serve` replicas on one Redis; replica B is
// cut off from Redis (through a TCP proxy) while an admin removes dave from
// the admins through replica A, so B misses the change notice. While cut
// off B refuses (unavailable) rather than decide on the old registry; once
// healed, its very first answer follows the new registry, and dave cannot
// make himself admin again through it.
func TestReplicaCutOffFromRedisFollowsTheRegistry(t *testing.T) {
	reg := strings.Replace(string(devConfig), "admins: [carol@example.com]", "admins: [carol@example.com, dave@example.com]", 1)
	if reg == string(devConfig) {
		t.Fatal("dev.yaml no longer has the admins line this test edits")
	}
	a := newHarnessWith(t, reg)
	proxy := redistest.NewProxy(t, redisAddr)
	b := a.replica(t, proxy.Addr)

	for name, h := range map[string]*harness{"A": a, "B": b} {
		if status, code, admin := h.meAdmin("dave@example.com"); status != 200 || !admin {
			t.Fatalf("replica %s before the change: %d %q admin=%v, want dave an admin", name, status, code, admin)
		}
	}

	proxy.Cut()
	if status, body := a.api("carol@example.com", "PUT", "/api/v1/admins", map[string]any{"admins": []string{"carol@example.com"}}); status != 200 {
		t.Fatalf("carol removes dave through A: %d %v", status, body)
	}
	if _, _, admin := a.meAdmin("dave@example.com"); admin {
		t.Fatal("A still treats dave as admin after the change it made")
	}

	// Cut off, B must not answer with the old registry, and once its last
	// check is older than the bound (1 s) it says why it refuses.
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, code, admin := b.meAdmin("dave@example.com")
		if status < 300 {
			t.Fatalf("B answered %d (admin=%v) while cut off from Redis", status, admin)
		}
		if code == "unavailable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B never refused as unavailable while cut off (last: %d %q)", status, code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, body := b.api("dave@example.com", "PUT", "/api/v1/admins", map[string]any{"admins": []string{"carol@example.com", "dave@example.com"}}); status < 400 {
		t.Fatalf("dave re-added himself through B while it was cut off: %d %v", status, body)
	}

	proxy.Restore()
	// Every answer B gives from now on follows the new registry; wait only
	// for Redis connections to be re-established.
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, code, admin := b.meAdmin("dave@example.com")
		if status == 200 {
			if admin {
				t.Fatal("healed replica B still treats dave as admin")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B did not answer after Redis came back (last: %d %q)", status, code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, body := b.api("dave@example.com", "PUT", "/api/v1/admins", map[string]any{"admins": []string{"carol@example.com", "dave@example.com"}}); status != 403 {
		t.Fatalf("dave re-adds himself through healed B: %d %v, want 403", status, body)
	}
	if status, body := a.api("carol@example.com", "GET", "/api/v1/admins", nil); status != 200 || fmt.Sprint(body["admins"]) != "[carol@example.com]" {
		t.Fatalf("admins after all: %d %v, want only carol", status, body)
	}
}
