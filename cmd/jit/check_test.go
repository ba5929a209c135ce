package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jitaccess/jit/federation/sandbox"
)

// adminCheck runs `jit admin check` in-process with the broker's key
// against a sandbox of f and the dev registry as the config's seed.
func adminCheck(t *testing.T, f *sandbox.Fixture, args ...string) (string, error) {
	t.Helper()
	return adminCheckWith(t, f, string(devConfig), args...)
}

// adminCheckWith is adminCheck with registry (the registry part of a
// config file) in place of dev.yaml.
func adminCheckWith(t *testing.T, f *sandbox.Fixture, registry string, args ...string) (string, error) {
	t.Helper()
	sb, err := sandbox.New(*f, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	db := int(nextDB.Add(1))
	cfg := registry + fmt.Sprintf(`
redis:
  url: redis://%s/%d
oidc:
  issuer: http://127.0.0.1:1
  client_ids: [jit]
aws:
  region: us-east-1
  endpoint: %s
  management_role: %s
  identity_center:
    instance_arn: arn:aws:sso:::instance/ssoins-72230000jitdemo1
    identity_store_id: d-9067000001
`, redisAddr, db, srv.URL, sandbox.DemoManagementRole)
	path := filepath.Join(t.TempDir(), "jit.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", sandbox.DemoBrokerAccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sandbox.DemoBrokerSecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	var stdout, stderr strings.Builder
	err = runAdminCheck(context.Background(), append([]string{"--config", path}, args...), &stdout, &stderr)
	return stdout.String(), err
}

// squeeze collapses runs of spaces, so that checks do not depend on the
// table's column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// TestAdminCheck runs `jit admin check` on the roles of member.yaml: every
// check passes; then with one role's trust policy lacking sts:TagSession,
// it exits non-zero and names the fault.
func TestAdminCheck(t *testing.T) {
	out, err := adminCheck(t, cloudFormationFixture(t))
	if err != nil {
		t.Fatalf("check on member.yaml: %v\n%s", err, out)
	}
	for _, want := range []string{"ok assume management role jit-broker in 222222222222", "ok mint ticket session ReadOnlyAccess in 333333333333",
		"ok read what it grants ReadOnlyAccess in 222222222222", "ok read what it grants ReadOnlySSO in 111111111111",
		"ok read and write deny list AdministratorAccess in 111111111111", "ok CloudTrail LookupEvents 222222222222", "ok Identity Center permission set ReadOnlySSO"} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a check failed:\n%s", out)
	}

	f := cloudFormationFixture(t)
	for i, r := range f.Roles {
		if r.Account == "222222222222" && r.Name == "ReadOnlyAccess" {
			f.Roles[i].TrustActions = slices.DeleteFunc(slices.Clone(r.TrustActions), func(a string) bool { return a == "sts:TagSession" })
		}
	}
	out, err = adminCheck(t, f)
	if err == nil || !strings.Contains(err.Error(), "1 of ") {
		t.Fatalf("err = %v, want 1 check failed\n%s", err, out)
	}
	for _, want := range []string{"FAIL mint ticket session ReadOnlyAccess in 222222222222", "trust policy of ReadOnlyAccess in 222222222222 does not allow sts:TagSession", "fix: deploy the role"} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
