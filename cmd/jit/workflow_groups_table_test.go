package main

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The decision table's requester group dimension: who approves a ticket
// depends on the groups its requester's sign-in carried when filing, and
// the most specific rule wins (account, then permission set, then
// requester group; of two matching groups, the first in byte order).
func TestWorkflowDecisionTableRequesterGroups(t *testing.T) {
	h := newWorkflowHarness(t)
	// dave files every ticket, signed in with the groups of each case (the
	// sandbox's directory knows only alice, bob, carol and dave).
	groups := map[string][]string{
		"ops":         {"ops"},
		"none":        {"other"},
		"frank":       {"contractors", "ops"},
		"contractors": {"contractors"},
		"hank":        {"contractors", "auditors"},
	}
	one := func(who string) []map[string]any { return []map[string]any{{"approvers": []string{who}}} }
	h.putRule(map[string]any{"account": dev, "permission_set": ro, "requester_group": "ops", "stages": one("a1@example.com")})
	h.putRule(map[string]any{"account": "*", "requester_group": "contractors", "stages": one("a2@example.com")})
	h.putRule(map[string]any{"account": "*", "requester_group": "auditors", "stages": one("a3@example.com")})

	file := func(as, account, ps string) string {
		t.Helper()
		who := "dave@example.com"
		h.as(who, groups[as]...)
		return h.file(who, map[string]any{"account_id": account, "permission_set": ps, "beneficiaries": []string{who},
			"start": rfc(time.Now().Add(time.Hour)), "duration": "1h", "reason": "groups table"})
	}
	cases := []struct {
		groups, account, ps string
		approver            string   // approves: 200, approved
		others              []string // may not: 404
	}{
		// A rule naming the requester's group beats the rule naming none for the same account and set.
		{"ops", dev, ro, "a1@example.com", []string{"bob@example.com", "a2@example.com"}},
		// A requester in no named group gets the rule naming none.
		{"none", dev, ro, "bob@example.com", []string{"a1@example.com", "a2@example.com"}},
		// The group rule is for ReadOnlyAccess only: dev PowerUserAccess keeps its rule (group approvers: bob).
		{"ops", dev, pu, "bob@example.com", []string{"a1@example.com"}},
		// The account and set come first: dev ReadOnlyAccess for ops beats "*" for contractors.
		{"frank", dev, ro, "a1@example.com", []string{"a2@example.com", "bob@example.com"}},
		// staging AdministratorAccess (no group) beats "*" for contractors.
		{"contractors", staging, admin, "bob@example.com", []string{"a2@example.com"}},
		// Nothing more specific for gina in dev: "*" for contractors beats "*" for anyone.
		{"contractors", dev, ro, "a2@example.com", []string{"bob@example.com", "a1@example.com"}},
		// Two matching groups at the same level: the first in byte order (auditors) wins.
		{"hank", dev, ro, "a3@example.com", []string{"a2@example.com", "bob@example.com"}},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d_%s_%s_%s", i, c.groups, c.account, c.ps), func(t *testing.T) {
			id := file(c.groups, c.account, c.ps)
			for _, o := range c.others {
				if code, _, m := h.call(o, "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusNotFound {
					t.Errorf("%s approves: %d %v, want 404", o, code, m)
				}
			}
			if code, tk, m := h.call(c.approver, "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusOK || tk.State != broker.StateApproved {
				t.Errorf("%s approves: %d %v, want 200 and approved", c.approver, code, m)
			}
		})
	}

	// Mid-flight: the groups captured at filing choose the rule (as every
	// later check of the ticket uses them), against the rules in force.
	t.Run("groups_captured_at_filing", func(t *testing.T) {
		id := file("ops", dev, ro)
		h.as("dave@example.com", "contractors") // the identity provider moves them
		if code, _, m := h.call("a2@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusNotFound {
			t.Errorf("a2 (contractors' rule) approves: %d %v, want 404", code, m)
		}
		if code, tk, m := h.call("a1@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusOK || tk.State != broker.StateApproved {
			t.Errorf("a1 (ops' rule) approves: %d %v, want 200", code, m)
		}
	})
	t.Run("group_rule_removed_after_filing", func(t *testing.T) {
		id := file("ops", dev, ro)
		q := url.Values{"account": {dev}, "permission_set": {ro}, "requester_group": {"ops"}}
		if code, m := h.api("carol@example.com", "DELETE", "/api/v1/approval-rules?"+q.Encode(), nil); code != http.StatusOK {
			t.Fatalf("delete the ops rule: %d %v", code, m)
		}
		defer h.putRule(map[string]any{"account": dev, "permission_set": ro, "requester_group": "ops", "stages": one("a1@example.com")})
		if code, _, m := h.call("a1@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusNotFound {
			t.Errorf("a1 approves under the removed rule: %d %v, want 404", code, m)
		}
		if code, tk, m := h.call("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != http.StatusOK || tk.State != broker.StateApproved {
			t.Errorf("bob (the rule now in force) approves: %d %v, want 200", code, m)
		}
	})
	t.Run("bad_group_rule_refused", func(t *testing.T) {
		r := map[string]any{"account": "*", "requester_group": "contractors", "stages": one("a2@example.com")}
		// PutApprovalRule replaces by (account, set, group): a second put is a replacement, not a duplicate.
		h.putRule(r)
		if code, m := h.api("carol@example.com", "POST", "/api/v1/approval-rules", map[string]any{"account": "*", "requester_group": "no group", "stages": one("a2@example.com")}); code != http.StatusBadRequest {
			t.Errorf("a requester group with a space: %d %v, want 400", code, m)
		}
	})
}
