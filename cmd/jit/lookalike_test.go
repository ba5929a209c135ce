package main

import (
	"strings"
	"testing"
)

// Issue 19, finding 5, through the real server: identifiers are normalised
// once at the token and compared exactly, so look-alike and padded group
// names (and look-alike emails) match nothing they resemble: not ticket
// visibility, not activity, not the enforcer.
func TestLookAlikeIdentities(t *testing.T) {
	reg := strings.Replace(string(devConfig), "- approvers: [bob@example.com]", "- approvers: [\"group:security\"]", 1)
	reg = strings.Replace(reg, "admins: [carol@example.com]", "admins: [carol@example.com, \"group:admins\", kate@example.com]", 1)
	if reg == string(devConfig) || !strings.Contains(reg, "group:admins") || !strings.Contains(reg, "group:security") {
		t.Fatal("dev.yaml no longer has the lines this test edits")
	}
	h := newHarnessWith(t, reg)
	h.as("fay@example.com", "security")
	h.as("kate@example.com")
	h.as("pat@example.com", "admins")
	lookAlikes := map[string][]string{
		"erin@example.com":      {"\u017fecurity"},                                    // long s
		"gil@example.com":       {"\uff53\uff45\uff43\uff55\uff52\uff49\uff54\uff59"}, // fullwidth
		"hal@example.com":       {"Security", " security "},                           // case, padding
		"ida@example.com":       {" admins ", "Admins", "\u0430dmins"},                // padding, case, Cyrillic a
		"\u212Aate@example.com": nil,                                                  // Kelvin sign, not kate
	}
	for who, groups := range lookAlikes {
		h.as(who, groups...)
	}

	id := h.file("alice@example.com", map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "look-alikes"})
	path := "/api/v1/tickets/" + id
	if code, m := h.api("fay@example.com", "GET", path, nil); code != 200 {
		t.Fatalf("fay (group security) reads the ticket: %d %v", code, m)
	}
	for _, who := range []string{"fay@example.com", "kate@example.com", "pat@example.com"} {
		_, _, admin := h.meAdmin(who)
		if want := who != "fay@example.com"; admin != want {
			t.Errorf("%s admin = %v, want %v", who, admin, want)
		}
	}
	for who := range lookAlikes {
		for _, p := range []string{path, path + "/activity"} {
			if code, m := h.api(who, "GET", p, nil); code != 404 {
				t.Errorf("%s %v reads %s: %d %v, want 404", who, lookAlikes[who], p, code, m)
			}
		}
		if code, m := h.api(who, "POST", path+"/approve", map[string]string{"comment": "ok"}); code/100 == 2 {
			t.Errorf("%s %v approved: %d %v", who, lookAlikes[who], code, m)
		}
		if status, code, admin := h.meAdmin(who); status != 200 || admin {
			t.Errorf("%s %v: /me %d %q admin=%v, want not admin", who, lookAlikes[who], status, code, admin)
		}
		if code, m := h.api(who, "GET", "/api/v1/registry", nil); code != 403 {
			t.Errorf("%s %v reads the registry: %d %v, want 403", who, lookAlikes[who], code, m)
		}
	}
	if tk := h.get(id); tk.State != "pending" || len(tk.Approvals) != 0 {
		t.Fatalf("ticket after the look-alikes: %s %v", tk.State, tk.Approvals)
	}
	h.must("fay@example.com", "POST", path+"/approve", map[string]string{"comment": "ok"})
}
