package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/devoidc"
	"github.com/jitaccess/jit/console/wire"
)

// ciPlatform is a CI platform's OIDC issuer (GitHub Actions' stand-in):
// discovery and JWKS served over HTTP on loopback, tokens with any claims.
type ciPlatform struct {
	t   *testing.T
	iss *devoidc.Issuer
	url string
}

func newCIPlatform(t *testing.T) *ciPlatform {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss, err := devoidc.New(srv.URL, "unused", nil)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", iss.Handler())
	return &ciPlatform{t: t, iss: iss, url: srv.URL}
}

// token signs a job's token: the claims of a GitHub Actions job on
// org/repo's main branch with audience jit, changed by edit.
func (p *ciPlatform) token(edit func(c map[string]any)) string {
	p.t.Helper()
	now := time.Now()
	c := map[string]any{
		"iss": p.url, "aud": "jit", "sub": "repo:org/repo:ref:refs/heads/main",
		"repository": "org/repo", "ref": "refs/heads/main", "run_id": "42",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
	if edit != nil {
		edit(c)
	}
	tok, err := p.iss.Sign(c)
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

// workloadRegistry is dev.yaml with one workload of the CI platform at url.
func workloadRegistry(url string) string {
	return string(devConfig) + fmt.Sprintf(`  workloads:
    - name: deploy-prod
      issuer: %s
      audience: jit
      claims: {repository: org/repo, ref: refs/heads/main}
      accounts: ["333333333333"]
      permission_sets: [ReadOnlyAccess]
      max_duration: 1h
`, url)
}

// jitToken runs the real binary as a client with JIT_TOKEN set to token.
func (h *harness) jitToken(token string, args ...string) (string, string, error) {
	cmd := exec.Command(jitBin, args...)
	cmd.Env = append(os.Environ(), "JIT_URL="+h.apiURL, "JIT_TOKEN="+token, "JIT_CACHE_DIR="+h.t.TempDir())
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// apiToken makes one HTTP request with a bearer token and decodes the answer.
func (h *harness) apiToken(token, method, path string, body any) (int, map[string]any) {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.apiURL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
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

// TestWorkloadRequest: a CI job with its platform's token files a ticket
// for itself with `jit request`, a person approves it, and the job's `jit
// credentials` work with the real AWS CLI against the sandbox; tokens that
// match no workload are 401, out-of-scope tickets are refused with nothing
// stored, a workload cannot decide or administer, and a registry without
// the workload refuses its next call.
func TestWorkloadRequest(t *testing.T) {
	needAWSCLI(t)
	ci := newCIPlatform(t)
	h := newHarnessWith(t, workloadRegistry(ci.url))
	job := ci.token(nil)

	// Tokens that are not the workload's: 401 unauthenticated.
	other := newCIPlatform(t) // an issuer the registry does not name
	for name, tok := range map[string]string{
		"wrong audience": ci.token(func(c map[string]any) { c["aud"] = "sts.amazonaws.com" }),
		"two audiences":  ci.token(func(c map[string]any) { c["aud"] = []string{"jit", "other"} }),
		"wrong claim":    ci.token(func(c map[string]any) { c["ref"] = "refs/heads/feature" }),
		"missing claim":  ci.token(func(c map[string]any) { delete(c, "repository") }),
		"claim not a string": ci.token(func(c map[string]any) {
			c["repository"] = []string{"org/repo"}
		}),
		"expired": ci.token(func(c map[string]any) {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Hour).Unix(), time.Now().Add(-time.Minute).Unix()
		}),
		"unknown issuer": other.token(nil),
		"forged":         forgedCIToken(t, ci.url),
	} {
		status, body := h.apiToken(tok, "GET", "/api/v1/tickets", nil)
		if status != 401 || body["code"] != "unauthenticated" {
			t.Errorf("%s: GET /tickets = %d %v, want 401 unauthenticated", name, status, body)
		}
	}

	// Outside its scope: refused, nothing stored.
	for name, c := range map[string]struct {
		args []string
		code string
	}{
		"another account":        {[]string{"--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "30m"}, "(forbidden)"},
		"another permission set": {[]string{"--account", "333333333333", "--permission-set", "AdministratorAccess", "--duration", "30m"}, "(forbidden)"},
		"identity center":        {[]string{"--account", "333333333333", "--permission-set", "ReadOnlySSO", "--duration", "30m"}, "grants through Identity Center (grant_path identity_center), which has no user for workload:deploy-prod"},
		"too long":               {[]string{"--account", "333333333333", "--permission-set", "ReadOnlyAccess", "--duration", "2h"}, "exceeds the maximum of 1h for workload deploy-prod (invalid)"},
		"for someone else":       {[]string{"--account", "333333333333", "--permission-set", "ReadOnlyAccess", "--duration", "30m", "--for", "alice@example.com"}, "(forbidden)"},
	} {
		_, errOut, err := h.jitToken(job, append([]string{"request", "--reason", "deploy"}, c.args...)...)
		if err == nil || !strings.Contains(errOut, c.code) {
			t.Errorf("%s: jit request = %v %q, want a refusal %s", name, err, errOut, c.code)
		}
	}
	if status, body := h.api("carol@example.com", "GET", "/api/v1/tickets", nil); status != 200 || len(body["tickets"].([]any)) != 0 {
		t.Fatalf("after refused requests: GET /tickets = %d %v, want no tickets", status, body)
	}

	// GET /me tells it what its entry allows, and nothing more.
	if status, me := h.apiToken(job, "GET", "/api/v1/me", nil); status != 200 || fmt.Sprint(me["may_request"]) != "[map[accounts:[333333333333] permission_set:ReadOnlyAccess]]" || me["admin"] != false {
		t.Errorf("workload GET /me = %d %v", status, me)
	}

	// The job files its ticket with the CLI.
	out, errOut, err := h.jitToken(job, "request", "--output", "json", "--account", "333333333333",
		"--permission-set", "ReadOnlyAccess", "--duration", "30m", "--reason", "deploy run 42")
	if err != nil {
		t.Fatalf("jit request as the workload: %v\n%s", err, errOut)
	}
	var tk wire.Ticket
	if err := json.Unmarshal([]byte(out), &tk); err != nil {
		t.Fatal(err)
	}
	if tk.State != "pending" || tk.Requester != "workload:deploy-prod" || len(tk.Beneficiaries) != 1 || tk.Beneficiaries[0] != "workload:deploy-prod" {
		t.Fatalf("ticket = %s requested by %s for %v, want pending, by and for workload:deploy-prod", tk.State, tk.Requester, tk.Beneficiaries)
	}

	// It cannot decide its own ticket, or anything a person does.
	for _, c := range []struct{ method, path string }{
		{"POST", "/api/v1/tickets/" + tk.ID + "/approve"},
		{"POST", "/api/v1/tickets/" + tk.ID + "/APPROVE/"},
		{"POST", "/api/v1/tickets/" + tk.ID + "/terminate"},
		{"GET", "/api/v1/registry"},
		{"POST", "/api/v1/delegations"},
		{"GET", "/api/v1/audit"},
	} {
		status, body := h.apiToken(job, c.method, c.path, map[string]any{"comment": "self"})
		if status != 403 || body["code"] != "forbidden" {
			t.Errorf("workload %s %s = %d %v, want 403 forbidden", c.method, c.path, status, body)
		}
	}
	if _, _, err := h.jitToken(job, "credentials", "--ticket", tk.ID); err == nil {
		t.Fatal("credentials of a pending ticket were issued")
	}

	// A person approves through the normal rule (bob).
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil {
		t.Fatalf("bob approves: %v\n%s", err, errOut)
	}
	// The job reads its ticket (as docs/automation.md polls it) and gets credentials.
	out, errOut, err = h.jitToken(job, "tickets", "get", tk.ID, "--output", "json")
	var got wire.Ticket
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || got.State != "active" && got.State != "approved" {
		t.Fatalf("workload jit tickets get: %v %s %s", err, out, errOut)
	}
	out, errOut, err = h.jitToken(job, "credentials", "--ticket", tk.ID)
	if err != nil {
		t.Fatalf("jit credentials as the workload: %v\n%s", err, errOut)
	}
	var creds wire.CredentialProcess
	if err := json.Unmarshal([]byte(out), &creds); err != nil {
		t.Fatalf("credential_process output %q: %v", out, err)
	}
	id, err := h.awsCLI(awsEnv(creds), "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, id)
	}
	if !strings.Contains(id, "333333333333") || !strings.Contains(id, "workload-deploy-prod") {
		t.Errorf("caller identity %s does not name account 333333333333 and the workload", id)
	}

	// CloudTrail, as the approver reads it, names the workload.
	if out, err := h.awsCLI(awsEnv(creds), "s3api", "list-buckets"); err != nil {
		t.Fatalf("aws s3api list-buckets: %v\n%s", err, out)
	}
	out, errOut, err = h.jit("bob@example.com", "activity", tk.ID, "--output", "json")
	if err != nil {
		t.Fatalf("jit activity as bob: %v\n%s", err, errOut)
	}
	var act struct {
		Events []broker.ActivityEvent `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &act); err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, e := range act.Events {
		if e.EventName == "ListBuckets" {
			seen = true
			if e.Username != "jit-"+tk.ID+"-workload-deploy-prod" || e.SourceIdentity != "workload-deploy-prod" || e.AccessKeyID != creds.AccessKeyID {
				t.Errorf("ListBuckets event %+v does not name the workload's session", e)
			}
		}
	}
	if !seen {
		t.Errorf("no ListBuckets event in the workload ticket's activity:\n%s", out)
	}

	// The session is recorded for the workload, and its tags name it.
	if _, body := h.api("bob@example.com", "GET", "/api/v1/tickets/"+tk.ID, nil); !strings.Contains(fmt.Sprint(body["sessions"]), "workload:deploy-prod") {
		t.Errorf("ticket sessions %v do not name the workload", body["sessions"])
	}

	// The registry without the workload: its next call is refused.
	status, reg := h.api("carol@example.com", "GET", "/api/v1/registry", nil)
	if status != 200 || reg["workloads"] == nil {
		t.Fatalf("GET /registry = %d %v", status, reg)
	}
	delete(reg, "workloads")
	if status, body := h.api("carol@example.com", "PUT", "/api/v1/registry", reg); status != 200 || body["changed"] != true {
		t.Fatalf("PUT /registry without the workload = %d %v", status, body)
	}
	if status, body := h.apiToken(job, "GET", "/api/v1/tickets/"+tk.ID, nil); status != 401 || body["code"] != "unauthenticated" {
		t.Errorf("after the workload left the registry: GET its ticket = %d %v, want 401", status, body)
	}
	if _, _, err := h.jitToken(job, "credentials", "--ticket", tk.ID); err == nil {
		t.Error("after the workload left the registry: credentials were issued")
	}
}

// forgedCIToken is a token naming the CI issuer, signed with another key.
func forgedCIToken(t *testing.T, url string) string {
	t.Helper()
	f, err := devoidc.New(url, "unused", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := f.Sign(map[string]any{"iss": url, "aud": "jit", "repository": "org/repo", "ref": "refs/heads/main",
		"iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAdminCheckWorkloadIssuers: jit admin check discovers each workload
// issuer and fetches its keys; an unreachable one fails with a fix.
func TestAdminCheckWorkloadIssuers(t *testing.T) {
	ci := newCIPlatform(t)
	out, err := adminCheckWith(t, cloudFormationFixture(t), workloadRegistry(ci.url))
	if err != nil || !strings.Contains(squeeze(out), "ok workload token issuer "+ci.url) {
		t.Fatalf("check with a reachable issuer: %v\n%s", err, out)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	out, err = adminCheckWith(t, cloudFormationFixture(t), workloadRegistry(dead.URL))
	if err == nil || !strings.Contains(squeeze(out), "FAIL workload token issuer "+dead.URL) || !strings.Contains(out, "discovery") {
		t.Fatalf("check with an unreachable issuer: %v\n%s", err, out)
	}
}
