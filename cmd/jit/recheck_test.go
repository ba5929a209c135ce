package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/broker"
)

// Issue 10 §5, end to end: after `jit admin apply` takes alice's group out
// of ReadOnlyAccess's scope, her active ticket gives no more credentials
// (403 with the reason) and her approved ticket is not granted at its
// start: it ends, terminated, with the reason as its closing comment.
func TestRegistryChangeStopsApprovedAndActiveTickets(t *testing.T) {
	h := newHarness(t)
	alice, bob := "alice@example.com", "bob@example.com"
	file := func(start time.Time) string {
		status, out := h.api(alice, "POST", "/api/v1/tickets", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess",
			"start": rfc(start), "duration": "1h", "reason": "recheck"})
		if status != 201 {
			t.Fatalf("file: %d %v", status, out)
		}
		id := out["id"].(string)
		if status, out := h.api(bob, "POST", "/api/v1/tickets/"+id+"/approve", map[string]any{}); status != 200 {
			t.Fatalf("approve: %d %v", status, out)
		}
		return id
	}
	active := file(time.Now())
	h.waitState(active, broker.StateActive, 30*time.Second)
	if status, out := h.api(alice, "POST", "/api/v1/tickets/"+active+"/credentials", nil); status != 200 {
		t.Fatalf("credentials before the change: %d %v", status, out["message"])
	}
	approved := file(time.Now().Add(5 * time.Second))

	// The demo registry with ReadOnlyAccess for the admins group only
	// (alice's sign-in says engineers).
	var cfg Config
	if err := yaml.Unmarshal(devConfig, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Registry.PermissionSets[0].Scope.RequesterGroups = []string{"admins"}
	doc, err := marshalRegistryYAML(cfg.Registry)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, errOut, err := h.jit("carol@example.com", "admin", "apply", "-f", path); err != nil {
		t.Fatalf("jit admin apply: %v\n%s%s", err, out, errOut)
	}
	if st := h.ticket(approved).State; st != broker.StateApproved {
		t.Fatalf("ticket %s is %s before its start; the registry change came too late for this test", approved, st)
	}

	status, out := h.api(alice, "POST", "/api/v1/tickets/"+active+"/credentials", nil)
	if msg, _ := out["message"].(string); status != 403 || !strings.Contains(msg, "may no longer hold ReadOnlyAccess") {
		t.Errorf("credentials after the change: %d %v, want 403 saying she may no longer hold it", status, out["message"])
	}
	tk := h.waitState(approved, broker.StateTerminated, 30*time.Second)
	if tk.Closed == nil || !strings.Contains(tk.Closed.Comment, "alice@example.com may not request ReadOnlyAccess in account 111111111111") {
		t.Errorf("closing record %+v does not give the reason", tk.Closed)
	}
	if len(tk.Sessions) != 0 {
		t.Errorf("sessions %v issued for the refused ticket", tk.Sessions)
	}
}
