package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Accounts and permission sets of workflowConfig.
const (
	dev     = "111111111111"
	staging = "222222222222"
	prod    = "333333333333"
	ro      = "ReadOnlyAccess"
	pu      = "PowerUserAccess"
	admin   = "AdministratorAccess"
)

// approversOf returns who approves every stage of a ticket in workflowConfig.
func approversOf(account, ps string) []string {
	if account == prod {
		return []string{"a1@example.com", "a2@example.com", "sec1@example.com"}
	}
	return []string{"bob@example.com"}
}

// setup brings a fresh ticket of alice's (for alice and dave) into a state.
func (h *harness) setup(kind, account, ps string) string {
	h.t.Helper()
	body := map[string]any{"account_id": account, "permission_set": ps, "beneficiaries": []string{"alice@example.com", "dave@example.com"},
		"duration": "1h", "reason": "table " + kind}
	switch kind {
	case "pending", "stage2", "approved":
		// Starting later, an approved ticket stays approved: starting
		// now, the activation task could make it active before the
		// test reads it.
		body["start"] = rfc(time.Now().Add(time.Hour))
	}
	id := h.file("alice@example.com", body)
	path := "/api/v1/tickets/" + id
	appr := approversOf(account, ps)
	switch kind {
	case "pending":
	case "stage2":
		h.must(appr[0], "POST", path+"/approve", map[string]string{})
		h.must(appr[1], "POST", path+"/approve", map[string]string{})
	case "rejected":
		h.must(appr[0], "POST", path+"/reject", map[string]string{"comment": "no"})
	case "cancelled":
		h.must("alice@example.com", "POST", path+"/cancel", map[string]string{})
	case "approved", "active", "extending":
		for _, a := range appr {
			h.must(a, "POST", path+"/approve", map[string]string{})
		}
		if kind == "approved" {
			break
		}
		h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		if kind == "extending" {
			tk := h.get(id)
			h.must("alice@example.com", "POST", path+"/extend", map[string]string{"end": rfc(tk.End.Add(30 * time.Minute)), "reason": "more"})
		}
	default:
		h.t.Fatalf("unknown setup %q", kind)
	}
	return id
}

// TestWorkflowDecisionTable runs who x action x account x permission set x
// stage x delegation window x rules changed after the request through the
// HTTP API of the real server, and checks the status code and the state
// each leaves the ticket in.
func TestWorkflowDecisionTable(t *testing.T) {
	h := newWorkflowHarness(t)
	now := time.Now()
	// a1 delegates to del now, a2 to fut from an hour on, a3 to dave (a
	// beneficiary of every table ticket) now.
	for _, d := range []struct {
		from, to   string
		start, end time.Time
	}{
		{"a1@example.com", "del@example.com", now, now.Add(time.Hour)},
		{"a2@example.com", "fut@example.com", now.Add(time.Hour), now.Add(2 * time.Hour)},
		{"a3@example.com", "dave@example.com", now, now.Add(time.Hour)},
	} {
		code, _, m := h.call(d.from, "POST", "/api/v1/delegations", map[string]string{"to": d.to, "start": rfc(d.start), "end": rfc(d.end)})
		if code != http.StatusCreated {
			t.Fatalf("delegate %s -> %s: %d %v", d.from, d.to, code, m)
		}
	}
	ok := map[string]string{"comment": "ok"}
	no := map[string]string{"comment": "no"}
	extendBy := func(d time.Duration) func(broker.Ticket) any {
		return func(tk broker.Ticket) any {
			return map[string]string{"end": rfc(tk.End.Add(d)), "reason": "more time"}
		}
	}
	body := func(b any) func(broker.Ticket) any { return func(broker.Ticket) any { return b } }
	cases := []decisionCase{
		// approve
		{"alice@example.com", "approve", "pending", dev, ro, body(ok), 403, broker.StatePending, 0, nil},
		{"dave@example.com", "approve", "pending", dev, ro, body(ok), 403, broker.StatePending, 0, nil},
		{"eve@example.com", "approve", "pending", dev, ro, body(ok), 404, broker.StatePending, 0, nil},
		{"carol@example.com", "approve", "pending", dev, ro, body(ok), 403, broker.StatePending, 0, nil},
		{"bob@example.com", "approve", "pending", dev, ro, body(ok), 200, broker.StateApproved, 1, nil},
		{"bob@example.com", "approve", "pending", dev, pu, body(ok), 200, broker.StateApproved, 1, nil},
		{"eve@example.com", "approve", "pending", dev, pu, body(ok), 404, broker.StatePending, 0, nil},
		{"a1@example.com", "approve", "pending", prod, ro, body(ok), 200, broker.StatePending, 0, nil},
		{"bob@example.com", "approve", "pending", prod, ro, body(ok), 404, broker.StatePending, 0, nil},
		{"sec1@example.com", "approve", "pending", prod, ro, body(ok), 403, broker.StatePending, 0, nil},
		{"del@example.com", "approve", "pending", prod, ro, body(ok), 200, broker.StatePending, 0, func(t *testing.T, _, tk broker.Ticket) {
			if len(tk.Approvals) != 1 || tk.Approvals[0].By != "del@example.com" || tk.Approvals[0].For != "a1@example.com" {
				t.Errorf("approvals %+v, want del for a1", tk.Approvals)
			}
			if last := tk.History[len(tk.History)-1]; last.Actor != "del@example.com for a1@example.com" {
				t.Errorf("history actor %q, want del for a1", last.Actor)
			}
		}},
		{"fut@example.com", "approve", "pending", prod, ro, body(ok), 404, broker.StatePending, 0, nil},
		{"dave@example.com", "approve", "pending", prod, ro, body(ok), 403, broker.StatePending, 0, nil},
		{"sec1@example.com", "approve", "stage2", prod, ro, body(ok), 200, broker.StateApproved, 2, nil},
		// sec2's group is "SecOps": group names compare exactly, so it is not
		// "secops" and the ticket is not sec2's to see.
		{"sec2@example.com", "approve", "stage2", prod, ro, body(ok), 404, broker.StatePending, 1, nil},
		{"a1@example.com", "approve", "stage2", prod, ro, body(ok), 409, broker.StatePending, 1, nil},
		{"a3@example.com", "approve", "stage2", prod, ro, body(ok), 403, broker.StatePending, 1, nil},
		{"del@example.com", "approve", "stage2", prod, ro, body(ok), 403, broker.StatePending, 1, nil},
		{"bob@example.com", "approve", "rejected", dev, ro, body(ok), 409, broker.StateRejected, anyStage, nil},
		{"bob@example.com", "approve", "cancelled", dev, ro, body(ok), 409, broker.StateCancelled, anyStage, nil},
		{"bob@example.com", "approve", "active", dev, ro, body(ok), 409, broker.StateActive, anyStage, nil},
		{"bob@example.com", "approve", "extending", dev, ro, body(ok), 200, broker.StateActive, anyStage, func(t *testing.T, before, tk broker.Ticket) {
			if !tk.End.Equal(before.Extension.End) || tk.Extension.State != broker.ExtensionApproved {
				t.Errorf("end %s extension %+v, want the end moved to %s", tk.End, tk.Extension, before.Extension.End)
			}
		}},
		{"alice@example.com", "approve", "extending", dev, ro, body(ok), 403, broker.StateActive, anyStage, nil},
		{"a1@example.com", "approve", "pending", prod, admin, body(ok), 200, broker.StatePending, 0, nil},
		{"sec1@example.com", "approve", "stage2", prod, admin, body(ok), 200, broker.StateApproved, 2, nil},
		{"bob@example.com", "approve", "pending", staging, admin, nil, 200, broker.StateApproved, 1, nil},
		{"bob@example.com", "approve", "pending", prod, admin, body(ok), 404, broker.StatePending, 0, nil},
		// reject
		{"bob@example.com", "reject", "pending", dev, ro, body(no), 200, broker.StateRejected, 0, func(t *testing.T, _, tk broker.Ticket) {
			if tk.Closed == nil || tk.Closed.By != "bob@example.com" || tk.Closed.Comment != "no" {
				t.Errorf("closed %+v, want bob's comment", tk.Closed)
			}
		}},
		{"bob@example.com", "reject", "pending", dev, ro, body(map[string]string{}), 400, broker.StatePending, 0, nil},
		{"alice@example.com", "reject", "pending", dev, ro, body(no), 403, broker.StatePending, 0, nil},
		{"eve@example.com", "reject", "pending", dev, ro, body(no), 404, broker.StatePending, 0, nil},
		{"carol@example.com", "reject", "pending", dev, ro, body(no), 403, broker.StatePending, 0, nil},
		{"bob@example.com", "reject", "pending", dev, pu, body(no), 200, broker.StateRejected, 0, nil},
		{"a1@example.com", "reject", "pending", prod, ro, body(no), 200, broker.StateRejected, 0, nil},
		{"sec1@example.com", "reject", "stage2", prod, ro, body(no), 200, broker.StateRejected, 1, nil},
		{"sec1@example.com", "reject", "pending", prod, ro, body(no), 403, broker.StatePending, 0, nil},
		{"del@example.com", "reject", "pending", prod, ro, body(no), 200, broker.StateRejected, 0, func(t *testing.T, _, tk broker.Ticket) {
			if tk.Closed == nil || tk.Closed.By != "del@example.com" || tk.Closed.For != "a1@example.com" {
				t.Errorf("closed %+v, want del for a1", tk.Closed)
			}
		}},
		{"fut@example.com", "reject", "pending", prod, ro, body(no), 404, broker.StatePending, 0, nil},
		{"a2@example.com", "reject", "stage2", prod, ro, body(no), 409, broker.StatePending, 1, nil},
		{"bob@example.com", "reject", "extending", dev, ro, body(no), 200, broker.StateActive, anyStage, func(t *testing.T, before, tk broker.Ticket) {
			if !tk.End.Equal(before.End) || tk.Extension.State != broker.ExtensionRejected {
				t.Errorf("end %s extension %+v, want the old end %s kept", tk.End, tk.Extension, before.End)
			}
		}},
		{"bob@example.com", "reject", "approved", dev, ro, body(no), 409, broker.StateApproved, anyStage, nil},
		// cancel
		{"alice@example.com", "cancel", "pending", dev, ro, nil, 200, broker.StateCancelled, anyStage, nil},
		{"alice@example.com", "cancel", "approved", dev, ro, body(map[string]string{"comment": "not needed"}), 200, broker.StateCancelled, anyStage, nil},
		{"alice@example.com", "cancel", "active", dev, ro, nil, 409, broker.StateActive, anyStage, nil},
		{"alice@example.com", "cancel", "rejected", dev, ro, nil, 409, broker.StateRejected, anyStage, nil},
		{"alice@example.com", "cancel", "stage2", prod, ro, nil, 200, broker.StateCancelled, anyStage, nil},
		{"dave@example.com", "cancel", "pending", dev, ro, nil, 403, broker.StatePending, anyStage, nil},
		{"bob@example.com", "cancel", "pending", dev, ro, nil, 403, broker.StatePending, anyStage, nil},
		{"eve@example.com", "cancel", "pending", dev, ro, nil, 404, broker.StatePending, anyStage, nil},
		// done
		{"alice@example.com", "done", "active", dev, ro, nil, 200, broker.StateTerminated, anyStage, nil},
		{"dave@example.com", "done", "active", dev, ro, nil, 200, broker.StateActive, anyStage, func(t *testing.T, _, tk broker.Ticket) {
			if !tk.IsDone("dave@example.com") || tk.IsDone("alice@example.com") {
				t.Errorf("done %+v, want dave's access ended and alice's kept", tk.Done)
			}
		}},
		{"alice@example.com", "done", "approved", dev, ro, nil, 200, broker.StateTerminated, anyStage, nil},
		{"bob@example.com", "done", "active", dev, ro, nil, 403, broker.StateActive, anyStage, nil},
		{"alice@example.com", "done", "pending", dev, ro, nil, 409, broker.StatePending, anyStage, nil},
		{"eve@example.com", "done", "active", dev, ro, nil, 404, broker.StateActive, anyStage, nil},
		// extend
		{"alice@example.com", "extend", "active", dev, ro, extendBy(30 * time.Minute), 200, broker.StateActive, anyStage, func(t *testing.T, before, tk broker.Ticket) {
			if tk.Extension == nil || tk.Extension.State != broker.ExtensionPending || !tk.End.Equal(before.End) {
				t.Errorf("extension %+v end %s, want a pending extension and the end unchanged", tk.Extension, tk.End)
			}
		}},
		{"dave@example.com", "extend", "active", dev, ro, extendBy(time.Hour), 200, broker.StateActive, anyStage, nil},
		{"alice@example.com", "extend", "active", dev, pu, extendBy(time.Hour), 200, broker.StateActive, anyStage, nil},
		{"bob@example.com", "extend", "active", dev, ro, extendBy(time.Hour), 403, broker.StateActive, anyStage, nil},
		{"eve@example.com", "extend", "active", dev, ro, extendBy(time.Hour), 404, broker.StateActive, anyStage, nil},
		{"alice@example.com", "extend", "pending", dev, ro, extendBy(time.Hour), 409, broker.StatePending, anyStage, nil},
		{"alice@example.com", "extend", "active", dev, ro, extendBy(12 * time.Hour), 400, broker.StateActive, anyStage, nil},
		{"alice@example.com", "extend", "active", dev, ro, extendBy(-time.Minute), 400, broker.StateActive, anyStage, nil},
		{"alice@example.com", "extend", "extending", dev, ro, extendBy(time.Hour), 409, broker.StateActive, anyStage, nil},
		{"alice@example.com", "extend", "active", dev, ro, body(map[string]string{"end": "tomorrow", "reason": "x"}), 400, broker.StateActive, anyStage, nil},
		// edit and resend
		{"alice@example.com", "edit", "rejected", dev, ro, body(map[string]string{"reason": "second try"}), 200, broker.StatePending, 0, func(t *testing.T, _, tk broker.Ticket) {
			if tk.Revision != 2 || tk.Reason != "second try" || len(tk.Revisions) != 1 || tk.Revisions[0].Closed == nil {
				t.Errorf("revision %d reason %q revisions %+v, want revision 2 with revision 1 kept", tk.Revision, tk.Reason, tk.Revisions)
			}
		}},
		{"alice@example.com", "edit", "rejected", prod, ro, body(map[string]string{"duration": "2h"}), 200, broker.StatePending, 0, nil},
		{"alice@example.com", "edit", "rejected", dev, ro, body(map[string]string{"permission_set": "NoSuchSet"}), 404, broker.StateRejected, anyStage, nil},
		{"alice@example.com", "edit", "pending", dev, ro, body(map[string]string{"reason": "x"}), 409, broker.StatePending, anyStage, nil},
		{"dave@example.com", "edit", "rejected", dev, ro, body(map[string]string{"reason": "x"}), 403, broker.StateRejected, anyStage, nil},
		{"bob@example.com", "edit", "rejected", dev, ro, body(map[string]string{"reason": "x"}), 403, broker.StateRejected, anyStage, nil},
		{"eve@example.com", "edit", "rejected", dev, ro, body(map[string]string{"reason": "x"}), 404, broker.StateRejected, anyStage, nil},
		// terminate
		{"bob@example.com", "terminate", "active", dev, ro, nil, 200, broker.StateTerminated, anyStage, nil},
		{"alice@example.com", "terminate", "active", dev, ro, nil, 403, broker.StateActive, anyStage, nil},
	}
	if len(cases) < 60 {
		t.Fatalf("only %d cases", len(cases))
	}
	for i, c := range cases {
		h.runCase(t, fmt.Sprintf("%02d_%s_%s_%s_%s_%s", i, c.who, c.action, c.setup, c.account, c.ps), c, "")
	}

	// The rules changed after the request: the change is made after the
	// setup and before the action, and undone after the case. Decisions,
	// reads and actions follow the rule in force (docs/authorization.md).
	moved := func(t *testing.T, before, tk broker.Ticket) {
		if !tk.End.Equal(before.End) || tk.Extension.State != broker.ExtensionPending {
			t.Errorf("end %s extension %+v, want the extension pending and the end %s", tk.End, tk.Extension, before.End)
		}
	}
	changed := []struct {
		rules string
		decisionCase
	}{
		{"tightened", decisionCase{"bob@example.com", "approve", "pending", dev, ro, body(ok), 200, broker.StatePending, 1, func(t *testing.T, _, tk broker.Ticket) {
			if len(tk.Stages) != 2 || len(tk.Approvals) != 1 {
				t.Errorf("stages %+v approvals %+v, want 2 stages and bob's approval", tk.Stages, tk.Approvals)
			}
		}}},
		{"tightened", decisionCase{"sec1@example.com", "approve", "pending", dev, ro, body(ok), 403, broker.StatePending, 0, nil}},
		{"tightened", decisionCase{"eve@example.com", "approve", "pending", dev, ro, body(ok), 404, broker.StatePending, 0, nil}},
		{"tightened", decisionCase{"sec1@example.com", "read", "pending", dev, ro, nil, 200, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"bob@example.com", "approve", "pending", dev, ro, body(ok), 404, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"bob@example.com", "reject", "pending", dev, ro, body(no), 404, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"bob@example.com", "read", "pending", dev, ro, nil, 404, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"a2@example.com", "read", "pending", dev, ro, nil, 200, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"a2@example.com", "approve", "pending", dev, ro, body(ok), 200, broker.StateApproved, 1, nil}},
		{"moved", decisionCase{"carol@example.com", "approve", "pending", dev, ro, body(ok), 403, broker.StatePending, 0, nil}},
		{"moved", decisionCase{"bob@example.com", "terminate", "active", dev, ro, nil, 404, broker.StateActive, anyStage, nil}},
		{"moved", decisionCase{"bob@example.com", "activity", "active", dev, ro, nil, 404, broker.StateActive, anyStage, nil}},
		{"moved", decisionCase{"a2@example.com", "terminate", "active", dev, ro, nil, 200, broker.StateTerminated, anyStage, nil}},
		{"moved", decisionCase{"bob@example.com", "approve", "extending", dev, ro, body(ok), 404, broker.StateActive, anyStage, moved}},
		{"moved", decisionCase{"a2@example.com", "approve", "extending", dev, ro, body(ok), 200, broker.StateActive, anyStage, func(t *testing.T, before, tk broker.Ticket) {
			if !tk.End.Equal(before.Extension.End) || tk.Extension.State != broker.ExtensionApproved {
				t.Errorf("end %s extension %+v, want the end moved to %s", tk.End, tk.Extension, before.Extension.End)
			}
		}}},
		{"loosened", decisionCase{"sec1@example.com", "approve", "stage2", prod, ro, body(ok), 404, broker.StatePending, 1, nil}},
		{"loosened", decisionCase{"a3@example.com", "approve", "stage2", prod, ro, body(ok), 200, broker.StatePending, 0, func(t *testing.T, _, tk broker.Ticket) {
			if len(tk.Approvals) != 1 || tk.Approvals[0].By != "a3@example.com" {
				t.Errorf("approvals %+v, want only a3's: the last stage is decided under the loosened rule", tk.Approvals)
			}
		}}},
		{"a1 removed", decisionCase{"del@example.com", "approve", "pending", prod, ro, body(ok), 404, broker.StatePending, 0, nil}},
		{"a1 removed", decisionCase{"a1@example.com", "reject", "pending", prod, ro, body(no), 404, broker.StatePending, 0, nil}},
		{"a1 removed", decisionCase{"a2@example.com", "approve", "pending", prod, ro, body(ok), 200, broker.StatePending, 0, nil}},
	}
	for i, c := range changed {
		h.runCase(t, fmt.Sprintf("changed_%02d_%s_%s_%s_%s_%s_%s", i, strings.ReplaceAll(c.rules, " ", "_"), c.who, c.action, c.setup, c.account, c.ps), c.decisionCase, c.rules)
	}
}

const anyStage = -1

// decisionCase is one row of the decision table: who does what to a
// ticket set up how, and what they get.
type decisionCase struct {
	who, action, setup, account, ps string
	body                            func(broker.Ticket) any
	wantCode                        int
	wantState                       broker.State
	wantStage                       int
	check                           func(t *testing.T, before, after broker.Ticket)
}

// ruleChanges are the rule changes of the table's "rules changed after
// the request" dimension, each with the rule that undoes it
// (workflowConfig's).
var ruleChanges = map[string][2]map[string]any{
	// The catch-all rule gains a second stage.
	"tightened": {
		{"account": "*", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}, {"approvers": []string{"group:secops"}}}},
		{"account": "*", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}},
	},
	// The catch-all rule's approver is now a2 instead of bob.
	"moved": {
		{"account": "*", "stages": []map[string]any{{"approvers": []string{"a2@example.com"}}}},
		{"account": "*", "stages": []map[string]any{{"approvers": []string{"bob@example.com"}}}},
	},
	// prod loses its secops stage.
	"loosened": {
		{"account": prod, "stages": []map[string]any{{"approvers": []string{"a1@example.com", "a2@example.com", "a3@example.com"}, "required": 2}}},
		{"account": prod, "stages": prodStages},
	},
	// a1 (who delegates to del) leaves prod's first stage.
	"a1 removed": {
		{"account": prod, "stages": []map[string]any{{"approvers": []string{"a2@example.com", "a3@example.com"}, "required": 2}, {"approvers": []string{"group:secops"}}}},
		{"account": prod, "stages": prodStages},
	},
}

var prodStages = []map[string]any{{"approvers": []string{"a1@example.com", "a2@example.com", "a3@example.com"}, "required": 2}, {"approvers": []string{"group:secops"}}}

// runCase sets up a ticket, applies the rule change named rules (if any),
// runs the case's action and checks the answer and the ticket.
func (h *harness) runCase(t *testing.T, name string, c decisionCase, rules string) {
	t.Run(name, func(t *testing.T) {
		id := h.setup(c.setup, c.account, c.ps)
		if rules != "" {
			change, ok := ruleChanges[rules]
			if !ok {
				t.Fatalf("unknown rule change %q", rules)
			}
			h.putRule(change[0])
			defer h.putRule(change[1])
		}
		before := h.get(id)
		method, path := "POST", "/api/v1/tickets/"+id+"/"+c.action
		switch c.action {
		case "edit":
			method, path = "PUT", "/api/v1/tickets/"+id
		case "read":
			method, path = "GET", "/api/v1/tickets/"+id
		case "activity":
			method = "GET"
		}
		var b any
		if c.body != nil {
			b = c.body(before)
		}
		code, _, m := h.call(c.who, method, path, b)
		if code != c.wantCode {
			t.Errorf("%s %s: status %d %v, want %d", c.who, c.action, code, m, c.wantCode)
		}
		after := h.get(id)
		if after.State != c.wantState {
			t.Errorf("state %s, want %s", after.State, c.wantState)
		}
		if c.wantStage != anyStage && after.Stage != c.wantStage {
			t.Errorf("stage %d, want %d", after.Stage, c.wantStage)
		}
		if code != c.wantCode || c.check == nil {
			return
		}
		c.check(t, before, after)
	})
}
