package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// rulesInForceConfig is the registry of TestRulesInForce: one account per
// story, so that changing one rule leaves the others alone.
const rulesInForceConfig = `
registry:
  accounts:
    - {id: "111111111111", name: extensions}
    - {id: "222222222222", name: oversight}
    - {id: "333333333333", name: tighten}
    - {id: "444444444444", name: revisions}
  permission_sets:
    - {name: ReadOnlyAccess, role_name: ReadOnlyAccess, max_duration: 12h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
    - {name: PowerUserAccess, role_name: PowerUserAccess, max_duration: 8h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
  approval_rules:
    - account: "*"
      stages:
        - {approvers: [bob@example.com]}
    - account: "111111111111"
      stages:
        - {approvers: [bob@example.com]}
      extension_stages:
        - {approvers: [x1@example.com, x2@example.com, "group:approvers"], required: 1}
    - account: "222222222222"
      stages:
        - {approvers: [bob@example.com, a1@example.com], required: 1}
    - account: "222222222222"
      permission_set: PowerUserAccess
      stages:
        - {approvers: ["group:approvers"]}
    - account: "444444444444"
      stages:
        - {approvers: [bob@example.com]}
  admins: [carol@example.com]
`

// putRule replaces an approval rule through the admin API, as carol.
func (h *harness) putRule(rule map[string]any) {
	h.t.Helper()
	if code, m := h.api("carol@example.com", "POST", "/api/v1/approval-rules", rule); code/100 != 2 {
		h.t.Fatalf("put rule %v: %d %v", rule, code, m)
	}
}

// Issue 19, findings 2, 3, 8 and 9, through the real server: every
// decision, read and action follows the rules and delegations in force.
func TestRulesInForce(t *testing.T) {
	h := newHarnessWith(t, rulesInForceConfig)
	for email, groups := range map[string][]string{
		"x1@example.com": nil, "x2@example.com": nil, "x3@example.com": nil, "del2@example.com": nil,
		"gm@example.com": {"approvers"}, "del3@example.com": nil,
		"a1@example.com": nil, "del1@example.com": nil, "sec1@example.com": nil,
	} {
		h.as(email, groups...)
	}
	now := time.Now()
	delegate := func(from, to string) string {
		t.Helper()
		code, _, m := h.call(from, "POST", "/api/v1/delegations", map[string]string{"to": to, "start": rfc(now), "end": rfc(now.Add(2 * time.Hour))})
		if code != http.StatusCreated {
			t.Fatalf("delegate %s -> %s: %d %v", from, to, code, m)
		}
		return m["id"].(string)
	}
	file := func(account, ps string, start time.Time) string {
		t.Helper()
		return h.file("alice@example.com", map[string]any{"account_id": account, "permission_set": ps,
			"start": rfc(start), "duration": "1h", "reason": "rules in force"})
	}
	delegate("x2@example.com", "del2@example.com")
	// gm delegates while in the group "approvers", then leaves it: his
	// next sign-in carries no groups.
	delegate("gm@example.com", "del3@example.com")
	h.as("gm@example.com")

	t.Run("extension approvals follow the rule and delegations in force", func(t *testing.T) {
		id := file("111111111111", "ReadOnlyAccess", time.Now())
		path := "/api/v1/tickets/" + id
		h.must("bob@example.com", "POST", path+"/approve", map[string]string{})
		h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		before := h.get(id)
		h.must("alice@example.com", "POST", path+"/extend", map[string]string{"end": rfc(before.End.Add(30 * time.Minute)), "reason": "more"})

		// gm's delegate acts for gm's rights now: gm approves only
		// through a group, which a delegation never passes on.
		if code, _, m := h.call("del3@example.com", "POST", path+"/approve", map[string]string{}); code != 404 {
			t.Errorf("del3 (delegate of gm, who left the group) approves the extension: %d %v, want 404", code, m)
		}
		// x1 and x2 leave the extension stages.
		h.putRule(map[string]any{"account": "111111111111", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}},
			"extension_stages": []map[string]any{{"approvers": []string{"x3@example.com"}, "required": 1}}})
		for _, who := range []string{"x1@example.com", "del2@example.com"} {
			if code, _, m := h.call(who, "POST", path+"/approve", map[string]string{}); code != 404 {
				t.Errorf("%s approves the extension after the change: %d %v, want 404", who, code, m)
			}
		}
		if tk := h.get(id); !tk.End.Equal(before.End) || tk.Extension.State != broker.ExtensionPending || len(tk.Extension.Approvals) != 0 {
			t.Fatalf("after the refused approvals: end %s extension %+v, want the end %s and the extension pending", tk.End, tk.Extension, before.End)
		}
		// The approver in force decides it.
		tk := h.must("x3@example.com", "POST", path+"/approve", map[string]string{})
		if !tk.End.Equal(before.End.Add(30*time.Minute)) || tk.Extension.State != broker.ExtensionApproved {
			t.Errorf("x3's approval: end %s extension %+v, want the end moved", tk.End, tk.Extension)
		}
	})

	t.Run("a removed approver and a former delegate no longer see, terminate or audit", func(t *testing.T) {
		a1ToDel1 := delegate("a1@example.com", "del1@example.com")
		id := file("222222222222", "ReadOnlyAccess", time.Now())
		path := "/api/v1/tickets/" + id
		h.must("del1@example.com", "POST", path+"/approve", map[string]string{"comment": "for a1"})
		h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		for _, who := range []string{"a1@example.com", "del1@example.com"} {
			if code, _ := h.api(who, "GET", path, nil); code != 200 {
				t.Fatalf("%s reads the ticket before the change: %d, want 200", who, code)
			}
		}
		// a1 leaves the rule; a1 ends the delegation.
		h.putRule(map[string]any{"account": "222222222222", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}})
		if code, m := h.api("a1@example.com", "DELETE", "/api/v1/delegations/"+a1ToDel1, nil); code != 204 {
			t.Fatalf("a1 deletes the delegation: %d %v", code, m)
		}
		for _, who := range []string{"a1@example.com", "del1@example.com"} {
			if code, _ := h.api(who, "GET", path, nil); code != 404 {
				t.Errorf("%s reads the ticket: %d, want 404", who, code)
			}
			if code, m := h.api(who, "GET", path+"/activity", nil); code != 404 {
				t.Errorf("%s reads the activity: %d %v, want 404", who, code, m)
			}
			code, m := h.api(who, "GET", "/api/v1/tickets", nil)
			if code != 200 || strings.Contains(toJSON(m), id) {
				t.Errorf("%s lists the tickets: %d, the ticket listed: %v", who, code, strings.Contains(toJSON(m), id))
			}
			if code, m := h.api(who, "POST", path+"/terminate", map[string]string{}); code != 404 {
				t.Errorf("%s terminates the ticket: %d %v, want 404", who, code, m)
			}
		}
		if tk := h.get(id); tk.State != broker.StateActive {
			t.Fatalf("the ticket is %s, want active", tk.State)
		}
		// bob, still in the rule, sees and terminates it.
		if code, _ := h.api("bob@example.com", "GET", path, nil); code != 200 {
			t.Errorf("bob reads the ticket: %d, want 200", code)
		}
		if tk := h.must("bob@example.com", "POST", path+"/terminate", map[string]string{}); tk.State != broker.StateTerminated {
			t.Errorf("bob's terminate: %s", tk.State)
		}

		// A group member's delegate does not see tickets filed after the
		// member left the group (nor before: groups are not delegated).
		pu := file("222222222222", "PowerUserAccess", time.Now().Add(time.Hour))
		if code, _ := h.api("del3@example.com", "GET", "/api/v1/tickets/"+pu, nil); code != 404 {
			t.Errorf("del3 reads a ticket of gm's former group: %d, want 404", code)
		}
	})

	t.Run("a tightened rule reaches pending tickets", func(t *testing.T) {
		id := file("333333333333", "ReadOnlyAccess", time.Now().Add(time.Hour))
		path := "/api/v1/tickets/" + id
		// The catch-all rule gains a second stage.
		h.putRule(map[string]any{"account": "*", "stages": []map[string]any{
			{"approvers": []string{"bob@example.com"}}, {"approvers": []string{"sec1@example.com"}}}})
		tk := h.must("bob@example.com", "POST", path+"/approve", map[string]string{})
		if tk.State != broker.StatePending || tk.Stage != 1 || len(tk.Stages) != 2 {
			t.Fatalf("after bob's approval: %s at stage %d of %d, want pending at stage 2 of 2", tk.State, tk.Stage+1, len(tk.Stages))
		}
		if !slices.ContainsFunc(tk.History, func(e broker.Event) bool { return e.Action == "replan" }) {
			t.Errorf("history %+v records no re-plan", tk.History)
		}
		if tk := h.must("sec1@example.com", "POST", path+"/approve", map[string]string{}); tk.State != broker.StateApproved {
			t.Errorf("after sec1's approval: %s, want approved", tk.State)
		}
	})

	t.Run("a loosened rule grants nothing unapproved", func(t *testing.T) {
		// The catch-all rule has two stages now (previous subtest).
		h.putRule(map[string]any{"account": "*", "stages": []map[string]any{
			{"approvers": []string{"bob@example.com"}}, {"approvers": []string{"sec1@example.com"}}}})
		id := file("333333333333", "ReadOnlyAccess", time.Now().Add(time.Hour))
		path := "/api/v1/tickets/" + id
		h.must("bob@example.com", "POST", path+"/approve", map[string]string{"comment": "stage 1"})
		// Loosened: bob alone.
		h.putRule(map[string]any{"account": "*", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}})
		if code, _, m := h.call("sec1@example.com", "POST", path+"/approve", map[string]string{}); code != 404 {
			t.Errorf("sec1, no longer an approver, approves: %d %v, want 404", code, m)
		}
		if tk := h.get(id); tk.State != broker.StatePending {
			t.Fatalf("after the loosening: %s, want pending (nobody approved it under the rule in force)", tk.State)
		}
		// bob's approval of stage 1 was not an approval of the grant.
		tk := h.must("bob@example.com", "POST", path+"/approve", map[string]string{"comment": "the grant"})
		if tk.State != broker.StateApproved || len(tk.Approvals) != 1 || tk.Approvals[0].Comment != "the grant" {
			t.Errorf("after bob's approval under the loosened rule: %s with %+v, want approved by that approval", tk.State, tk.Approvals)
		}
	})

	t.Run("a decision is for the revision the approver saw", func(t *testing.T) {
		id := file("444444444444", "ReadOnlyAccess", time.Now().Add(time.Hour))
		path := "/api/v1/tickets/" + id
		h.must("bob@example.com", "POST", path+"/reject", map[string]any{"comment": "why read-only?", "revision": 1})
		if tk := h.must("alice@example.com", "PUT", path, map[string]string{"permission_set": "PowerUserAccess"}); tk.Revision != 2 {
			t.Fatalf("edited ticket at revision %d, want 2", tk.Revision)
		}
		for _, verb := range []string{"approve", "reject"} {
			code, _, m := h.call("bob@example.com", "POST", path+"/"+verb, map[string]any{"comment": "ok", "revision": 1})
			if msg, _ := m["message"].(string); code != 409 || m["code"] != broker.ECONFLICT || !strings.Contains(msg, "revision 2") {
				t.Errorf("%s of revision 1: %d %v, want 409 naming revision 2", verb, code, m)
			}
		}
		if tk := h.get(id); tk.State != broker.StatePending || len(tk.Approvals) != 0 {
			t.Fatalf("after the stale decisions: %s with %+v, want pending", tk.State, tk.Approvals)
		}
		// The CLI: a stale --revision is refused; by default it shows and
		// sends the current one.
		out, errOut, err := h.jit("bob@example.com", "approve", id, "--revision", "1")
		if err == nil || !strings.Contains(errOut, "revision 2") {
			t.Errorf("jit approve --revision 1: err %v, stdout %q, stderr %q; want a refusal naming revision 2", err, out, errOut)
		}
		out, errOut, err = h.jit("bob@example.com", "approve", id, "--comment", "ok")
		if err != nil || !strings.Contains(errOut, "Deciding revision 2 of ticket "+id+": PowerUserAccess in 444444444444") {
			t.Fatalf("jit approve: err %v, stdout %q, stderr %q; want revision 2 shown", err, out, errOut)
		}
		if tk := h.get(id); tk.State != broker.StateApproved || tk.Revision != 2 {
			t.Errorf("after jit approve: %s at revision %d, want approved at 2", tk.State, tk.Revision)
		}
	})
}
