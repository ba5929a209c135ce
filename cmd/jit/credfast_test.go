package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/cmd/jit/internal/fastcred"
	"github.com/jitaccess/jit/console/wire"
)

// tracedCredentials runs cmd (a `jit credentials`) with
// GODEBUG=inittrace=1 and reports whether the fast path served it:
// package fastcred's init exited, so its own trace line is missing, and
// no AWS service package had been initialised. stderr is without the
// trace.
func tracedCredentials(t *testing.T, cmd *exec.Cmd) (stdout, stderr string, fast bool, err error) {
	t.Helper()
	cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var rest []string
	fast = true
	for _, l := range strings.Split(errb.String(), "\n") {
		switch {
		case strings.HasPrefix(l, "init github.com/jitaccess/jit/cmd/jit/internal/fastcred "):
			fast = false
		case strings.HasPrefix(l, "init github.com/aws/aws-sdk-go-v2/service/"), strings.HasPrefix(l, "init github.com/prometheus/"):
			if fast {
				t.Errorf("the fast path ran after %s", l)
			}
		case strings.HasPrefix(l, "init "):
		case l != "":
			rest = append(rest, l)
		}
	}
	return out.String(), strings.Join(rest, "\n"), fast, err
}

// `jit credentials --ticket ID` is served from package fastcred's init
// once the slow path has served it, only for the same command line and
// environment, and only while the slow path would print the same without
// asking the server.
func TestCredentialsFastPath(t *testing.T) {
	h := newHarness(t)
	id, first := h.activeWithSession() // the slow path: cached, and a fast entry
	args := []string{"--ticket", id}
	run := func(user string, extra ...string) (wire.CredentialProcess, string, bool) {
		t.Helper()
		stdout, stderr, fast, err := tracedCredentials(t, h.jitCmd(user, append([]string{"credentials"}, append(args, extra...)...)...))
		var doc wire.CredentialProcess
		if err == nil && json.Unmarshal([]byte(stdout), &doc) != nil {
			t.Fatalf("credentials: not a document: %d bytes", len(stdout))
		}
		if err != nil && stdout != "" {
			t.Fatalf("credentials failed (%v, %s) and printed a document", err, stderr)
		}
		return doc, stderr, fast
	}
	want := func(what string, gotFast, wantFast bool, doc wire.CredentialProcess, stderr string) {
		t.Helper()
		if gotFast != wantFast || doc.AccessKeyID != first.AccessKeyID {
			t.Fatalf("%s: fast path %v, want %v; session %q, want the cached %s (stderr %q)", what, gotFast, wantFast, doc.AccessKeyID, first.AccessKeyID, stderr)
		}
	}
	doc, stderr, fast := run("alice@example.com")
	want("second call", fast, true, doc, stderr)

	// The entry's key, computed here as jit computes it.
	t.Setenv("JIT_URL", h.apiURL)
	t.Setenv("JIT_TOKEN", h.token("alice@example.com"))
	t.Setenv("JIT_CACHE_DIR", h.cache)
	entry := filepath.Join(h.cache, "fast", fastcred.Key(args))
	saved, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	e, err := fastcred.Parse(saved)
	if err != nil {
		t.Fatal(err)
	}
	if exp, _ := time.Parse(time.RFC3339, first.Expiration); !e.Until.Equal(exp.Add(-cacheMargin)) {
		t.Errorf("served until %s, want %s less %s", e.Until, exp, cacheMargin)
	}

	// Another user (another JIT_TOKEN), same command line: not alice's entry.
	if doc, stderr, fast := run("bob@example.com"); fast || doc.AccessKeyID != "" {
		t.Fatalf("bob: fast path %v, session %v (stderr %q); want the slow path, refused", fast, doc.AccessKeyID != "", stderr)
	}

	// --no-cache never takes the fast path, even with an entry under its key.
	noCache := append(args, "--no-cache")
	os.WriteFile(filepath.Join(h.cache, "fast", fastcred.Key(noCache)), saved, 0o600)
	if doc, stderr, fast := run("alice@example.com", "--no-cache"); fast || doc.AccessKeyID == "" || doc.AccessKeyID == first.AccessKeyID {
		t.Fatalf("--no-cache: fast path %v, session %q (stderr %q); want a new session from the server", fast, doc.AccessKeyID, stderr)
	}
	// The new session is in the cache file now: the entry, which names
	// that file and holds no session of its own, serves the new one.
	doc, stderr, fast = run("alice@example.com")
	if !fast || doc.AccessKeyID == first.AccessKeyID {
		t.Fatalf("after --no-cache: fast path %v, session %s; want the new session from the cache file", fast, doc.AccessKeyID)
	}
	first = doc
	doc, stderr, fast = run("alice@example.com")
	want("after the slow path", fast, true, doc, stderr)

	// The cache file due for its check: the slow path asks the server, and
	// renews both.
	files, _ := filepath.Glob(filepath.Join(h.cache, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	old := time.Now().Add(-2 * recheckAfter)
	os.Chtimes(files[0], old, old)
	doc, stderr, fast = run("alice@example.com")
	want("cache file aged", fast, false, doc, stderr)
	doc, stderr, fast = run("alice@example.com")
	want("after the check", fast, true, doc, stderr)

	// An entry whose session is due for renewal is not served.
	saved, _ = os.ReadFile(entry)
	e, _ = fastcred.Parse(saved)
	e.Until = time.Now().Add(-time.Second)
	b, _ := e.Marshal()
	os.WriteFile(entry, b, 0o600)
	doc, stderr, fast = run("alice@example.com")
	want("serve-until passed", fast, false, doc, stderr)
	doc, stderr, fast = run("alice@example.com")
	want("after renewal of the entry", fast, true, doc, stderr)

	// A truncated entry, and one of garbage: the slow path answers.
	for _, bad := range [][]byte{b[:len(b)/2], []byte("garbage")} {
		os.WriteFile(entry, bad, 0o600)
		doc, stderr, fast = run("alice@example.com")
		want("a broken entry", fast, false, doc, stderr)
	}

	// jit logout removes every entry (run with a home of its own: it must
	// not touch the real sign-in).
	doc, stderr, fast = run("alice@example.com")
	want("before logout", fast, true, doc, stderr)
	home := t.TempDir()
	logout := h.jitCmd("alice@example.com", "logout")
	logout.Env = append(logout.Env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "JIT_TOKEN_STORE=file")
	if out, err := logout.CombinedOutput(); err != nil {
		t.Fatalf("logout: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(h.cache, "fast")); !os.IsNotExist(err) {
		t.Fatalf("after logout the fast entries are still there: %v", err)
	}
	doc, stderr, fast = run("alice@example.com")
	want("after logout", fast, false, doc, stderr)

	// A terminated ticket: the slow path (at the next check) removes the
	// entry with the cache file.
	if code, body := h.api("bob@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]any{"comment": "cut"}); code != 200 {
		t.Fatalf("terminate: %d %v", code, body)
	}
	h.waitState(id, broker.StateTerminated, 10*time.Second)
	os.Chtimes(files[0], old, old)
	if doc, stderr, fast := run("alice@example.com"); fast || doc.AccessKeyID != "" || !strings.Contains(stderr, "terminated") {
		t.Fatalf("terminated: fast path %v, a session %v, stderr %q", fast, doc.AccessKeyID != "", stderr)
	}
	if _, err := os.Stat(entry); !os.IsNotExist(err) {
		t.Fatalf("the terminated ticket's entry is still there: %v", err)
	}
}

// With `jit login`, a sign-out stops the fast path at once: the next call
// says to sign in.
func TestCredentialsFastPathLogout(t *testing.T) {
	h := newHarness(t)
	m := newUserMachine(t)
	h.deviceLogin(m, "alice@example.com")
	tk := h.activeFor(m, "fast")
	creds := func() (string, string, bool, error) {
		cmd := exec.Command(jitBin, "credentials", "--ticket", tk.ID)
		cmd.Env = m.env
		return tracedCredentials(t, cmd)
	}
	first, errOut, fast, err := creds()
	if err != nil || fast {
		t.Fatalf("first credentials: %v, fast path %v, %s", err, fast, errOut)
	}
	if again, errOut, fast, err := creds(); err != nil || !fast || again != first {
		t.Fatalf("second credentials: %v, fast path %v, same session %v, %s", err, fast, again == first, errOut)
	}
	if _, errOut, code := m.jit("logout"); code != 0 {
		t.Fatalf("logout: %d %s", code, errOut)
	}
	if out, errOut, fast, err := creds(); err == nil || fast || out != "" || !strings.Contains(errOut, "jit login") {
		t.Fatalf("after logout: %v, fast path %v, a session printed %v, stderr %q; want the slow path saying to sign in", err, fast, out != "", errOut)
	}
}
