package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/devoidc"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation/sandbox"
	"github.com/jitaccess/jit/internal/redistest"
)

var (
	redisAddr string
	jitBin    string
	nextDB    atomic.Int32
	// jitBuildTags are the build tags of the jit binary under test
	// (faults_test.go sets "faults" for the crash suite).
	jitBuildTags string
)

// TestMain builds the real jit binary and starts a private redis-server.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jit-bin-")
	if err != nil {
		panic(err)
	}
	jitBin = filepath.Join(dir, "jit")
	out, err := exec.Command("go", "build", "-tags="+jitBuildTags, "-o", jitBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build jit: %v\n%s", err, out)
		os.Exit(1)
	}
	redistest.Main(m, func(a string) { redisAddr = a })
}

const testAudience = "jit-test"

// harness is one JIT server (the real binary, `jit serve`) with its own
// Redis database, an AWS sandbox and an OIDC issuer.
type harness struct {
	t       *testing.T
	db      int
	sb      *sandbox.Sandbox
	awsURL  string
	idp     *devoidc.Issuer
	cfgPath string
	apiURL  string
	proc    *exec.Cmd
	logs    *lockedBuffer // the server's output, written while tests read it
	cache   string
	tokens  sync.Map // user -> token, so jit's credential cache sees one token per user
	env     []string // more environment for `jit serve` (start)
}

// harnessOptions changes what newHarnessOpts sets up.
type harnessOptions struct {
	redisURL string           // default: a fresh database of the package's redis-server
	redis    string           // if set, the config's redis: block (indented) in place of url
	sandbox  sandbox.Options  // the AWS sandbox's options
	fixture  *sandbox.Fixture // default sandbox.DemoFixture()
	// guardRails keeps the registry's default refusal of overlapping
	// tickets. Without it the harness allows them (limits.overlapping_tickets:
	// allow in a registry: section that sets no limits): most tests file
	// the same ticket many times on purpose (guardrails_test.go tests them).
	guardRails bool
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, string(devConfig))
}

// newHarnessWith is newHarness with registry (the registry, approval_rules
// and authorization part of a config file) in place of dev.yaml.
func newHarnessWith(t *testing.T, registry string) *harness {
	t.Helper()
	return newHarnessOpts(t, registry, harnessOptions{})
}

// newHarnessOpts is newHarnessWith with options.
func newHarnessOpts(t *testing.T, registry string, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, logs: &lockedBuffer{}, cache: t.TempDir()}
	if !o.guardRails && !strings.Contains(registry, "\n  limits:") {
		if strings.HasPrefix(registry, "registry:\n") {
			registry = "registry:\n  limits: {overlapping_tickets: allow}\n" + strings.TrimPrefix(registry, "registry:\n")
		} else {
			registry = strings.Replace(registry, "\nregistry:\n", "\nregistry:\n  limits: {overlapping_tickets: allow}\n", 1)
		}
	}
	if o.redisURL == "" && o.redis == "" {
		h.db = int(nextDB.Add(1))
		if h.db > 1023 {
			t.Fatal("out of Redis databases; give tests fewer harnesses")
		}
		o.redisURL = fmt.Sprintf("redis://%s/%d", redisAddr, h.db)
	}
	var err error
	fixture := sandbox.DemoFixture()
	if o.fixture != nil {
		fixture = *o.fixture
	}
	if h.sb, err = sandbox.New(fixture, o.sandbox); err != nil {
		t.Fatal(err)
	}
	awsSrv := httptest.NewServer(h.sb)
	t.Cleanup(awsSrv.Close)
	h.awsURL = awsSrv.URL

	mux := http.NewServeMux()
	oidcSrv := httptest.NewServer(mux)
	t.Cleanup(oidcSrv.Close)
	if h.idp, err = devoidc.New(oidcSrv.URL, testAudience, devUsers); err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", h.idp.Handler())

	h.apiURL = "http://" + freeAddr(t)
	if o.redis == "" {
		o.redis = "  url: " + o.redisURL
	}
	cfg := registry + fmt.Sprintf(`
listen: %s
redis:
%s
oidc:
  issuer: %s
  client_ids: [%s]
aws:
  region: us-east-1
  endpoint: %s
  management_role: jit-broker
  identity_center:
    instance_arn: arn:aws:sso:::instance/ssoins-72230000jitdemo1
    identity_store_id: d-9067000001
    poll_interval: 100ms
`, strings.TrimPrefix(h.apiURL, "http://"), o.redis, oidcSrv.URL, testAudience, awsSrv.URL)
	if !strings.Contains(registry, "rate_limit:") {
		// Tests of concurrent clicks send many writes at once; the limit
		// has tests of its own.
		cfg += "rate_limit:\n  writes_per_minute: 0\n"
	}
	h.cfgPath = filepath.Join(t.TempDir(), "jit.yaml")
	if err := os.WriteFile(h.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	h.start()
	t.Cleanup(h.stop)
	return h
}

// lockedBuffer is a bytes.Buffer safe for one writer and many readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs `jit serve` and waits until it is ready.
func (h *harness) start() {
	h.t.Helper()
	h.proc = exec.Command(jitBin, "serve", "--config", h.cfgPath)
	h.proc.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+sandbox.DemoBrokerAccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+sandbox.DemoBrokerSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	h.proc.Env = append(h.proc.Env, h.env...)
	h.proc.Stdout, h.proc.Stderr = h.logs, h.logs
	if err := h.proc.Start(); err != nil {
		h.t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(h.apiURL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("jit serve did not become ready:\n%s", h.logs)
}

// stop ends `jit serve` the way an operator would (SIGTERM).
func (h *harness) stop() {
	if h.proc == nil || h.proc.Process == nil {
		return
	}
	h.proc.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { h.proc.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		h.proc.Process.Kill()
		<-done
	}
	h.proc = nil
	if h.t.Failed() {
		h.t.Logf("jit serve output:\n%s", h.logs)
	}
}

func (h *harness) token(user string) string {
	h.t.Helper()
	if tok, ok := h.tokens.Load(user); ok {
		return tok.(string)
	}
	tok, err := h.idp.Token(user, time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tokens.Store(user, tok)
	return tok
}

// jit runs the real binary as a client, as user, and returns stdout and stderr.
func (h *harness) jit(user string, args ...string) (string, string, error) {
	cmd := exec.Command(jitBin, args...)
	cmd.Env = append(os.Environ(), "JIT_URL="+h.apiURL, "JIT_TOKEN="+h.token(user), "JIT_CACHE_DIR="+h.cache)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// api makes one HTTP request as user ("" for none) and decodes the answer.
func (h *harness) api(user, method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.apiURL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+h.token(user))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 && json.Unmarshal(data, &out) != nil {
		h.t.Fatalf("%s %s: answer is not JSON: %s", method, path, data)
	}
	return resp.StatusCode, out
}

// request files a ticket through the CLI and returns it.
func (h *harness) request(user string, args ...string) broker.Ticket {
	h.t.Helper()
	out, errOut, err := h.jit(user, append([]string{"request", "--output", "json"}, args...)...)
	if err != nil {
		h.t.Fatalf("jit request: %v\n%s", err, errOut)
	}
	var tk broker.Ticket
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		h.t.Fatalf("jit request output: %v\n%s", err, out)
	}
	return tk
}

// ticket reads a ticket through the API as carol, the admin.
func (h *harness) ticket(id string) broker.Ticket {
	h.t.Helper()
	out, errOut, err := h.jit("carol@example.com", "tickets", "get", id, "--output", "json")
	if err != nil {
		h.t.Fatalf("jit tickets get: %v\n%s", err, errOut)
	}
	var tk broker.Ticket
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		h.t.Fatal(err)
	}
	return tk
}

// waitState polls until the ticket reaches state, or fails after within.
func (h *harness) waitState(id string, state broker.State, within time.Duration) broker.Ticket {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		tk := h.ticket(id)
		if tk.State == state {
			return tk
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("ticket %s is %s, want %s after %s", id, tk.State, state, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// redis returns a client of the harness's database.
func (h *harness) redis() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: redisAddr, DB: h.db})
	h.t.Cleanup(func() { c.Close() })
	return c
}

// tasks returns every Asynq task in the harness's database, by state.
func (h *harness) tasks() map[string][]*asynq.TaskInfo {
	h.t.Helper()
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: redisAddr, DB: h.db})
	defer in.Close()
	out := map[string][]*asynq.TaskInfo{}
	queues, err := in.Queues()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, q := range queues {
		for state, list := range map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
			"scheduled": in.ListScheduledTasks, "pending": in.ListPendingTasks, "active": in.ListActiveTasks,
			"retry": in.ListRetryTasks, "completed": in.ListCompletedTasks, "archived": in.ListArchivedTasks,
		} {
			ts, err := list(q)
			if err != nil {
				h.t.Fatal(err)
			}
			out[state] = append(out[state], ts...)
		}
	}
	return out
}

// credentials runs `jit credentials --ticket id [extra...]` as user and
// decodes the credential_process document.
func (h *harness) credentials(user, id string, extra ...string) wire.CredentialProcess {
	h.t.Helper()
	stdout, errOut, err := h.jit(user, append([]string{"credentials", "--ticket", id}, extra...)...)
	if err != nil {
		h.t.Fatalf("jit credentials: %v\n%s", err, errOut)
	}
	var creds wire.CredentialProcess
	if err := json.Unmarshal([]byte(stdout), &creds); err != nil {
		h.t.Fatalf("credential_process output %q: %v", stdout, err)
	}
	return creds
}

// awsEnv returns the environment for /usr/bin/aws with the given credentials.
func awsEnv(c wire.CredentialProcess) []string {
	return append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey, "AWS_SESSION_TOKEN="+c.SessionToken, "AWS_PAGER=")
}

func needAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/aws"); err != nil {
		t.Fatal("/usr/bin/aws is missing: apt-get install -y awscli (.ci/run does this)")
	}
}

// awsCLI runs the real AWS CLI with env against the sandbox.
func (h *harness) awsCLI(env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(context.Background(), "/usr/bin/aws", append([]string{"--endpoint-url", h.awsURL, "--output", "json"}, args...)...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// newForger returns an issuer with the same URL but its own key, whose
// tokens must not verify.
func newForger(issuer string) (*devoidc.Issuer, error) {
	return devoidc.New(issuer, testAudience, devUsers)
}
