package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/internal/oncallstub"
)

// autoApproveConfig: bob approves everything; staging ReadOnlyAccess takes
// bob then dave; dev PowerUserAccess auto-approves who is on call on the
// PagerDuty schedule PSCHED1, staging PowerUserAccess on the Opsgenie
// schedule og-sched (both otherwise bob's). %s is the providers' stand-in
// and %s the token file.
const autoApproveConfig = `
tickets:
  max_pending_per_requester: 1000
registry:
  accounts:
    - {id: "111111111111", name: dev}
    - {id: "222222222222", name: staging}
    - {id: "333333333333", name: prod}
  permission_sets:
    - {name: ReadOnlyAccess, role_name: ReadOnlyAccess, max_duration: 12h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
    - {name: PowerUserAccess, role_name: PowerUserAccess, max_duration: 8h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
  approval_rules:
    - account: "*"
      stages:
        - {approvers: [bob@example.com], required: 1}
    - account: "222222222222"
      permission_set: ReadOnlyAccess
      stages:
        - {approvers: [bob@example.com], required: 1}
        - {approvers: [dave@example.com], required: 1}
    - account: "111111111111"
      permission_set: PowerUserAccess
      auto_approve_on_call: {provider: pagerduty, schedule: PSCHED1}
      stages:
        - {approvers: [bob@example.com], required: 1}
    - account: "222222222222"
      permission_set: PowerUserAccess
      auto_approve_on_call: {provider: opsgenie, schedule: og-sched}
      stages:
        - {approvers: [bob@example.com], required: 1}
  admins: [carol@example.com]
on_call:
  pagerduty: {base_url: "%[1]s", token_file: "%[2]s"}
  opsgenie: {base_url: "%[1]s", token_file: "%[2]s"}
`

func newAutoApproveHarness(t *testing.T) (*harness, *oncallstub.Stub) {
	stub, srv := oncallstub.New(t, "stub-secret-token")
	tokFile := filepath.Join(t.TempDir(), "oncall-token")
	if err := os.WriteFile(tokFile, []byte("stub-secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarnessWith(t, fmt.Sprintf(autoApproveConfig, srv.URL, tokFile))
	for _, u := range []string{"alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com"} {
		h.as(u)
	}
	return h, stub
}

// fileAt files user's ticket for an hour from start (zero: now) and
// returns it as answered.
func (h *harness) fileAt(user, account, ps string, start time.Time) broker.Ticket {
	h.t.Helper()
	body := map[string]any{"account_id": account, "permission_set": ps, "duration": "1h", "reason": "auto-approval test"}
	if !start.IsZero() {
		body["start"] = start.UTC().Format(time.RFC3339)
	}
	code, tk, m := h.call(user, "POST", "/api/v1/tickets", body)
	if code != http.StatusCreated {
		h.t.Fatalf("file %v: %d %v", body, code, m)
	}
	return tk
}

// closeTicket ends or withdraws a ticket as its requester, so the next one
// for the same access does not duplicate it.
func (h *harness) closeTicket(user string, tk broker.Ticket) {
	h.t.Helper()
	action := "cancel"
	if tk.State == broker.StateActive {
		action = "done"
	}
	h.must(user, "POST", "/api/v1/tickets/"+tk.ID+"/"+action, map[string]any{})
}

func TestPreApproval(t *testing.T) {
	h, _ := newAutoApproveHarness(t)
	const prod, staging, dev = "333333333333", "222222222222", "111111111111"

	// Validation: only an approver, not for oneself, at most 30 days, all
	// fields checked.
	now := time.Now().UTC()
	for _, tc := range []struct {
		who  string
		body map[string]any
		code int
		want string
	}{
		{"eve@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "x"}, 403, "does not approve"},
		{"bob@example.com", map[string]any{"for": "bob@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "x"}, 400, "yourself"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "745h", "reason": "x"}, 400, "at most 30 days"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "24h"}, 400, "reason"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "reason": "x"}, 400, "end or duration"},
		{"bob@example.com", map[string]any{"for": "not an email", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "x"}, 400, "email"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": "12", "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "x"}, 400, "12 digits"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "Nope", "duration": "24h", "reason": "x"}, 404, ""},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "start": now.Add(-time.Hour).Format(time.RFC3339), "duration": "24h", "reason": "x"}, 400, "past"},
		{"bob@example.com", map[string]any{"for": "alice@example.com", "account_id": prod, "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "x", "extra": 1}, 400, ""},
	} {
		code, m := h.api(tc.who, "POST", "/api/v1/preapprovals", tc.body)
		if code != tc.code || !strings.Contains(fmt.Sprint(m["message"]), tc.want) {
			t.Errorf("pre-approve %v as %s: %d %v, want %d with %q", tc.body, tc.who, code, m, tc.code, tc.want)
		}
	}
	if code, m := h.api("bob@example.com", "GET", "/api/v1/preapprovals", nil); code != 200 || len(m["preapprovals"].([]any)) != 0 {
		t.Fatalf("nothing stored by refused requests: %d %v", code, m)
	}

	// bob pre-approves alice's ReadOnlyAccess in prod for a week, through
	// the CLI, naming the account by its name.
	out, errOut, err := h.jit("bob@example.com", "preapprove", "--output", "json", "--for", "alice@example.com", "--account", "prod",
		"--permission-set", "ReadOnlyAccess", "--duration", "7d", "--reason", "on duty this week")
	if err != nil {
		t.Fatalf("jit preapprove: %v %s", err, errOut)
	}
	var pre broker.PreApproval
	if err := json.Unmarshal([]byte(out), &pre); err != nil || pre.ID == "" || pre.AccountID != prod || pre.End.Sub(pre.Start) != 7*24*time.Hour {
		t.Fatalf("preapprove output %v: %s", err, out)
	}

	// Inside the window: active at once, the decision naming bob and the pre-approval.
	tk := h.fileAt("alice@example.com", prod, "ReadOnlyAccess", time.Time{})
	if tk.State != broker.StateActive || len(tk.Approvals) != 1 {
		t.Fatalf("pre-approved ticket: %s %+v, want active with one approval", tk.State, tk.Approvals)
	}
	if a := tk.Approvals[0]; a.By != "bob@example.com" || a.Auto == nil || a.Auto.Kind != broker.AutoPreApproval || a.Auto.PreApproval != pre.ID {
		t.Fatalf("approval %+v (auto %+v), want bob via %s", a, a.Auto, pre.ID)
	}
	if !hasEvent(tk, "bob@example.com", "auto approve", pre.ID) {
		t.Fatalf("history %+v lacks bob's auto approve naming %s", tk.History, pre.ID)
	}
	code, page := h.api("carol@example.com", "GET", "/api/v1/audit?type=ticket.auto_approve&ticket="+tk.ID, nil)
	if code != 200 || len(page["events"].([]any)) != 1 {
		t.Fatalf("audit of the auto-approval: %d %v", code, page)
	}
	code, page = h.api("carol@example.com", "GET", "/api/v1/audit?type=preapproval.preapprove", nil)
	if code != 200 || len(page["events"].([]any)) != 1 {
		t.Fatalf("audit of the pre-approval: %d %v", code, page)
	}
	h.closeTicket("alice@example.com", tk)

	// Outside the window (starts after it ends), another permission set,
	// someone else: they wait for bob.
	for _, c := range []struct {
		user, account, ps string
		start             time.Time
	}{
		{"alice@example.com", prod, "ReadOnlyAccess", time.Now().Add(8 * 24 * time.Hour)},
		{"alice@example.com", prod, "PowerUserAccess", time.Time{}},
		{"dave@example.com", prod, "ReadOnlyAccess", time.Time{}},
	} {
		tk := h.fileAt(c.user, c.account, c.ps, c.start)
		if tk.State != broker.StatePending || len(tk.Approvals) != 0 {
			t.Errorf("%s %s for %s from %v: %s %+v, want pending without approvals", c.ps, c.account, c.user, c.start, tk.State, tk.Approvals)
		}
		h.closeTicket(c.user, tk)
	}

	// Two stages: bob's pre-approval satisfies his stage; dave's waits.
	h.must("bob@example.com", "POST", "/api/v1/preapprovals", map[string]any{"for": "alice@example.com", "account_id": staging, "permission_set": "ReadOnlyAccess", "duration": "48h", "reason": "stage one"})
	tk = h.fileAt("alice@example.com", staging, "ReadOnlyAccess", time.Time{})
	if tk.State != broker.StatePending || tk.Stage != 1 || len(tk.Approvals) != 1 || tk.Approvals[0].Auto == nil || len(tk.PendingApprovers) != 1 || tk.PendingApprovers[0] != "dave@example.com" {
		t.Fatalf("two stages: %s stage %d approvals %+v waiting for %v; want stage 2 waiting for dave", tk.State, tk.Stage, tk.Approvals, tk.PendingApprovers)
	}
	if got := h.must("dave@example.com", "POST", "/api/v1/tickets/"+tk.ID+"/approve", map[string]any{}); got.State != broker.StateActive && got.State != broker.StateApproved {
		t.Fatalf("dave's approval: %s", got.State)
	}
	h.closeTicket("alice@example.com", h.get(tk.ID))

	// Revoked: approves nothing from then on; the ticket it approved stays.
	code, m := h.api("bob@example.com", "POST", "/api/v1/preapprovals", map[string]any{"for": "alice@example.com", "account_id": dev, "permission_set": "ReadOnlyAccess", "duration": "24h", "reason": "dev"})
	if code != http.StatusCreated {
		t.Fatalf("pre-approve dev: %d %v", code, m)
	}
	devID := m["id"].(string)
	kept := h.fileAt("alice@example.com", dev, "ReadOnlyAccess", time.Time{})
	if kept.State != broker.StateActive {
		t.Fatalf("dev ticket: %s, want active", kept.State)
	}
	if code, _ := h.api("eve@example.com", "DELETE", "/api/v1/preapprovals/"+devID, nil); code != 404 {
		t.Fatalf("revoke by eve: %d, want 404", code)
	}
	if out, errOut, err := h.jit("bob@example.com", "preapprovals", "revoke", devID); err != nil || !strings.Contains(out, "Revoked") {
		t.Fatalf("jit preapprovals revoke: %v %s%s", err, out, errOut)
	}
	if code, _ := h.api("bob@example.com", "DELETE", "/api/v1/preapprovals/"+devID, nil); code != 409 {
		t.Fatalf("revoke twice: %d, want 409", code)
	}
	if got := h.get(kept.ID); got.State != broker.StateActive {
		t.Fatalf("ticket approved before the revocation: %s, want still active", got.State)
	}
	h.closeTicket("alice@example.com", kept)
	if tk := h.fileAt("alice@example.com", dev, "ReadOnlyAccess", time.Time{}); tk.State != broker.StatePending {
		t.Fatalf("after revocation: %s, want pending", tk.State)
	} else {
		h.closeTicket("alice@example.com", tk)
	}
	out, errOut, err = h.jit("alice@example.com", "preapprovals", "list")
	if err != nil || !strings.Contains(out, devID) || !strings.Contains(out, "revoked by bob@example.com") || !strings.Contains(out, pre.ID) {
		t.Fatalf("alice's list: %v\n%s%s", err, out, errOut)
	}

	// The pre-approver no longer an approver under the rules in force.
	h.putRule(map[string]any{"account": prod, "stages": []map[string]any{{"approvers": []string{"dave@example.com"}, "required": 1}}})
	if tk := h.fileAt("alice@example.com", prod, "ReadOnlyAccess", time.Time{}); tk.State != broker.StatePending || len(tk.Approvals) != 0 {
		t.Fatalf("bob no longer approves prod: %s %+v, want pending", tk.State, tk.Approvals)
	}
}

func TestOnCallAutoApproval(t *testing.T) {
	h, stub := newAutoApproveHarness(t)
	const dev, staging = "111111111111", "222222222222"
	stub.Set("PSCHED1", "alice@example.com", "someone@example.com")
	stub.Set("og-sched", "alice@example.com")

	tk := h.fileAt("alice@example.com", dev, "PowerUserAccess", time.Time{})
	if tk.State != broker.StateActive || len(tk.Approvals) != 1 || tk.Approvals[0].By != "jit" || tk.Approvals[0].Auto == nil ||
		*tk.Approvals[0].Auto != (broker.AutoApproval{Kind: broker.AutoOnCall, Provider: "pagerduty", Schedule: "PSCHED1"}) {
		t.Fatalf("on call (pagerduty): %s %+v", tk.State, tk.Approvals)
	}
	if !hasEvent(tk, "jit", "auto approve", "pagerduty schedule PSCHED1") {
		t.Fatalf("history %+v", tk.History)
	}
	if r := stub.Requests(); len(r) == 0 || r[len(r)-1].Header.Get("Authorization") != "Token token=stub-secret-token" {
		t.Fatalf("PagerDuty not asked with the token file's key")
	}
	h.closeTicket("alice@example.com", tk)

	tk = h.fileAt("alice@example.com", staging, "PowerUserAccess", time.Time{})
	if tk.State != broker.StateActive || tk.Approvals[0].Auto == nil || tk.Approvals[0].Auto.Provider != "opsgenie" {
		t.Fatalf("on call (opsgenie): %s %+v", tk.State, tk.Approvals)
	}
	h.closeTicket("alice@example.com", tk)

	// Off call, a later start, another permission set, the provider down: they wait.
	for _, c := range []struct {
		name, user, ps string
		start          time.Time
		down           bool
	}{
		{"off call", "dave@example.com", "PowerUserAccess", time.Time{}, false},
		{"starts later", "alice@example.com", "PowerUserAccess", time.Now().Add(2 * time.Hour), false},
		{"rule without on-call", "alice@example.com", "ReadOnlyAccess", time.Time{}, false},
		{"provider down", "alice@example.com", "PowerUserAccess", time.Time{}, true},
	} {
		stub.Down(c.down)
		tk := h.fileAt(c.user, dev, c.ps, c.start)
		if tk.State != broker.StatePending || len(tk.Approvals) != 0 {
			t.Errorf("%s: %s %+v, want pending", c.name, tk.State, tk.Approvals)
		}
		h.closeTicket(c.user, tk)
	}
	stub.Down(false)
	if strings.Contains(h.logs.String(), "stub-secret-token") {
		t.Fatal("the provider's key reached the logs")
	}
}

// hasEvent reports whether t's history holds an event by actor with
// action whose comment contains s.
func hasEvent(t broker.Ticket, actor, action, s string) bool {
	for _, e := range t.History {
		if e.Actor == actor && e.Action == action && strings.Contains(e.Comment, s) {
			return true
		}
	}
	return false
}

// A rule's auto_approve_on_call through jit admin export and apply, and
// the registry's checks of it.
func TestOnCallRuleYAML(t *testing.T) {
	r := broker.RegistryData{
		Accounts:       []broker.Account{{ID: "111111111111", Name: "dev"}},
		PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", RoleName: "ReadOnlyAccess", MaxDuration: time.Hour, ApprovalRequired: true, GrantPath: broker.GrantRole, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}}},
		ApprovalRules: []broker.ApprovalRule{{Account: "*", Stages: []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}},
			AutoApproveOnCall: &broker.OnCallRule{Provider: "opsgenie", Schedule: "4c5a-sched"}}},
		Admins: []string{"carol@example.com"},
	}
	data, err := marshalRegistryYAML(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "auto_approve_on_call:") {
		t.Fatalf("export lacks the field:\n%s", data)
	}
	f, err := parseRegistryYAML("reg.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.data.ApprovalRules[0].AutoApproveOnCall; got == nil || *got != *r.ApprovalRules[0].AutoApproveOnCall {
		t.Fatalf("read back %+v", got)
	}
	if err := broker.CheckRegistry(f.data); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		oc   broker.OnCallRule
		want string
	}{
		{broker.OnCallRule{Provider: "victorops", Schedule: "S1"}, "approval_rules[0].auto_approve_on_call.provider"},
		{broker.OnCallRule{Schedule: "S1"}, "approval_rules[0].auto_approve_on_call.provider"},
		{broker.OnCallRule{Provider: "pagerduty"}, "approval_rules[0].auto_approve_on_call.schedule"},
		{broker.OnCallRule{Provider: "pagerduty", Schedule: "../admin"}, "approval_rules[0].auto_approve_on_call.schedule"},
	} {
		bad := f.data
		bad.ApprovalRules = []broker.ApprovalRule{r.ApprovalRules[0]}
		oc := tc.oc
		bad.ApprovalRules[0].AutoApproveOnCall = &oc
		if err := broker.CheckRegistry(bad); broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want invalid naming %s", tc.oc, err, tc.want)
		}
	}
}
