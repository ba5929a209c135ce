package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/jitaccess/jit/broker"
)

// workflowConfig is the registry the workflow tests run with:
//   - any account: bob approves (one stage);
//   - dev PowerUserAccess: the group "approvers" (bob is in it);
//   - prod: 2 of a1, a2, a3, then 1 of the group "secops";
//   - staging AdministratorAccess: bob, late approvals keep the length;
//   - staging PowerUserAccess: bob, a 3 s deadline, reminders every second;
//   - staging ReadOnlyAccess: 3 of c1..c6, then the group "secops";
//   - staging ViewOnlyAccess: no approval needed.
//
// alice files more tickets than the default pending cap (the delegation
// flow files one per approval until a window ends), which is not what
// these tests are about (hostile_test.go tests the cap).
const workflowConfig = `
tickets:
  max_pending_per_requester: 1000000
registry:
  accounts:
    - {id: "111111111111", name: dev}
    - {id: "222222222222", name: staging}
    - {id: "333333333333", name: prod}
  permission_sets:
    - {name: ReadOnlyAccess, role_name: ReadOnlyAccess, max_duration: 12h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
    - {name: PowerUserAccess, role_name: PowerUserAccess, max_duration: 8h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
    - {name: AdministratorAccess, role_name: AdministratorAccess, max_duration: 4h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
  approval_rules:
    - account: "*"
      stages:
        - {approvers: [bob@example.com], required: 1}
    - account: "111111111111"
      permission_set: PowerUserAccess
      stages:
        - {approvers: ["group:approvers"], required: 1}
    - account: "333333333333"
      stages:
        - {approvers: [a1@example.com, a2@example.com, a3@example.com], required: 2}
        - {approvers: ["group:secops"], required: 1}
    - account: "222222222222"
      permission_set: AdministratorAccess
      late_approval: keep_length
      stages:
        - {approvers: [bob@example.com]}
    - account: "222222222222"
      permission_set: PowerUserAccess
      deadline: 3s
      remind_every: 1s
      stages:
        - {approvers: [bob@example.com]}
    - account: "222222222222"
      permission_set: ReadOnlyAccess
      stages:
        - {approvers: [c1@example.com, c2@example.com, c3@example.com, c4@example.com, c5@example.com, c6@example.com], required: 3}
        - {approvers: ["group:secops"], required: 1}
  admins: [carol@example.com]
  request_for_others: [alice@example.com, carol@example.com]
`

// Users of the workflow tests besides the demo users (alice requests, dave
// benefits, bob approves, carol administers).
var workflowUsers = map[string][]string{
	"a1@example.com": nil, "a2@example.com": nil, "a3@example.com": nil,
	"sec1@example.com": {"secops"}, "sec2@example.com": {"SecOps", "other"},
	"eve@example.com": {"engineers"}, "del@example.com": nil, "fut@example.com": nil, "del2@example.com": nil,
	"c1@example.com": nil, "c2@example.com": nil, "c3@example.com": nil, "c4@example.com": nil, "c5@example.com": nil, "c6@example.com": nil,
}

// newWorkflowHarness starts a server with workflowConfig and tokens for
// workflowUsers.
func newWorkflowHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarnessWith(t, workflowConfig)
	for email, groups := range workflowUsers {
		h.as(email, groups...)
	}
	return h
}

// as makes a token for a user the issuer does not know, with the given groups.
func (h *harness) as(email string, groups ...string) {
	h.t.Helper()
	claims, err := h.idp.Claims("alice@example.com", time.Hour)
	if err != nil {
		h.t.Fatal(err)
	}
	if groups == nil {
		groups = []string{}
	}
	claims["sub"], claims["email"], claims["name"], claims["groups"] = email, email, email, groups
	tok, err := h.idp.Sign(claims)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tokens.Store(email, tok)
}

// call makes one API request and returns the status and the answer as a
// ticket (when it is one) and as a map.
func (h *harness) call(user, method, path string, body any) (int, broker.Ticket, map[string]any) {
	h.t.Helper()
	code, m := h.api(user, method, path, body)
	var tk broker.Ticket
	if data, err := json.Marshal(m); err == nil {
		json.Unmarshal(data, &tk)
	}
	return code, tk, m
}

// file files a ticket as user and returns its id, failing unless 201.
func (h *harness) file(user string, body map[string]any) string {
	h.t.Helper()
	code, tk, m := h.call(user, "POST", "/api/v1/tickets", body)
	if code != http.StatusCreated {
		h.t.Fatalf("file ticket %v: %d %v", body, code, m)
	}
	return tk.ID
}

// must makes a request that has to succeed (2xx).
func (h *harness) must(user, method, path string, body any) broker.Ticket {
	h.t.Helper()
	code, tk, m := h.call(user, method, path, body)
	if code/100 != 2 {
		h.t.Fatalf("%s %s %s: %d %v", user, method, path, code, m)
	}
	return tk
}

// get reads a ticket as carol, the admin.
func (h *harness) get(id string) broker.Ticket {
	h.t.Helper()
	return h.must("carol@example.com", "GET", "/api/v1/tickets/"+id, nil)
}

// waitTicket polls until cond holds for the ticket, or fails after within.
func (h *harness) waitTicket(id string, within time.Duration, what string, cond func(broker.Ticket) bool) broker.Ticket {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		tk := h.get(id)
		if cond(tk) {
			return tk
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("ticket %s: %s did not happen within %s; ticket is %s: %+v", id, what, within, tk.State, tk)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// taskIDs returns the ids of the ticket's tasks of kind in the given
// states (all states when none are given). Unlike h.tasks it reads every
// page, since a long test leaves many tasks behind.
func (h *harness) taskIDs(id string, kind broker.TaskKind, states ...string) []string {
	h.t.Helper()
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: redisAddr, DB: h.db})
	defer in.Close()
	queues, err := in.Queues()
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, q := range queues {
		for state, list := range map[string]func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
			"scheduled": in.ListScheduledTasks, "pending": in.ListPendingTasks, "active": in.ListActiveTasks,
			"retry": in.ListRetryTasks, "completed": in.ListCompletedTasks, "archived": in.ListArchivedTasks,
		} {
			if len(states) > 0 && !slices.Contains(states, state) {
				continue
			}
			for page := 1; ; page++ {
				ts, err := list(q, asynq.PageSize(500), asynq.Page(page))
				if err != nil {
					h.t.Fatal(err)
				}
				for _, t := range ts {
					if t.Type == string(kind) && strings.Contains(string(t.Payload), `"ticket_id":"`+id+`"`) {
						out = append(out, t.ID)
					}
				}
				if len(ts) < 500 {
					break
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
