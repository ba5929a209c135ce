package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// docExample returns the example registry file of docs/registry.md, so
// the documentation is tested as written.
func docExample(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/registry.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## The file\n\n```yaml\n")
	if !ok {
		t.Fatal("docs/registry.md has no yaml example under \"## The file\"")
	}
	example, _, _ := strings.Cut(rest, "```\n")
	return example
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// export runs `jit admin export` as carol and returns the file.
func (h *harness) export() string {
	h.t.Helper()
	out, errOut, err := h.jit("carol@example.com", "admin", "export")
	if err != nil {
		h.t.Fatalf("jit admin export: %v\n%s", err, errOut)
	}
	return out
}

// apply, export, apply the export, export again: the two exports are the
// same bytes, and applying an export (or the file again) changes nothing.
func TestAdminApplyExportRoundTrip(t *testing.T) {
	h := newHarness(t)
	org := writeFile(t, "org.yaml", docExample(t))

	out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", org)
	if err != nil {
		t.Fatalf("jit admin apply: %v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{"~ permission set PowerUserAccess: scope", "~ permission set AdministratorAccess: arn (none -> arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef), grant_path (role -> identity_center), role_name (AdministratorAccess -> none), scope",
		"+ permission set group powerful", "+ approval rule 333333333333/group:powerful", "+ admin group:admins", "applied: registry version 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	first := h.export()
	exported := writeFile(t, "exported.yaml", first)
	for _, f := range []string{exported, org} {
		if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", f); err != nil || strings.TrimSpace(out) != "no changes" {
			t.Fatalf("re-apply %s: %v\n%s%s; want \"no changes\"", filepath.Base(f), err, out, errOut)
		}
	}
	if second := h.export(); second != first {
		t.Fatalf("second export differs from the first:\n--- first\n%s\n--- second\n%s", first, second)
	}
	for _, want := range []string{"max_duration: 4h\n", "deadline: 4h\n", "admins: [carol@example.com, 'group:admins']\n"} {
		if !strings.Contains(first, want) {
			t.Errorf("export lacks %q:\n%s", want, first)
		}
	}
	// Export to a file gives the same bytes.
	path := filepath.Join(t.TempDir(), "o.yaml")
	if _, errOut, err := h.jit("carol@example.com", "admin", "export", "-o", path); err != nil {
		t.Fatalf("jit admin export -o: %v\n%s", err, errOut)
	}
	if b, _ := os.ReadFile(path); string(b) != first {
		t.Errorf("export -o wrote other bytes than stdout")
	}
}

// Bad files, dry runs and non-admins change nothing.
func TestAdminApplyChangesNothingWhenRefused(t *testing.T) {
	h := newHarness(t)
	before := h.export()
	for _, tc := range []struct {
		name    string
		user    string
		file    string
		args    []string
		want    string
		wantErr bool
	}{
		{"unknown key", "carol@example.com", strings.Replace(before, "    role_name: ReadOnlyAccess", "    role_nme: ReadOnlyAccess", 1), nil, `:8: unknown key "role_nme"`, true},
		{"wrong type", "carol@example.com", strings.Replace(before, "        required: 1", "        required: lots", 1), nil, fmt.Sprintf(`:%d: "lots" is not a number`, lineIn(before, "        required: 1")), true},
		{"bare number duration", "carol@example.com", strings.Replace(before, "max_duration: 12h", "max_duration: 12", 1), nil, `:9: "12" is not a duration`, true},
		{"more approvals than approvers", "carol@example.com", strings.Replace(before, "        required: 1", "        required: 2", 1), nil,
			fmt.Sprintf(":%d: approval_rules[0].stages[0].required: needs 2 approvals but the stage names only 1 approvers", lineIn(before, "        required: 1")), true},
		{"unknown permission set in a rule", "carol@example.com", strings.Replace(before, "  - account: '*'\n", "  - account: '*'\n    permission_set: God\n", 1), nil,
			fmt.Sprintf(`:%d: approval_rules[0].permission_set: permission set "God" is not registered`, lineIn(before, "  - account: '*'\n")+1), true},
		{"two documents", "carol@example.com", before + "---\n" + before, nil, "only one YAML document", true},
		{"dry run", "carol@example.com", strings.Replace(before, "name: prod,", "name: production,", 1), []string{"--dry-run"},
			"~ account 333333333333: name (prod -> production)\ndry run: nothing applied", false},
		{"not an admin", "alice@example.com", strings.Replace(before, "name: prod,", "name: production,", 1), nil, "alice@example.com is not an administrator", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "org.yaml", tc.file)
			out, errOut, err := h.jit(tc.user, append([]string{"admin", "apply", "-f", path}, tc.args...)...)
			if (err != nil) != tc.wantErr || !strings.Contains(out+errOut, tc.want) {
				t.Fatalf("jit admin apply: err=%v\nstdout: %s\nstderr: %s\nwant error=%v and %q", err, out, errOut, tc.wantErr, tc.want)
			}
			if after := h.export(); after != before {
				t.Fatalf("the registry changed:\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}
}

// The harness's sandbox serves Organizations and Identity Center: import
// through the CLI.
func TestAdminImport(t *testing.T) {
	h := newHarness(t)
	out, errOut, err := h.jit("carol@example.com", "admin", "accounts", "import")
	if err != nil || strings.TrimSpace(out) != "no changes" {
		t.Fatalf("accounts import: %v\n%s%s; want no changes (the demo accounts are registered)", err, out, errOut)
	}
	out, errOut, err = h.jit("carol@example.com", "admin", "permission-sets", "import", "--dry-run")
	if err != nil || !strings.Contains(out, "~ permission set ReadOnlyAccess: arn (none -> arn:aws:sso:::permissionSet/") || !strings.Contains(out, "dry run") {
		t.Fatalf("permission-sets import --dry-run: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err = h.jit("alice@example.com", "admin", "accounts", "import"); err == nil || !strings.Contains(errOut, "not an administrator") {
		t.Fatalf("accounts import as alice: %v %s", err, errOut)
	}
	if out, errOut, err = h.jit("carol@example.com", "admin", "permission-sets", "import"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("permission-sets import: %v\n%s%s", err, out, errOut)
	}
	if exp := h.export(); !strings.Contains(exp, "arn: arn:aws:sso:::permissionSet/") {
		t.Errorf("export after import has no ARNs:\n%s", exp)
	}
}

// startReplica runs a second `jit serve` on the harness's Redis database
// and returns its URL.
func (h *harness) startReplica() string {
	h.t.Helper()
	cfg, err := os.ReadFile(h.cfgPath)
	if err != nil {
		h.t.Fatal(err)
	}
	addr := freeAddr(h.t)
	cfg = bytes.Replace(cfg, []byte("listen: "+strings.TrimPrefix(h.apiURL, "http://")), []byte("listen: "+addr), 1)
	path := writeFile(h.t, "replica.yaml", string(cfg))
	var logs bytes.Buffer
	proc := exec.Command(jitBin, "serve", "--config", path, "--no-worker")
	proc.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+sandbox.DemoBrokerAccessKeyID, "AWS_SECRET_ACCESS_KEY="+sandbox.DemoBrokerSecretAccessKey,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	proc.Stdout, proc.Stderr = &logs, &logs
	if err := proc.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() {
		proc.Process.Signal(syscall.SIGTERM)
		proc.Wait()
		if h.t.Failed() {
			h.t.Logf("replica output:\n%s", logs.String())
		}
	})
	url := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return url
			}
		}
	}
	h.t.Fatalf("replica did not become ready:\n%s", logs.String())
	return ""
}

// statusAs returns the status of GET path on the server at url, as user.
func (h *harness) statusAs(url, user, path string) int {
	h.t.Helper()
	req, _ := http.NewRequest("GET", url+path, nil)
	req.Header.Set("Authorization", "Bearer "+h.token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A registry change applied through one server is enforced by another
// server on the same Redis within a second.
func TestAdminChangeReachesOtherReplica(t *testing.T) {
	h := newHarness(t)
	replica := h.startReplica()
	if got := h.statusAs(replica, "dave@example.com", "/api/v1/registry"); got != 403 {
		t.Fatalf("dave reads the registry on the replica before the change: %d, want 403", got)
	}
	before := h.export()
	org := writeFile(t, "org.yaml", strings.Replace(before, "admins: [carol@example.com]", "admins: [carol@example.com, dave@example.com]", 1))
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", org); err != nil || !strings.Contains(out, "+ admin dave@example.com") {
		t.Fatalf("apply through the first server: %v\n%s%s", err, out, errOut)
	}
	applied := time.Now()
	for {
		if got := h.statusAs(replica, "dave@example.com", "/api/v1/registry"); got == 200 {
			t.Logf("the replica enforced the change %s after the apply returned", time.Since(applied).Round(time.Millisecond))
			return
		}
		if time.Since(applied) > time.Second {
			t.Fatal("the replica did not enforce the change within a second")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Example_adminExport shows the file `jit admin export` writes.
func Example_adminExport() {
	data, _ := marshalRegistryYAML(broker.RegistryData{
		Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: 90 * time.Minute,
			ApprovalRequired: true, GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"engineers"}}}},
		ApprovalRules: []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}, Deadline: 4 * time.Hour}},
		Admins:        []string{"carol@example.com"},
	})
	os.Stdout.Write(data)
	// Output:
	// # JIT registry. Apply with: jit admin apply -f FILE (schema: docs/registry.md)
	// accounts:
	//   - {id: "111111111111", name: dev}
	// permission_sets:
	//   - name: ReadOnlyAccess
	//     role_name: ReadOnlyAccess
	//     max_duration: 1h30m
	//     approval_required: true
	//     grant_path: role
	//     scope: {accounts: ['*'], requester_groups: [engineers]}
	// approval_rules:
	//   - account: '*'
	//     stages:
	//       - approvers: [bob@example.com]
	//         required: 1
	//     deadline: 4h
	// admins: [carol@example.com]
}

// lineIn returns the 1-based line where s first contains sub.
func lineIn(s, sub string) int {
	return strings.Count(s[:strings.Index(s, sub)], "\n") + 1
}

// `jit admin --help` (and -h, help) prints the admin usage and succeeds,
// without calling the help flag an unknown command; an unknown command is
// still refused with the usage.
func TestAdminHelp(t *testing.T) {
	for _, help := range []string{"--help", "-h", "-help", "help"} {
		var stdout, stderr bytes.Buffer
		err := run(t.Context(), []string{"admin", help}, &stdout, &stderr)
		out := stdout.String() + stderr.String()
		if err != nil || strings.Contains(out, "unknown") || !strings.Contains(stdout.String(), "jit admin apply -f FILE") {
			t.Errorf("jit admin %s: err=%v\n%s", help, err, out)
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"admin", "frobnicate"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), `unknown admin command "frobnicate"`) {
		t.Errorf("jit admin frobnicate: %v, want an unknown command refused", err)
	}
}

// A rule's escalation goes through the registry file both ways.
func TestAdminApplyEscalation(t *testing.T) {
	h := newHarness(t)
	before := h.export()
	with := strings.Replace(before, "  - account: '*'\n", "  - account: '*'\n    escalate_before: 1h\n    escalate_to: ['group:leads', dave@example.com]\n", 1)
	if with == before {
		t.Fatalf("no catch-all rule in:\n%s", before)
	}
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "esc.yaml", with)); err != nil {
		t.Fatalf("apply with an escalation: %v\n%s%s", err, out, errOut)
	}
	after := h.export()
	if !strings.Contains(after, "escalate_before: 1h\n") || !strings.Contains(after, "escalate_to: ['group:leads', dave@example.com]\n") {
		t.Fatalf("export after the escalation:\n%s", after)
	}
	half := strings.Replace(before, "  - account: '*'\n", "  - account: '*'\n    escalate_before: 1h\n", 1)
	if _, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "half.yaml", half)); err == nil || !strings.Contains(errOut, "escalate_to: is required") {
		t.Fatalf("half an escalation: %v %s", err, errOut)
	}
}

// TestAdminApplyWorkloads: a workload goes through jit admin apply and
// export unchanged, shows in the diff, and a bad one is refused naming its
// line and field.
func TestAdminApplyWorkloads(t *testing.T) {
	h := newHarness(t)
	before := h.export()
	entry := `workloads:
  - name: deploy-prod
    issuer: https://token.actions.githubusercontent.com
    audience: jit
    claims:
      ref: refs/heads/main
      repository: org/repo
    accounts: ["333333333333"]
    permission_sets: [ReadOnlyAccess]
    max_duration: 1h
`
	with := before + entry
	out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "wl.yaml", with))
	if err != nil {
		t.Fatalf("apply with a workload: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "+ workload deploy-prod") {
		t.Errorf("apply output does not show the workload:\n%s", out)
	}
	after := h.export()
	for _, want := range []string{"name: deploy-prod", "issuer: https://token.actions.githubusercontent.com", "ref: refs/heads/main", "max_duration: 1h"} {
		if !strings.Contains(after, want) {
			t.Errorf("export lacks %q:\n%s", want, after)
		}
	}
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "again.yaml", after)); err != nil || !strings.Contains(out, "no changes") {
		t.Errorf("applying the export again: %v\n%s%s", err, out, errOut)
	}
	sso := strings.Replace(with, "permission_sets: [ReadOnlyAccess]", "permission_sets: [ReadOnlySSO]", 1)
	if _, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "sso.yaml", sso)); err == nil || !strings.Contains(errOut, "grants through Identity Center") {
		t.Errorf("a workload with an Identity Center set: %v %s", err, errOut)
	}
	plain := strings.Replace(with, "https://token", "http://token", 1)
	if _, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "http.yaml", plain)); err == nil || !strings.Contains(errOut, "workloads[0].issuer") {
		t.Errorf("a workload with an http issuer: %v %s", err, errOut)
	}
}

// A rule's requester group and step-up, a permission set's step-up and the
// limits go through the registry file both ways, and a bad one is refused
// naming the field.
func TestAdminApplyGroupsLimitsStepUp(t *testing.T) {
	h := newHarness(t)
	before := h.export()
	rule := "approval_rules:\n  - account: '*'\n    requester_group: contractors\n    step_up_max_age: 10m\n    step_up_amr: [mfa]\n    stages:\n      - approvers: [bob@example.com]\n        required: 1\n"
	with := strings.Replace(before, "approval_rules:\n", rule, 1)
	with = strings.Replace(with, "    max_duration: 12h\n", "    max_duration: 12h\n    step_up_max_age: 15m\n    step_up_acr: [gold]\n", 1)
	with = regexp.MustCompile(`(?m)^limits:.*\n(  .*\n)*`).ReplaceAllString(with, "")
	with += "limits:\n  max_open_tickets_per_beneficiary: 4\n  overlapping_tickets: allow\n"
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "org.yaml", with)); err != nil {
		t.Fatalf("apply: %v\n%s%s\n%s", err, out, errOut, with)
	}
	after := h.export()
	for _, want := range []string{"requester_group: contractors\n", "step_up_max_age: 10m\n", "step_up_amr: [mfa]\n", "step_up_max_age: 15m\n",
		"step_up_acr: [gold]\n", "max_open_tickets_per_beneficiary: 4\n", "overlapping_tickets: allow\n"} {
		if !strings.Contains(after, want) {
			t.Errorf("export lacks %q:\n%s", want, after)
		}
	}
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "again.yaml", after)); err != nil || !strings.Contains(out+errOut, "no changes") {
		t.Errorf("applying the export again: %v %s%s, want no changes", err, out, errOut)
	}
	for bad, msg := range map[string]string{
		strings.Replace(after, "requester_group: contractors", "requester_group: 'two groups'", 1): "requester_group",
		strings.Replace(after, "overlapping_tickets: allow", "overlapping_tickets: sometimes", 1):  "limits.overlapping_tickets",
		strings.Replace(after, "step_up_max_age: 10m", "step_up_max_age: 10s", 1):                  "step_up_max_age",
	} {
		if _, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", writeFile(t, "bad.yaml", bad)); err == nil || !strings.Contains(errOut, msg) {
			t.Errorf("bad %s: %v %s", msg, err, errOut)
		}
	}
}
