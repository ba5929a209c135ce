package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 19, findings 6 and 7, through the real server: a delegate can
// decline, being someone's delegate does not stop anyone delegating their
// own approvals, a cycle is refused when a decision is made, and no
// delegation error tells a caller about delegations they are not part of.
func TestDelegationRules(t *testing.T) {
	h := newHarness(t) // dev.yaml: bob approves every ticket
	h.as("erin@example.com")
	h.as("frank@example.com")
	now := time.Now().UTC()
	window := func(d time.Duration) map[string]string {
		return map[string]string{"start": rfc(now), "end": rfc(now.Add(d))}
	}
	delegate := func(from, to string, d time.Duration) (int, map[string]any) {
		t.Helper()
		body := window(d)
		body["to"] = to
		code, _, m := h.call(from, "POST", "/api/v1/delegations", body)
		return code, m
	}
	mustDelegate := func(from, to string, d time.Duration) string {
		t.Helper()
		code, m := delegate(from, to, d)
		if code != http.StatusCreated {
			t.Fatalf("%s delegates to %s: %d %v, want 201", from, to, code, m)
		}
		id, _ := m["id"].(string)
		return id
	}
	year := 366*24*time.Hour - time.Minute

	// dave delegates to bob for a year, unasked.
	daveToBob := mustDelegate("dave@example.com", "bob@example.com", year)
	// bob, dave's delegate, still delegates his own approvals.
	mustDelegate("bob@example.com", "erin@example.com", 24*time.Hour)

	id := h.file("alice@example.com", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "delegation rules"})
	path := "/api/v1/tickets/" + id
	if code, _ := h.api("erin@example.com", "GET", path, nil); code != 200 {
		t.Fatalf("erin, bob's delegate, reads bob's ticket: %d, want 200", code)
	}

	// erin delegates back to bob: a cycle. Making it is allowed (it says
	// nothing about bob's delegations), but while both are in force erin
	// cannot act for bob.
	erinToBob := mustDelegate("erin@example.com", "bob@example.com", time.Hour)
	if code, _ := h.api("erin@example.com", "GET", path, nil); code != 404 {
		t.Errorf("erin reads bob's ticket through a cycle: %d, want 404", code)
	}
	if code, _, m := h.call("erin@example.com", "POST", path+"/approve", map[string]string{"comment": "ok"}); code/100 == 2 {
		t.Fatalf("erin approved for bob through a cycle: %d %v", code, m)
	}
	if tk := h.get(id); len(tk.Approvals) != 0 || tk.State != "pending" {
		t.Fatalf("after the refused approval: %s with %v", tk.State, tk.Approvals)
	}
	// The cycle broken, erin acts for bob.
	if code, m := h.api("erin@example.com", "DELETE", "/api/v1/delegations/"+erinToBob, nil); code != 204 {
		t.Fatalf("erin deletes her delegation: %d %v", code, m)
	}
	tk := h.must("erin@example.com", "POST", path+"/approve", map[string]string{"comment": "for bob"})
	if len(tk.Approvals) != 1 || tk.Approvals[0].By != "erin@example.com" || tk.Approvals[0].For != "bob@example.com" {
		t.Fatalf("approvals %+v, want erin for bob", tk.Approvals)
	}

	// frank probes dave's and bob's delegations: every answer is about
	// frank's own, whatever the window.
	var said []string
	for _, c := range []struct {
		to   string
		d    time.Duration
		want int
	}{
		{"dave@example.com", time.Hour, 201},        // dave has delegated away: not frank's business
		{"bob@example.com", 2 * time.Hour, 201},     // bob is dave's delegate and erin's delegator
		{"erin@example.com", 3 * time.Hour, 201},    // erin is bob's delegate
		{"dave@example.com", 30 * time.Minute, 409}, // frank's own overlap
	} {
		code, m := delegate("frank@example.com", c.to, c.d)
		if code != c.want {
			t.Errorf("frank delegates to %s for %s: %d %v, want %d", c.to, c.d, code, m, c.want)
		}
		said = append(said, toJSON(m))
	}
	code, m := h.api("frank@example.com", "DELETE", "/api/v1/delegations/"+daveToBob, nil)
	if code != 404 {
		t.Errorf("frank deletes dave's delegation: %d %v, want 404", code, m)
	}
	said = append(said, toJSON(m))
	code, m = h.api("frank@example.com", "GET", "/api/v1/delegations", nil)
	if list, _ := m["delegations"].([]any); code != 200 || len(list) != 3 {
		t.Errorf("frank's delegations: %d %v, want his 3", code, m)
	}
	for _, s := range said {
		for _, other := range []string{"bob@example.com\" has", "has delegated", "acts as delegate", "erin@example.com\",\"start", daveToBob + " is"} {
			if strings.Contains(s, other) {
				t.Errorf("an answer to frank reveals others' delegations (%q): %s", other, s)
			}
		}
		if strings.Contains(s, `"code"`) && (strings.Contains(s, "bob@") || strings.Contains(s, "erin@")) {
			t.Errorf("an error to frank names someone else: %s", s)
		}
	}

	// bob declines dave's year-long delegation.
	if code, m := h.api("bob@example.com", "DELETE", "/api/v1/delegations/"+daveToBob, nil); code != 204 {
		t.Fatalf("bob declines dave's delegation: %d %v, want 204", code, m)
	}
	code, m = h.api("dave@example.com", "GET", "/api/v1/delegations", nil)
	if list, _ := m["delegations"].([]any); code != 200 || len(list) != 1 { // frank's to dave
		t.Errorf("dave's delegations after bob declined: %d %v, want only frank's", code, m)
	}
	// The CLI's decline does the same for the delegate.
	frankToErin := ""
	_, m = h.api("erin@example.com", "GET", "/api/v1/delegations", nil)
	for _, d := range m["delegations"].([]any) {
		if d := d.(map[string]any); d["from"] == "frank@example.com" {
			frankToErin, _ = d["id"].(string)
		}
	}
	out, errOut, err := h.jit("erin@example.com", "delegations", "decline", frankToErin)
	if err != nil || !strings.Contains(out, "Declined delegation "+frankToErin) {
		t.Fatalf("jit delegations decline: %v\n%s%s", err, out, errOut)
	}
	if _, errOut, err := h.jit("erin@example.com", "delegations", "decline", frankToErin); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("declining twice: %v %s, want not found", err, errOut)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Issue 11, bug 1, through the real server: when a stage's only approver
// is a group, a member's delegate approves for them, with the groups the
// directory lists for the delegator at that moment (directory.groups).
func TestGroupDelegateApproves(t *testing.T) {
	cfg := strings.Replace(string(devConfig), "        - approvers: [bob@example.com]\n", "        - approvers: [group:sre]\n", 1) +
		"directory:\n  groups:\n    sre: [lee@example.com, gus@example.com]\n"
	if !strings.Contains(cfg, "group:sre") {
		t.Fatal("dev.yaml's rule changed; update the test")
	}
	h := newHarnessWith(t, cfg)
	h.as("gus@example.com", "sre")
	h.as("dan@example.com")
	now := time.Now().UTC()
	if code, _, m := h.call("gus@example.com", "POST", "/api/v1/delegations",
		map[string]string{"to": "dan@example.com", "start": rfc(now), "end": rfc(now.Add(time.Hour))}); code != http.StatusCreated {
		t.Fatalf("gus delegates to dan: %d %v", code, m)
	}
	id := h.file("alice@example.com", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "group delegate"})
	code, _, m := h.call("dan@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{"comment": "for gus"})
	if code != 200 || m["state"] != "approved" {
		t.Fatalf("dan approves for gus, a member of the stage's group: %d %v, want 200 approved", code, m)
	}
	approvals, _ := m["approvals"].([]any)
	if len(approvals) != 1 {
		t.Fatalf("approvals %v, want one", m["approvals"])
	}
	if a, _ := approvals[0].(map[string]any); a["by"] != "dan@example.com" || a["for"] != "gus@example.com" {
		t.Fatalf("approval %v, want dan for gus", a)
	}
}
