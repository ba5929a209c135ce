package main

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// jitCmd is the command h.jit runs, for tests that start it themselves.
func (h *harness) jitCmd(user string, args ...string) *exec.Cmd {
	cmd := exec.Command(jitBin, args...)
	cmd.Env = append(os.Environ(), "JIT_URL="+h.apiURL, "JIT_TOKEN="+h.token(user), "JIT_CACHE_DIR="+h.cache)
	return cmd
}

// waitFor waits until buf holds want, or fails.
func waitFor(t *testing.T, buf *lockedBuffer, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s in:\n%q", want, within, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return buf.String()
}

// exitOf waits for cmd and returns its exit code, or fails after within.
func exitOf(t *testing.T, cmd *exec.Cmd, within time.Duration) int {
	t.Helper()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		cmd.Process.Kill()
		<-done
		t.Fatalf("jit %q did not end within %s", cmd.Args[1:], within)
	}
	return cmd.ProcessState.ExitCode()
}

var requestedID = regexp.MustCompile(`Requested ticket ([a-z0-9]+);`)

// jit request --wait waits for the decision: approved by bob, exit 0 and
// the ticket; rejected, a non-zero exit with who rejected and why. Off a
// terminal the status comes as plain lines.
func TestRequestWait(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		decide []string
		code   int
		stderr string
	}{
		{[]string{"approve"}, 0, ""},
		{[]string{"reject", "--comment", "not today"}, 1, "jit: ticket %s was rejected by bob@example.com: not today"},
	} {
		t.Run(tc.decide[0], func(t *testing.T) {
			cmd := h.jitCmd("alice@example.com", "request", "--account", "dev", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "wait test", "--wait")
			var stdout, stderr lockedBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			m := requestedID.FindStringSubmatch(waitFor(t, &stderr, "Requested ticket", 15*time.Second))
			if m == nil {
				t.Fatalf("no ticket id in %q", stderr.String())
			}
			id := m[1]
			waitFor(t, &stderr, "Ticket "+id+": pending, stage 1 of 1, 0 of 1 approvals, waiting for bob@example.com\n", 10*time.Second)
			time.Sleep(300 * time.Millisecond)
			if stdout.String() != "" { // the ticket is printed once decided
				t.Fatalf("jit request --wait printed before the decision:\n%s", stdout.String())
			}
			if out, errOut, err := h.jit("bob@example.com", append(tc.decide, id)...); err != nil {
				t.Fatalf("bob %s: %v\n%s%s", tc.decide[0], err, out, errOut)
			}
			code := exitOf(t, cmd, 20*time.Second)
			if code != tc.code {
				t.Fatalf("jit request --wait: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			if !regexp.MustCompile(`State: +(approved|active|rejected)\n`).MatchString(stdout.String()) || !strings.Contains(stdout.String(), id) {
				t.Errorf("stdout lacks the decided ticket:\n%s", stdout.String())
			}
			if tc.stderr != "" && !strings.Contains(stderr.String(), strings.ReplaceAll(tc.stderr, "%s", id)+"\n") {
				t.Errorf("stderr:\n%s\nlacks %q", stderr.String(), strings.ReplaceAll(tc.stderr, "%s", id))
			}
			if strings.ContainsAny(stderr.String(), "\r\x1b") {
				t.Errorf("off a terminal the status has control characters: %q", stderr.String())
			}
		})
	}
}

// ptyOutput is what a command on a pseudo-terminal wrote.
type ptyOutput struct {
	lockedBuffer
	done chan struct{} // closed once the command's side is closed and all is read
}

// all waits until everything the command wrote has been read (after it
// ended) and returns it.
func (p *ptyOutput) all(t *testing.T) string {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pseudo-terminal's output did not end")
	}
	return p.String()
}

// startPTY runs cmd on a new pseudo-terminal (standard input, output and
// error) and collects what it writes.
func startPTY(t *testing.T, cmd *exec.Cmd) (*os.File, *ptyOutput) {
	t.Helper()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	out := &ptyOutput{done: make(chan struct{})}
	go func() { io.Copy(out, f); close(out.done) }() // EIO once the command's side is closed
	return f, out
}

// On a terminal jit request asks for what is missing, listing what the
// user may request; a wrong answer is asked again. Off a terminal a
// missing flag stays an error.
func TestPromptRequest(t *testing.T) {
	h := newHarness(t)
	cmd := h.jitCmd("alice@example.com", "request", "--output", "json")
	f, out := startPTY(t, cmd)
	answer := func(prompt, text string) {
		t.Helper()
		before := strings.Count(out.String(), prompt)
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(out.String(), prompt) == before && !strings.HasSuffix(strings.TrimRight(out.String(), " "), strings.TrimRight(prompt, " ")) {
			if time.Now().After(deadline) {
				t.Fatalf("no prompt %q in:\n%s", prompt, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := f.Write([]byte(text + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, &out.lockedBuffer, "Accounts you may request:\r\n  1) 111111111111 (dev)\r\n  2) 222222222222 (staging)\r\n  3) 333333333333 (prod)\r\n", 10*time.Second)
	answer("Account (number, ID or name): ", "nowhere")
	waitFor(t, &out.lockedBuffer, `"nowhere" is not one of the above; answer with its number or name.`, 5*time.Second)
	answer("Account (number, ID or name): ", "staging")
	waitFor(t, &out.lockedBuffer, "Permission sets you may request in 222222222222 (staging):\r\n  1) ReadOnlyAccess\r\n", 5*time.Second)
	answer("Permission set (number or name): ", "poweruseraccess")
	answer("Duration [1h]: ", "soon")
	waitFor(t, &out.lockedBuffer, `"soon" is not a duration`, 5*time.Second)
	answer("Duration [1h]: ", "")
	answer("Reason: ", "prompted request")
	if code := exitOf(t, cmd, 15*time.Second); code != 0 {
		t.Fatalf("jit request on a terminal: exit %d\n%s", code, out.String())
	}
	m := regexp.MustCompile(`"id": "([a-z0-9]+)"`).FindStringSubmatch(out.all(t))
	if m == nil {
		t.Fatalf("no ticket in:\n%s", out.String())
	}
	tk := h.ticket(m[1])
	if tk.AccountID != "222222222222" || tk.PermissionSet != "PowerUserAccess" || tk.End.Sub(tk.Start) != time.Hour || tk.Reason != "prompted request" || tk.Requester != "alice@example.com" {
		t.Errorf("the prompted ticket: %s %s %s %q %s", tk.AccountID, tk.PermissionSet, tk.End.Sub(tk.Start), tk.Reason, tk.Requester)
	}

	// Off a terminal: an error at once, nothing asked.
	_, errOut, err := h.jit("alice@example.com", "request", "--account", "dev")
	if err == nil || strings.TrimSpace(errOut) != "jit: --permission-set is required" {
		t.Errorf("jit request without flags off a terminal: %v %q", err, errOut)
	}
	// An unknown account name is refused in one line.
	_, errOut, err = h.jit("alice@example.com", "request", "--account", "nowhere", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "x")
	if err == nil || !strings.Contains(errOut, `unknown account "nowhere"`) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("jit request --account nowhere: %v %q", err, errOut)
	}
}

// jit tickets watch prints a line for each change, until interrupted.
func TestTicketsWatch(t *testing.T) {
	h := newHarness(t)
	cmd := h.jitCmd("alice@example.com", "tickets", "watch", "--mine")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &stdout, "Watching tickets", 10*time.Second)
	other := h.request("carol@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "not alice's")
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "watch test")
	waitFor(t, &stdout, tk.ID+"  pending  ReadOnlyAccess in 111111111111 (dev)  alice@example.com  ends in ", 10*time.Second)
	if out, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s%s", err, out, errOut)
	}
	waitFor(t, &stdout, tk.ID+"  pending -> ", 10*time.Second)
	h.waitState(tk.ID, broker.StateActive, 15*time.Second)
	waitFor(t, &stdout, " -> active  ", 10*time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitOf(t, cmd, 10*time.Second); code != 0 {
		t.Errorf("jit tickets watch after Ctrl-C: exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), other.ID) {
		t.Errorf("--mine showed carol's ticket:\n%s", stdout.String())
	}
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n")[1:] {
		if !strings.Contains(l, tk.ID) {
			t.Errorf("a line not about the ticket: %q", l)
		}
	}
}

// Human tables: account names beside ids, relative times, colour only on
// a terminal and never with NO_COLOR; --output json unchanged.
func TestTableHuman(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "table test")
	out, errOut, err := h.jit("alice@example.com", "tickets", "list")
	if err != nil {
		t.Fatalf("tickets list: %v %s", err, errOut)
	}
	if !regexp.MustCompile(tk.ID+`\s+pending\s+111111111111 \(dev\)\s+ReadOnlyAccess\s+alice@example.com\s+ends in (59|60) min\s+-`).MatchString(out) || !strings.Contains(out, "WHEN") {
		t.Errorf("jit tickets list:\n%s", out)
	}
	out, _, _ = h.jit("alice@example.com", "tickets", "get", tk.ID)
	if !strings.Contains(out, "Account:         111111111111 (dev)\n") || !regexp.MustCompile(`Window: .*\(1h0m0s; ends in (59|60) min\)\n`).MatchString(out) {
		t.Errorf("jit tickets get:\n%s", out)
	}
	out, _, _ = h.jit("alice@example.com", "whoami")
	if !strings.Contains(out, "ReadOnlyAccess in 111111111111 (dev), 222222222222 (staging), 333333333333 (prod)\n") {
		t.Errorf("jit whoami:\n%s", out)
	}
	js, _, _ := h.jit("alice@example.com", "tickets", "get", tk.ID, "--output", "json")
	if strings.Contains(js, "(dev)") || strings.Contains(js, "ends in") || !strings.Contains(js, `"account_id": "111111111111"`) {
		t.Errorf("--output json changed:\n%s", js)
	}
	for _, args := range [][]string{{"tickets", "list"}, {"tickets", "get", tk.ID}, {"whoami"}} {
		if out, _, _ := h.jit("alice@example.com", args...); strings.Contains(out, "\x1b") {
			t.Errorf("jit %s off a terminal has escape codes: %q", args, out)
		}
	}
	// On a terminal: colour, but none with NO_COLOR.
	onTTY := func(env ...string) string {
		cmd := h.jitCmd("alice@example.com", "tickets", "list")
		cmd.Env = append(cmd.Env, env...)
		_, out := startPTY(t, cmd)
		if code := exitOf(t, cmd, 10*time.Second); code != 0 {
			t.Fatalf("tickets list on a terminal: %d %s", code, out.String())
		}
		return out.all(t)
	}
	if out := onTTY(); !strings.Contains(out, "\x1b[33mpending\x1b[0m") {
		t.Errorf("tickets list on a terminal is not coloured: %q", out)
	}
	if out := onTTY("NO_COLOR=1"); strings.Contains(out, "\x1b") || !strings.Contains(out, tk.ID) {
		t.Errorf("tickets list with NO_COLOR: %q", out)
	}
}

// On a terminal jit request --wait keeps one status line, rewritten in
// place with the time waited, and ends it when the decision comes.
func TestRequestWaitOnTerminal(t *testing.T) {
	h := newHarness(t)
	cmd := h.jitCmd("alice@example.com", "request", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "wait on a terminal", "--wait")
	_, out := startPTY(t, cmd)
	m := requestedID.FindStringSubmatch(waitFor(t, &out.lockedBuffer, "Requested ticket", 15*time.Second))
	if m == nil {
		t.Fatalf("no ticket id in %q", out.String())
	}
	id := m[1]
	line := "\r\x1b[KTicket " + id + ": pending, stage 1 of 1, 0 of 1 approvals, waiting for bob@example.com ("
	waitFor(t, &out.lockedBuffer, line+"1s)", 10*time.Second) // rewritten after a second
	if o, errOut, err := h.jit("bob@example.com", "approve", id); err != nil {
		t.Fatalf("approve: %v %s%s", err, o, errOut)
	}
	if code := exitOf(t, cmd, 20*time.Second); code != 0 {
		t.Fatalf("exit %d:\n%q", code, out.String())
	}
	if !regexp.MustCompile(`\r\x1b\[KTicket ` + id + `: (approved|active) \(\d+s\)\r\n`).MatchString(out.all(t)) {
		t.Errorf("no final status line in %q", out.String())
	}
}

// Relative times as people say them.
func TestTableRelativeTimes(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at   time.Duration
		want string
	}{
		{42 * time.Minute, "in 42 min"},
		{-3 * time.Hour, "3 h ago"},
		{90 * time.Minute, "in 1 h 30 min"},
		{-30 * time.Second, "30 s ago"},
		{15 * time.Hour, "in 15 h"},
		{-72 * time.Hour, "3 days ago"},
	} {
		if got := ago(now.Add(tc.at), now); got != tc.want {
			t.Errorf("ago(%s) = %q, want %q", tc.at, got, tc.want)
		}
	}
	tk := wire.Ticket{}
	tk.State, tk.Start, tk.End = broker.StateActive, now.Add(-3*time.Hour), now.Add(42*time.Minute)
	if got := relativeWindow(&tk, now); got != "started 3 h ago, ends in 42 min" {
		t.Errorf("active: %q", got)
	}
	tk.State, tk.Start, tk.End = broker.StateApproved, now.Add(5*time.Minute), now.Add(time.Hour)
	if got := relativeWindow(&tk, now); got != "starts in 5 min" {
		t.Errorf("approved, later: %q", got)
	}
	tk.State, tk.Start, tk.End = broker.StateExpired, now.Add(-2*time.Hour), now.Add(-time.Hour)
	if got := relativeWindow(&tk, now); got != "ended 1 h ago" {
		t.Errorf("expired: %q", got)
	}
}
