package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// userMachine is a user's own machine for the CLI: its own home, config
// directory, credential cache and AWS config file, and no JIT_URL or
// JIT_TOKEN: every command relies on `jit login`.
type userMachine struct {
	t         *testing.T
	home      string
	awsConfig string
	env       []string
}

func newUserMachine(t *testing.T) *userMachine {
	t.Helper()
	home := t.TempDir()
	m := &userMachine{t: t, home: home, awsConfig: filepath.Join(home, ".aws", "config")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "JIT_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "XDG_") ||
			k == "HOME" || k == "BROWSER" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" || k == "DBUS_SESSION_BUS_ADDRESS" {
			continue
		}
		m.env = append(m.env, kv)
	}
	m.env = append(m.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "JIT_TOKEN_STORE=file",
		"JIT_CACHE_DIR="+filepath.Join(home, "cache"), "AWS_CONFIG_FILE="+m.awsConfig, "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_REGION=us-east-1", "AWS_PAGER=", "BROWSER=true")
	return m
}

// jit runs the binary on the user's machine; it returns stdout, stderr and
// the exit code.
func (m *userMachine) jit(args ...string) (string, string, int) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jitBin, args...)
	cmd.Env = m.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		m.t.Fatalf("jit %v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// login runs `jit login args...`, hands the first URL it prints to
// signIn (the user's browser; stdin is jit's), and returns its stderr
// once it exits.
func (m *userMachine) login(signIn func(link string, stdin io.Writer), args ...string) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, jitBin, append([]string{"login"}, args...)...)
	cmd.Env = m.env
	pipe, err := cmd.StderrPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		m.t.Fatal(err)
	}
	defer stdin.Close()
	if err := cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	var all strings.Builder
	sc := bufio.NewScanner(pipe)
	signedIn := false
	for sc.Scan() {
		line := sc.Text()
		all.WriteString(line + "\n")
		if l := strings.TrimSpace(line); !signedIn && strings.HasPrefix(l, "http") {
			signedIn = true
			go signIn(l, stdin)
		}
	}
	if err := cmd.Wait(); err != nil {
		m.t.Fatalf("jit login: %v\n%s", err, all.String())
	}
	return all.String()
}

// storedToken returns the ID and refresh tokens `jit login` keeps in its
// file.
func (m *userMachine) storedToken() string {
	m.t.Helper()
	files, _ := filepath.Glob(filepath.Join(m.home, ".config", "jit", "tokens", "*.json"))
	if len(files) != 1 {
		m.t.Fatalf("token files: %v, want one", files)
	}
	fi, err := os.Stat(files[0])
	if err != nil || fi.Mode().Perm() != 0o600 {
		m.t.Fatalf("token file %v mode %v, want 0600", err, fi.Mode())
	}
	var l storedLogin
	b, _ := os.ReadFile(files[0])
	if err := json.Unmarshal(b, &l); err != nil {
		m.t.Fatal(err)
	}
	return l.IDToken + " " + l.RefreshToken
}

// zitadelStorage is the example storage of zitadel/oidc with one change:
// ID tokens carry the email (as most providers' do when the email scope
// is asked for), and live one minute, so every jit command refreshes.
type zitadelStorage struct{ *storage.Storage }

func (s zitadelStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return zitadelClient{c}, nil
}

type zitadelClient struct{ op.Client }

func (zitadelClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (zitadelClient) IDTokenLifetime() time.Duration       { return time.Minute }

// startZitadel starts zitadel/oidc's example OpenID Provider with a native
// (public, PKCE) client "jit-cli" whose redirect is the loopback callback.
func startZitadel(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	clients := map[string]*storage.Client{"jit-cli": storage.NativeClient("jit-cli", "http://127.0.0.1/callback")}
	st := zitadelStorage{storage.NewStorageWithClients(storage.NewUserStore(issuer), clients)}
	srv.Config.Handler = exampleop.SetupServer(issuer, st, slog.New(slog.DiscardHandler), false)
	srv.Start()
	t.Cleanup(srv.Close)
	return issuer
}

// reconfigure restarts the harness's server with its config file edited.
func (h *harness) reconfigure(edit func(string) string) {
	h.t.Helper()
	b, err := os.ReadFile(h.cfgPath)
	if err != nil {
		h.t.Fatal(err)
	}
	h.stop()
	if err := os.WriteFile(h.cfgPath, []byte(edit(string(b))), 0o600); err != nil {
		h.t.Fatal(err)
	}
	h.start()
}

// `jit login` against an independent OpenID Provider (zitadel/oidc's):
// the authorization code flow with PKCE on a loopback redirect, the
// browser played by an HTTP client with cookies; later commands need no
// flags and refresh the one-minute token by themselves; logout forgets it.
func TestLoginWithIndependentProvider(t *testing.T) {
	issuer := startZitadel(t)
	h := newHarness(t)
	h.reconfigure(func(cfg string) string {
		cfg = regexp.MustCompile(`(?m)^  issuer: .*$`).ReplaceAllString(cfg, "  issuer: "+issuer)
		// The approver page's client comes first; jit login must take the CLI's.
		return strings.Replace(cfg, "client_ids: ["+testAudience+"]", "client_ids: [jit-web, jit-cli]\n  cli_client_id: jit-cli", 1)
	})
	m := newUserMachine(t)

	browserDone := make(chan string, 1)
	browser := func(link string, _ io.Writer) {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		resp, err := browser.Get(link)
		if err != nil {
			browserDone <- "GET " + err.Error()
			return
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindSubmatch(page)
		if id == nil {
			browserDone <- "no login form: " + string(page)
			return
		}
		host, _ := url.Parse(issuer)
		resp, err = browser.PostForm(issuer+"/login/username", url.Values{
			"id": {string(id[1])}, "username": {"test-user@" + host.Hostname()}, "password": {"verysecure"}})
		if err != nil {
			browserDone <- "POST " + err.Error()
			return
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		browserDone <- resp.Request.URL.String() + " " + string(page)
	}
	stderr := m.login(browser, "--url", h.apiURL)
	final := <-browserDone
	if !strings.HasPrefix(final, "http://127.0.0.1:") || !strings.Contains(final, "/callback?") || !strings.Contains(final, "Signed in.") {
		t.Fatalf("the browser did not end on jit's loopback page: %s", final)
	}
	if !strings.Contains(stderr, "Signed in to "+h.apiURL+" as test-user@zitadel.ch") {
		t.Fatalf("jit login said:\n%s", stderr)
	}
	first := m.storedToken()

	out, errOut, code := m.jit("whoami", "--output", "json")
	if code != 0 {
		t.Fatalf("whoami: %d %s", code, errOut)
	}
	var me wire.Me
	if err := json.Unmarshal([]byte(out), &me); err != nil || me.Email != "test-user@zitadel.ch" {
		t.Fatalf("whoami = %q (%v)", out, err)
	}
	if m.storedToken() == first {
		t.Error("the one-minute token was not refreshed")
	}

	files, _ := filepath.Glob(filepath.Join(m.home, ".config", "jit", "tokens", "*.json"))
	saved, _ := os.ReadFile(files[0])
	if _, errOut, code := m.jit("logout"); code != 0 || !strings.Contains(errOut, "refresh token revoked") {
		t.Fatalf("logout: %d %s", code, errOut)
	}
	// The provider revoked the refresh token: a copy of the old sign-in
	// (its ID token due for refresh) is dead.
	os.WriteFile(files[0], saved, 0o600)
	if _, errOut, code := m.jit("whoami"); code == 0 || !strings.Contains(errOut, "has expired: run `jit login") {
		t.Fatalf("whoami with a revoked refresh token: %d %s", code, errOut)
	}
	os.Remove(files[0])
	out, errOut, code = m.jit("whoami")
	if code == 0 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "jit login") {
		t.Fatalf("whoami after logout: code %d, stdout %q, stderr %q; want one line that says to run jit login", code, out, errOut)
	}

	// --no-browser: the provider offers the device grant, but not to this
	// (native) client, so jit prints the URL to open instead; the browser
	// is on another machine (it cannot reach jit's loopback), and the user
	// pastes the address it ended on.
	stderr = m.login(func(link string, stdin io.Writer) {
		jar, _ := cookiejar.New(nil)
		var loopback string
		browser := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
			if r.URL.Hostname() == "127.0.0.1" && r.URL.Path == "/callback" {
				loopback = r.URL.String()
				return http.ErrUseLastResponse
			}
			return nil
		}}
		resp, err := browser.Get(link)
		if err != nil {
			browserDone <- err.Error()
			return
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := regexp.MustCompile(`name="id" value="([^"]+)"`).FindSubmatch(page)
		if id == nil {
			browserDone <- "no login form"
			return
		}
		host, _ := url.Parse(issuer)
		resp, err = browser.PostForm(issuer+"/login/username", url.Values{
			"id": {string(id[1])}, "username": {"test-user@" + host.Hostname()}, "password": {"verysecure"}})
		if err != nil {
			browserDone <- err.Error()
			return
		}
		resp.Body.Close()
		io.WriteString(stdin, "not an address\n")
		io.WriteString(stdin, loopback+"\n")
		browserDone <- loopback
	}, "--no-browser")
	if final := <-browserDone; !strings.Contains(final, "/callback?") {
		t.Fatalf("the browser did not end on the loopback address: %s", final)
	}
	if !strings.Contains(stderr, "refused the device sign-in") || !strings.Contains(stderr, "paste its address here") ||
		!strings.Contains(stderr, "not the address of this sign-in") || !strings.Contains(stderr, "as test-user@zitadel.ch") {
		t.Fatalf("jit login --no-browser said:\n%s", stderr)
	}
	if _, errOut, code := m.jit("whoami"); code != 0 {
		t.Fatalf("whoami: %d %s", code, errOut)
	}
}

// deviceLogin signs the user in with `jit login --no-browser` (the device
// grant of the harness's devoidc issuer), as user.
// activeFor files a ReadOnlyAccess ticket in 111111111111 through m's
// `jit request` (its sign-in), has bob approve it and waits until it is
// active.
func (h *harness) activeFor(m *userMachine, reason string) broker.Ticket {
	h.t.Helper()
	out, errOut, code := m.jit("request", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", reason, "--output", "json")
	if code != 0 {
		h.t.Fatalf("request: %d %s", code, errOut)
	}
	var tk broker.Ticket
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		h.t.Fatal(err)
	}
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		h.t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	return tk
}

func (h *harness) deviceLogin(m *userMachine, user string) string {
	h.t.Helper()
	return m.login(func(link string, _ io.Writer) {
		u, err := url.Parse(link)
		if err != nil {
			return
		}
		resp, err := http.PostForm(h.idp.IssuerURL()+"/device", url.Values{"user_code": {u.Query().Get("user_code")}, "login_hint": {user}})
		if err == nil {
			resp.Body.Close()
		}
	}, "--url", h.apiURL, "--no-browser")
}

// The device grant, then everything a user does next without flags or
// tokens: request, configure a profile, use it with the AWS CLI (while the
// login token is refreshed under it), exec, and the clear failure when
// the login cannot be refreshed.
func TestDeviceLoginConfigureAndAWSCLI(t *testing.T) {
	needAWSCLI(t)
	h := newHarness(t)
	h.idp.SetTokenTTL(time.Minute) // below the refresh margin: every command refreshes
	m := newUserMachine(t)
	if out := h.deviceLogin(m, "alice@example.com"); !strings.Contains(out, "Signed in to "+h.apiURL+" as alice@example.com") || !strings.Contains(out, "/device?user_code=") {
		t.Fatalf("jit login --no-browser said:\n%s", out)
	}

	// Several jit at once (as the AWS CLI starts them), each refreshing the
	// one-minute token: devoidc accepts each refresh token once, and
	// every one of them must still get through.
	errs := make(chan string, 6)
	for range cap(errs) {
		go func() {
			_, errOut, code := m.jit("whoami")
			if code != 0 {
				errOut = "FAILED " + errOut
			}
			errs <- errOut
		}()
	}
	for range cap(errs) {
		if e := <-errs; strings.HasPrefix(e, "FAILED") {
			t.Errorf("concurrent whoami: %s", e)
		}
	}

	tk := h.activeFor(m, "login test")

	// An AWS config file with comments and profiles of its own.
	orig := "# my AWS settings\n[default]\nregion=eu-west-1   ; inline\n\n# production, via SSO\n[profile prod]\nsso_session = corp\ns3 =\n  max_concurrent_requests = 20\n\n[sso-session corp]\nsso_start_url = https://corp.example.com/start\n"
	if err := os.MkdirAll(filepath.Dir(m.awsConfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.awsConfig, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := m.jit("configure", "--ticket", tk.ID, "--profile", "work"); code != 0 {
		t.Fatalf("configure: %d %s", code, errOut)
	}
	got, _ := os.ReadFile(m.awsConfig)
	want := orig + "\n[profile work]\ncredential_process = " + jitBin + " credentials --ticket " + tk.ID + "\n"
	if string(got) != want {
		t.Fatalf("AWS config:\n%s\nwant:\n%s", got, want)
	}
	fi1, _ := os.Stat(m.awsConfig)
	if _, errOut, code := m.jit("configure", "--ticket", tk.ID, "--profile", "work"); code != 0 || !strings.Contains(errOut, "already up to date") {
		t.Fatalf("second configure: %d %s", code, errOut)
	}
	if again, _ := os.ReadFile(m.awsConfig); string(again) != want {
		t.Fatalf("second configure changed the file:\n%s", again)
	}
	if fi2, _ := os.Stat(m.awsConfig); !fi2.ModTime().Equal(fi1.ModTime()) || fi2.Mode().Perm() != 0o644 {
		t.Errorf("second configure rewrote the file (mode %v)", fi2.Mode())
	}

	aws := func(profile string, call ...string) (string, error) {
		if len(call) == 0 {
			call = []string{"sts", "get-caller-identity"}
		}
		cmd := exec.Command("/usr/bin/aws", append([]string{"--profile", profile, "--endpoint-url", h.awsURL, "--output", "json"}, call...)...)
		cmd.Env = m.env
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	wantARN := "assumed-role/ReadOnlyAccess/jit-" + tk.ID + "-alice@example.com"
	for range 2 { // the second time from jit's cache, with a refreshed login token
		if out, err := aws("work"); err != nil || !strings.Contains(out, wantARN) {
			t.Fatalf("aws --profile work: %v\n%s", err, out)
		}
	}

	// The cache outlives the login token's refresh: the same session, and
	// one cache file, while the token changes underneath.
	creds := func() wire.CredentialProcess {
		t.Helper()
		out, errOut, code := m.jit("credentials", "--ticket", tk.ID)
		var c wire.CredentialProcess
		if code != 0 || json.Unmarshal([]byte(out), &c) != nil {
			t.Fatalf("credentials: %d %s", code, errOut)
		}
		return c
	}
	tok1, c1 := m.storedToken(), creds()
	if c2 := creds(); c2.AccessKeyID != c1.AccessKeyID || m.storedToken() == tok1 {
		t.Fatalf("after a refresh: session %s then %s, token changed %v; want one cached session across refreshes",
			c1.AccessKeyID, c2.AccessKeyID, m.storedToken() != tok1)
	}
	if files, _ := filepath.Glob(filepath.Join(m.home, "cache", "*.json")); len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}

	// A profile that follows the active ticket of an account and permission set.
	if _, errOut, code := m.jit("configure", "--account", "111111111111", "--permission-set", "ReadOnlyAccess"); code != 0 {
		t.Fatalf("configure --account: %d %s", code, errOut)
	}
	if out, err := aws("jit-111111111111-ReadOnlyAccess"); err != nil || !strings.Contains(out, wantARN) {
		t.Fatalf("aws with the pair profile: %v\n%s", err, out)
	}

	// jit exec: credentials in the command's environment, not on jit's
	// output; the command's exit code is jit's.
	out, errOut, code := m.jit("exec", "--ticket", tk.ID, "--", "sh", "-c",
		`test -n "$AWS_ACCESS_KEY_ID" && test -n "$AWS_SECRET_ACCESS_KEY" && test -n "$AWS_SESSION_TOKEN" && test -n "$AWS_CREDENTIAL_EXPIRATION" && exit 7`)
	if code != 7 || out != "" || errOut != "" {
		t.Fatalf("jit exec: code %d, stdout %q, stderr %q; want 7 and no output", code, out, errOut)
	}
	out, errOut, code = m.jit("exec", "--ticket", tk.ID, "--", "/usr/bin/aws", "--endpoint-url", h.awsURL, "--output", "json", "sts", "get-caller-identity")
	if code != 0 || !strings.Contains(out, wantARN) {
		t.Fatalf("jit exec aws: %d %s %s", code, out, errOut)
	}

	// Terminated: the profile stops working (AWS cuts the cached session;
	// GetCallerIdentity is never denied, so ask S3).
	if out, err := aws("work", "s3api", "list-buckets"); err != nil {
		t.Fatalf("aws s3api list-buckets before terminate: %v\n%s", err, out)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	if out, err := aws("work", "s3api", "list-buckets"); err == nil || !(strings.Contains(out, "AccessDenied") || strings.Contains(out, "terminated")) {
		t.Fatalf("aws --profile work after terminate: %v\n%s", err, out)
	}
	// The pair's profile has no ticket now, and says so; with the next
	// ticket it works again, unchanged.
	if out, err := aws("jit-111111111111-ReadOnlyAccess"); err == nil || !strings.Contains(out, "no active ticket") {
		t.Fatalf("pair profile without an active ticket: %v\n%s", err, out)
	}
	next := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "next")
	if _, errOut, err := h.jit("bob@example.com", "approve", next.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(next.ID, broker.StateActive, 10*time.Second)
	if out, err := aws("jit-111111111111-ReadOnlyAccess"); err != nil || !strings.Contains(out, "jit-"+next.ID+"-alice@example.com") {
		t.Fatalf("pair profile with the next ticket: %v\n%s", err, out)
	}

	// A login that can no longer be refreshed: one line that says what to
	// do, no output, no wait for a browser.
	files, _ := filepath.Glob(filepath.Join(m.home, ".config", "jit", "tokens", "*.json"))
	var l storedLogin
	b, _ := os.ReadFile(files[0])
	json.Unmarshal(b, &l)
	l.RefreshToken, l.Expiry = "revoked", time.Now().Add(-time.Hour)
	b, _ = json.Marshal(l)
	os.WriteFile(files[0], b, 0o600)
	out, errOut, code = m.jit("credentials", "--ticket", tk.ID, "--no-cache")
	if code == 0 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "run `jit login") {
		t.Fatalf("credentials with a dead login: code %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Bad input: one line on stderr, a non-zero exit, and no file written.
func TestCLIBadInput(t *testing.T) {
	h := newHarness(t)
	m := newUserMachine(t)
	check := func(name, wantErr string, args ...string) {
		t.Helper()
		out, errOut, code := m.jit(args...)
		if code == 0 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, wantErr) {
			t.Errorf("%s: code %d, stdout %q, stderr %q; want one line with %q", name, code, out, errOut, wantErr)
		}
	}
	check("unknown flag", "flag provided but not defined: -bogus", "configure", "--ticket", "x", "--bogus")
	check("no login", "run `jit login", "configure", "--ticket", "x", "--url", h.apiURL)
	check("no login, credentials", "run `jit login", "credentials", "--ticket", "x", "--url", h.apiURL)
	check("unreachable server", "cannot reach JIT at http://127.0.0.1:1", "login", "--url", "http://127.0.0.1:1", "--no-browser")
	check("not a JIT server", "is this a JIT server?", "login", "--url", h.awsURL, "--no-browser")
	check("half a pair", "--account and --permission-set go together", "configure", "--account", "111111111111")
	check("bad profile name", "--profile", "configure", "--ticket", "x", "--profile", "a b")
	check("exec without a command", "usage: jit exec", "exec", "--ticket", "x")
	for _, p := range []string{m.awsConfig, filepath.Join(m.home, ".config", "jit")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists after failed commands", p)
		}
	}

	// Signed in, but the ticket is unknown, or the profile is someone else's.
	h.deviceLogin(m, "alice@example.com")
	check("unknown ticket", "ticket nope", "configure", "--ticket", "nope")
	check("pair not requestable", "you may not request", "configure", "--account", "999999999999", "--permission-set", "ReadOnlyAccess")
	check("no active ticket", "no active ticket", "credentials", "--account", "111111111111", "--permission-set", "ReadOnlyAccess")
	orig := "[profile work]\naws_access_key_id = AKIAEXAMPLE\n"
	os.MkdirAll(filepath.Dir(m.awsConfig), 0o700)
	os.WriteFile(m.awsConfig, []byte(orig), 0o600)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "bad input")
	check("profile with its own keys", "choose another --profile", "configure", "--ticket", tk.ID, "--profile", "work")
	if got, _ := os.ReadFile(m.awsConfig); string(got) != orig {
		t.Errorf("AWS config changed:\n%s", got)
	}

	// A stored sign-in the server refuses (another issuer's, a restarted
	// jit dev's) says to sign in again.
	files, _ := filepath.Glob(filepath.Join(m.home, ".config", "jit", "tokens", "*.json"))
	var l storedLogin
	b, _ := os.ReadFile(files[0])
	json.Unmarshal(b, &l)
	forger, err := newForger(h.idp.IssuerURL())
	if err != nil {
		t.Fatal(err)
	}
	if l.IDToken, err = forger.Token("alice@example.com", time.Hour); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(l)
	os.WriteFile(files[0], b, 0o600)
	check("refused sign-in", "signature is not valid (unauthenticated): run `jit login --url "+h.apiURL+"`", "whoami")
}
