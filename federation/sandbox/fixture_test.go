package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDemoFixture(t *testing.T) {
	f := DemoFixture()
	if err := f.withDefaults().validate(); err != nil {
		t.Fatal(err)
	}
	if len(f.Accounts) != 3 || len(f.Roles) != 12 || len(f.Users) != 1 || !f.Users[0].Admin {
		t.Errorf("DemoFixture = %d accounts, %d roles, %d users", len(f.Accounts), len(f.Roles), len(f.Users))
	}
}

func TestLoadFixture(t *testing.T) {
	write := func(t *testing.T, body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "fixture.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `
accounts:
  - {id: "111111111111", name: dev}
roles:
  - account: "111111111111"
    name: Deploy
    trusted_principals: ["arn:aws:iam::111111111111:user/ci"]
    policies:
      all: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}'
users:
  - {account: "111111111111", name: ci, access_key_id: AKIACI0000000000000X, secret_access_key: ci-secret-0000000000, admin: false}
`
	f, err := LoadFixture(write(t, good))
	if err != nil {
		t.Fatal(err)
	}
	want := Role{Account: "111111111111", Name: "Deploy", Path: "/", MaxSessionDuration: 3600,
		TrustedPrincipals: []string{"arn:aws:iam::111111111111:user/ci"},
		TrustActions:      []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"},
		Policies:          map[string]string{"all": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`}}
	if diff := cmp.Diff(want, f.Roles[0]); diff != "" || f.Partition != "aws" || f.Region != "us-east-1" {
		t.Errorf("defaults (-want +got):\n%s partition=%s region=%s", diff, f.Partition, f.Region)
	}

	bad := map[string]string{
		"unknown key":       "accounts: [{id: \"111111111111\", nmae: dev}]",
		"account id":        "accounts: [{id: \"1234\"}]",
		"role account":      "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"222222222222\", name: R}]",
		"role name":         "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: \"bad name\"}]",
		"duration":          "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: R, max_session_duration: 100}]",
		"trust action":      "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: R, trust_actions: [\"sts:*\"]}]",
		"policy":            "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: R, policies: {p: \"{}\"}}]",
		"user key":          "accounts: [{id: \"111111111111\"}]\nusers: [{account: \"111111111111\", name: u, access_key_id: ASIAXXXXXXXXXXXXXXXX, secret_access_key: 0123456789abcdef}]",
		"partition":         "partition: azure\naccounts: [{id: \"111111111111\"}]",
		"no accounts":       "region: us-east-1",
		"duplicate role":    "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: R}, {account: \"111111111111\", name: r}]",
		"trusted principal": "accounts: [{id: \"111111111111\"}]\nroles: [{account: \"111111111111\", name: R, trusted_principals: [bob]}]",
	}
	wantField := map[string]string{
		"unknown key": "nmae", "account id": "accounts[0].id", "role account": "roles[0].account", "role name": "roles[0].name",
		"duration": "roles[0].max_session_duration", "policy": "roles[0].policies[p]", "user key": "users[0].access_key_id",
		"partition": "partition", "no accounts": "accounts", "duplicate role": "roles[1].name", "trusted principal": "roles[0].trusted_principals[0]",
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := LoadFixture(write(t, body))
			if err == nil || !strings.Contains(err.Error(), wantField[name]) {
				t.Errorf("LoadFixture = %v, want an error naming %s", err, wantField[name])
			}
		})
	}
}
