package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetProfile(t *testing.T) {
	const cp = "/usr/local/bin/jit credentials --ticket t1"
	vals := map[string]string{"credential_process": cp}
	keys := []string{"credential_process"}
	existing := "# my settings\n[default]\nregion=eu-west-1   ; inline comment\noutput = json\n\n" +
		"# prod, via SSO\n[profile prod]\nsso_session = corp\ns3 =\n  max_concurrent_requests = 20\n\n[sso-session corp]\nsso_start_url = https://corp.example.com/start\n"
	tests := []struct {
		name, in, profile, want string
		changed                 bool
	}{
		{"empty file", "", "jit", "[profile jit]\ncredential_process = " + cp + "\n", true},
		{"appended after the others", existing, "jit", existing + "\n[profile jit]\ncredential_process = " + cp + "\n", true},
		{"no final newline", "[default]\nregion = us-east-1", "jit", "[default]\nregion = us-east-1\n\n[profile jit]\ncredential_process = " + cp + "\n", true},
		{"already there", existing + "\n[profile jit]\ncredential_process = " + cp + "\n", "jit", existing + "\n[profile jit]\ncredential_process = " + cp + "\n", false},
		{"spacing of the user kept when equal", "[profile  jit]\ncredential_process=" + cp + "\n", "jit", "[profile  jit]\ncredential_process=" + cp + "\n", false},
		{"other ticket replaced in place",
			"[profile jit]\n# mine\nregion = us-east-1\ncredential_process = /usr/local/bin/jit credentials --ticket t0\noutput = json\n\n# next\n[profile z]\nregion = x\n",
			"jit",
			"[profile jit]\n# mine\nregion = us-east-1\ncredential_process = " + cp + "\noutput = json\n\n# next\n[profile z]\nregion = x\n", true},
		{"key added to a profile without it, before the next section's comment",
			"[profile jit]\nregion = us-east-1\n\n# next\n[profile z]\n",
			"jit",
			"[profile jit]\nregion = us-east-1\ncredential_process = " + cp + "\n\n# next\n[profile z]\n", true},
		{"empty section at the end without newline", "[profile jit]", "jit", "[profile jit]\ncredential_process = " + cp + "\n", true},
		{"default profile", "[default]\nregion = us-east-1\n", "default", "[default]\nregion = us-east-1\ncredential_process = " + cp + "\n", true},
		{"CRLF kept", "[default]\r\nregion = us-east-1\r\n", "jit", "[default]\r\nregion = us-east-1\r\n\r\n[profile jit]\r\ncredential_process = " + cp + "\r\n", true},
		{"nested value not taken for a key", "[profile jit]\ns3 =\n  credential_process = nested\n", "jit", "[profile jit]\ns3 =\n  credential_process = nested\ncredential_process = " + cp + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := setProfile(tt.in, tt.profile, keys, vals, isJitCredentialProcess)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if changed != tt.changed {
				t.Errorf("changed = %v, want %v", changed, tt.changed)
			}
			again, changed, err := setProfile(got, tt.profile, keys, vals, isJitCredentialProcess)
			if err != nil || changed || again != got {
				t.Errorf("second run: changed=%v err=%v", changed, err)
			}
		})
	}
}

func TestSetProfileRefusesOthersProfiles(t *testing.T) {
	for _, in := range []string{
		"[profile jit]\naws_access_key_id = AKIA\n",
		"[profile jit]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n",
		"[profile jit]\ncredential_process = aws-vault exec x --json\n",
	} {
		_, _, err := setProfile(in, "jit", []string{"credential_process"}, map[string]string{"credential_process": "/bin/jit credentials --ticket t"}, isJitCredentialProcess)
		if err == nil || !strings.Contains(err.Error(), "choose another --profile") {
			t.Errorf("%q: err = %v, want a refusal", in, err)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shellJoin([]string{"/Users/a b/bin/jit", "credentials", "--ticket", "t1", "--url", "http://x/?a=1&b=2", "it's"})
	want := `'/Users/a b/bin/jit' credentials --ticket t1 --url 'http://x/?a=1&b=2' 'it'\''s'`
	if got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
