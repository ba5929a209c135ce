package main

import (
	"strings"
	"testing"
)

// `jit reconcile` reports what it changed: on a fresh system with role
// permission sets in several accounts nothing has expired, so no deny
// entry is pruned (it used to print one "Deny lists pruned" per list it
// looked at, on every run).
func TestReconcileCountsChangesOnly(t *testing.T) {
	h := newHarness(t)
	out, errOut, err := h.jit("carol@example.com", "reconcile")
	if err != nil {
		t.Fatalf("jit reconcile: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "Deny entries pruned:    0 (in 0 lists)\n") || strings.Contains(out, "Account ") {
		t.Errorf("output:\n%s\nwant nothing pruned and no account listed", out)
	}
}
