package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// What jit reconcile and jit audit list print from the server besides
// tickets and events (account ids, reasons a pass did not finish, the
// next cursor) is escaped too: a server answer cannot write a raw control
// or bidirectional character to the terminal.
func TestCLIEscapesReconcileAndAuditCursor(t *testing.T) {
	answers := map[string]string{
		"/api/v1/reconcile": `{"accounts": [{"account_id": "1111\u001b[2J", "errors": ["x"]}], "errors": ["ticket t1: AWS said \u001b]0;owned\u0007 \u202egnp.exe"]}`,
		"/api/v1/audit":     `{"events": [], "next": "1-0\u001b[31m\u009b2K"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	for _, args := range [][]string{{"reconcile"}, {"audit", "list"}} {
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), append(args, "--url", srv.URL, "--token", "t"), &stdout, &stderr); err != nil {
			t.Fatalf("jit %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		out := stdout.String()
		if strings.ContainsAny(out, "\x1b\x07\u009b\u202e") {
			t.Errorf("jit %s printed a raw control character:\n%q", strings.Join(args, " "), out)
		}
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("jit %s: %q does not show the escape as \\x1b", strings.Join(args, " "), out)
		}
	}
}
