package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// groupConfig has three accounts whose rules name different approvers.
const groupConfig = `
registry:
  accounts:
    - {id: "111111111111", name: one}
    - {id: "222222222222", name: two}
    - {id: "333333333333", name: three}
  permission_sets:
    - {name: ReadOnlyAccess, role_name: ReadOnlyAccess, max_duration: 12h, approval_required: true, scope: {accounts: ["*"], requester_groups: ["*"]}}
  approval_rules:
    - account: "111111111111"
      stages:
        - {approvers: [a1@example.com]}
    - account: "222222222222"
      stages:
        - {approvers: [a2@example.com]}
    - account: "333333333333"
      stages:
        - {approvers: [a3@example.com]}
  admins: [carol@example.com]
`

// One request for ReadOnlyAccess in three accounts: one ticket per
// account, linked as a group; each account's approver decides only its
// own; each is granted working credentials in its account and cut by
// terminate; one bad account in a request creates nothing.
func TestGroupTicketThreeAccounts(t *testing.T) {
	needAWSCLI(t)
	h := newHarnessWith(t, groupConfig)
	for _, who := range []string{"a1@example.com", "a2@example.com", "a3@example.com"} {
		h.as(who)
	}
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	approver := map[string]string{"111111111111": "a1@example.com", "222222222222": "a2@example.com", "333333333333": "a3@example.com"}

	first := h.request("alice@example.com", "--account", "one", "--account", "222222222222,three",
		"--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "three accounts")
	if first.Group == "" || len(first.GroupTickets) != 3 || first.GroupTickets[0] != first.ID {
		t.Fatalf("group request: group %q tickets %v id %s, want three linked tickets, the first answered", first.Group, first.GroupTickets, first.ID)
	}
	ids := map[string]string{} // account -> ticket
	for i, id := range first.GroupTickets {
		tk := h.get(id)
		if tk.AccountID != accounts[i] || tk.Group != first.Group || !slices.Equal(tk.GroupTickets, first.GroupTickets) ||
			tk.State != broker.StatePending || !slices.Equal(tk.PendingApprovers, []string{approver[accounts[i]]}) {
			t.Fatalf("member %d: account %s group %q %v state %s waiting for %v", i, tk.AccountID, tk.Group, tk.GroupTickets, tk.State, tk.PendingApprovers)
		}
		ids[tk.AccountID] = id
	}

	// Each approver sees only their account's member in the list.
	for acct, who := range approver {
		code, m := h.api(who, "GET", "/api/v1/tickets", nil)
		if code != 200 {
			t.Fatalf("%s lists: %d %v", who, code, m)
		}
		var seen []string
		for _, x := range m["tickets"].([]any) {
			seen = append(seen, x.(map[string]any)["id"].(string))
		}
		if !slices.Equal(seen, []string{ids[acct]}) {
			t.Errorf("%s lists %v, want only %s (account %s)", who, seen, ids[acct], acct)
		}
	}
	// alice's grouped list: one row for the group, with its three members;
	// a2's grouped list: only account 222222222222's member.
	grouped := func(who string) ([]string, []any) {
		t.Helper()
		code, m := h.api(who, "GET", "/api/v1/tickets?grouped=true", nil)
		if code != 200 {
			t.Fatalf("%s grouped list: %d %v", who, code, m)
		}
		var rows []string
		for _, x := range m["tickets"].([]any) {
			rows = append(rows, x.(map[string]any)["id"].(string))
		}
		groups, _ := m["groups"].(map[string]any)
		members, _ := groups[first.Group].([]any)
		return rows, members
	}
	if rows, members := grouped("alice@example.com"); !slices.Equal(rows, []string{first.ID}) || len(members) != 3 ||
		members[1].(map[string]any)["account_id"] != "222222222222" || members[2].(map[string]any)["state"] != "pending" {
		t.Errorf("alice's grouped list: rows %v members %v, want one row and three members", rows, members)
	}
	if rows, members := grouped("a2@example.com"); !slices.Equal(rows, []string{ids["222222222222"]}) || len(members) != 1 {
		t.Errorf("a2's grouped list: rows %v members %v, want only account 222222222222's member", rows, members)
	}
	if code, m := h.api("alice@example.com", "GET", "/api/v1/tickets?group="+first.Group, nil); code != 200 || m["total"] != float64(3) {
		t.Errorf("alice lists the group: %d %v, want its 3 tickets", code, m)
	}

	// a1 may not decide account 222222222222's member.
	code, _, m := h.call("a1@example.com", "POST", "/api/v1/tickets/"+ids["222222222222"]+"/approve", map[string]string{})
	if code != http.StatusNotFound || m["code"] == nil || m["code"] == "" {
		t.Fatalf("a1 approves another account's member: %d %v, want 404 with a code", code, m)
	}
	if tk := h.get(ids["222222222222"]); tk.State != broker.StatePending || len(tk.Approvals) != 0 {
		t.Fatalf("after a1's refused approval: %s %v", tk.State, tk.Approvals)
	}
	for acct, who := range approver {
		h.must(who, "POST", "/api/v1/tickets/"+ids[acct]+"/approve", map[string]string{"comment": "ok"})
	}

	// Each member: active, working credentials in its own account.
	creds := map[string][]string{}
	for _, acct := range accounts {
		id := ids[acct]
		h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		c := h.credentials("alice@example.com", id, "--no-cache")
		env := awsEnv(c)
		out, err := h.awsCLI(env, "sts", "get-caller-identity", "--query", "Arn", "--output", "text")
		want := fmt.Sprintf("arn:aws:sts::%s:assumed-role/ReadOnlyAccess/jit-%s-alice@example.com", acct, id)
		if err != nil || strings.TrimSpace(out) != want {
			t.Fatalf("account %s: caller %q (%v), want %s", acct, out, err, want)
		}
		if out, err := h.awsCLI(env, "s3api", "list-buckets"); err != nil {
			t.Fatalf("account %s: work before terminate: %v\n%s", acct, err, out)
		}
		creds[acct] = env
	}

	// The approver of one account may not terminate another's member.
	if code, _, m := h.call("a3@example.com", "POST", "/api/v1/tickets/"+ids["111111111111"]+"/terminate", map[string]string{}); code/100 == 2 || m["code"] == nil {
		t.Fatalf("a3 terminates account 111111111111's member: %d %v, want refused with a code", code, m)
	}
	// Terminating the group: each member is cut in its own account.
	for _, id := range first.GroupTickets {
		h.must("carol@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]string{"comment": "group done"})
	}
	for _, acct := range accounts {
		tk := h.waitTicket(ids[acct], 10*time.Second, "termination", func(tk broker.Ticket) bool { return tk.State == broker.StateTerminated })
		if tk.Group != first.Group {
			t.Errorf("terminated member %s lost its group: %q", tk.ID, tk.Group)
		}
		if out, err := h.awsCLI(creds[acct], "s3api", "list-buckets"); err == nil || !strings.Contains(out, "AccessDenied") {
			t.Errorf("account %s: session after terminate: want AccessDenied, got err=%v\n%s", acct, err, out)
		}
		if _, errOut, err := h.jit("alice@example.com", "credentials", "--ticket", ids[acct], "--no-cache"); err == nil || !strings.Contains(errOut, "terminated") {
			t.Errorf("account %s: new credentials after terminate: err=%v %q", acct, err, errOut)
		}
	}

	// Each member's audit events carry the group id.
	for _, acct := range accounts {
		code, page := h.api("carol@example.com", "GET", "/api/v1/audit?ticket="+ids[acct], nil)
		events, _ := page["events"].([]any)
		if code != 200 || len(events) < 4 {
			t.Fatalf("audit of %s: %d %v", ids[acct], code, page)
		}
		for _, e := range events {
			if ev := e.(map[string]any); strings.HasPrefix(fmt.Sprint(ev["type"]), "ticket.") && ev["group"] != first.Group {
				t.Errorf("audit event %v of member %s: group %v, want %s", ev["type"], ids[acct], ev["group"], first.Group)
			}
		}
	}

	// One bad account: nothing is created.
	count := func() int {
		code, m := h.api("alice@example.com", "GET", "/api/v1/tickets", nil)
		if code != 200 {
			t.Fatalf("alice lists: %d %v", code, m)
		}
		return int(m["total"].(float64))
	}
	before := count()
	for _, bad := range [][]string{
		{"111111111111", "999999999999"}, // not registered
		{"111111111111", "22222222222x"}, // not an account id
	} {
		code, _, m := h.call("alice@example.com", "POST", "/api/v1/tickets", map[string]any{"accounts": bad,
			"permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "one bad"})
		if code/100 == 2 || m["code"] == nil || !strings.Contains(fmt.Sprint(m["message"]), bad[1]) {
			t.Errorf("request with %v: %d %v, want refused with a code naming %s", bad, code, m, bad[1])
		}
	}
	if after := count(); after != before {
		t.Fatalf("alice's tickets: %d before the bad requests, %d after, want nothing created", before, after)
	}
}
