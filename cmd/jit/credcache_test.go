package main

import (
	"encoding/json"
	"github.com/jitaccess/jit/console/wire"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The credential_process cache notices a terminated ticket: once a cached
// session is older than recheckAfter, jit credentials asks the server
// (one GET) and, the ticket being over, drops the session and says why,
// instead of handing the AWS CLI a key AWS refuses. While the server
// cannot be reached, the cached session is still served.
func TestCredentialCacheNoticesTermination(t *testing.T) {
	h := newHarness(t)
	id, first := h.activeWithSession() // minted through jit credentials: cached
	age := func() {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(h.cache, "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %v, want one", files)
		}
		old := time.Now().Add(-2 * recheckAfter)
		if err := os.Chtimes(files[0], old, old); err != nil {
			t.Fatal(err)
		}
	}
	// An active ticket: the aged entry is checked and served again.
	age()
	if again := h.credentials("alice@example.com", id); again.AccessKeyID != first.AccessKeyID {
		t.Fatalf("active ticket: cache not served after the check (%s, want %s)", again.AccessKeyID, first.AccessKeyID)
	}
	if code, body := h.api("bob@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]any{"comment": "cut"}); code != 200 {
		t.Fatalf("terminate: %d %v", code, body)
	}
	// The server down: the cached session is served (AWS refuses it anyway).
	age()
	h.kill()
	if got := h.credentials("alice@example.com", id); got.AccessKeyID != first.AccessKeyID {
		t.Fatalf("server unreachable: got %s, want the cached %s", got.AccessKeyID, first.AccessKeyID)
	}
	h.start()
	age()
	stdout, stderr, err := h.jit("alice@example.com", "credentials", "--ticket", id)
	if err == nil || stdout != "" || !strings.Contains(stderr, "terminated") {
		// stdout would hold a session: say only whether there was one.
		t.Fatalf("terminated ticket from the cache: err %v, a session printed: %v, stderr %q; want a non-zero exit saying it was terminated", err, stdout != "", stderr)
	}
	if files, _ := filepath.Glob(filepath.Join(h.cache, "*.json")); len(files) != 0 {
		var doc wire.CredentialProcess
		b, _ := os.ReadFile(files[0])
		json.Unmarshal(b, &doc)
		t.Fatalf("the terminated ticket's session is still cached (%s)", doc.AccessKeyID)
	}
}
