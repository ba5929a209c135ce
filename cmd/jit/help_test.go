package main

import (
	"bytes"
	"strings"
	"testing"
)

// No command prints the bearer token from JIT_TOKEN, in its help or its
// usage errors: flag's -help shows every flag's default value.
func TestHelpDoesNotPrintTheToken(t *testing.T) {
	const secret = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXZhbHVl.c2lnbmF0dXJl"
	t.Setenv("JIT_TOKEN", secret)
	commands := [][]string{
		{"serve"}, {"worker"}, {"dev"}, {"dev", "token"}, {"sandbox"},
		{"request"}, {"tickets", "list"}, {"tickets", "get"}, {"approve"}, {"reject"}, {"terminate"},
		{"cancel"}, {"done"}, {"extend"}, {"edit"}, {"delegate"}, {"delegations", "list"}, {"delegations", "delete"},
		{"credentials"}, {"console"}, {"activity"}, {"reconcile"},
		{"login"}, {"logout"}, {"whoami"}, {"configure"}, {"exec"},
		{"admin", "apply"}, {"admin", "export"}, {"admin", "accounts", "import"}, {"admin", "permission-sets", "import"},
	}
	for _, cmd := range commands {
		for _, help := range []string{"-h", "--help", "--no-such-flag"} {
			name := strings.Join(append(cmd, help), " ")
			t.Run(name, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				err := run(t.Context(), append(append([]string{}, cmd...), help), &stdout, &stderr)
				if err == nil {
					t.Fatalf("jit %s succeeded; want the usage", name)
				}
				out := stdout.String() + stderr.String() + err.Error()
				if !strings.Contains(out, "Usage") && !strings.Contains(out, "-") {
					t.Errorf("jit %s printed no usage: %q", name, out)
				}
				if strings.Contains(out, secret) || strings.Contains(out, "c2VjcmV0LXRva2VuLXZhbHVl") {
					t.Errorf("jit %s printed the token:\n%s", name, out)
				}
			})
		}
	}
	// The client commands that bind --token do list it, without a value.
	var stderr bytes.Buffer
	run(t.Context(), []string{"request", "-h"}, &bytes.Buffer{}, &stderr)
	if !strings.Contains(stderr.String(), "-token") || !strings.Contains(stderr.String(), "JIT_TOKEN") {
		t.Errorf("jit request -h does not document --token and JIT_TOKEN:\n%s", stderr.String())
	}
}
