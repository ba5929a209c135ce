package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The CLI takes a group's id (one request for several accounts):
// terminate, done and tickets get act on each member the caller may see,
// one line each, non-zero when one failed; an approver of one account
// ends only that account's member and gets not-found for the others;
// credentials, exec and configure pick a member with --account (id or
// name), and without it name the accounts.
func TestGroupCLI(t *testing.T) {
	needAWSCLI(t)
	h := newHarnessWith(t, groupConfig)
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	approver := map[string]string{"111111111111": "a1@example.com", "222222222222": "a2@example.com", "333333333333": "a3@example.com"}
	for _, who := range approver {
		h.as(who)
	}
	// activeGroup files a request for the three accounts as alice and has
	// each approved; it returns the group and its members by account.
	activeGroup := func(reason string) (string, map[string]string) {
		t.Helper()
		first := h.request("alice@example.com", "--account", "one,two,three", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", reason)
		if first.Group == "" || len(first.GroupTickets) != 3 {
			t.Fatalf("group request: %+v", first)
		}
		ids := map[string]string{}
		for i, id := range first.GroupTickets {
			ids[accounts[i]] = id
			h.must(approver[accounts[i]], "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{"comment": "ok"})
		}
		for _, id := range ids {
			h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		}
		return first.Group, ids
	}
	group, ids := activeGroup("group A")

	// tickets get GROUP: one line per member.
	out, errOut, err := h.jit("alice@example.com", "tickets", "get", group)
	if err != nil || strings.Count(out, ": active (ticket ") != 3 || !strings.Contains(out, "222222222222 (two): active (ticket "+ids["222222222222"]+")") {
		t.Fatalf("tickets get GROUP: err=%v\n%s%s", err, out, errOut)
	}

	// credentials --ticket GROUP without --account: an error naming the accounts.
	_, errOut, err = h.jit("alice@example.com", "credentials", "--ticket", group, "--no-cache")
	for _, want := range []string{"3 accounts", "111111111111 (one)", "222222222222 (two)", "333333333333 (three)", "--account"} {
		if err == nil || !strings.Contains(errOut, want) {
			t.Fatalf("credentials --ticket GROUP without --account: err=%v %q, want an error with %q", err, errOut, want)
		}
	}
	_, errOut, err = h.jit("alice@example.com", "credentials", "--ticket", group, "--account", "nosuch")
	if err == nil || !strings.Contains(errOut, `unknown account "nosuch"`) {
		t.Fatalf("credentials --account nosuch: err=%v %q", err, errOut)
	}
	// --account by name and by id: the member's session, in its account.
	for _, pick := range []struct{ flag, account string }{{"two", "222222222222"}, {"333333333333", "333333333333"}} {
		c := h.credentials("alice@example.com", group, "--account", pick.flag, "--no-cache")
		got, err := h.awsCLI(awsEnv(c), "sts", "get-caller-identity", "--query", "[Account,Arn]", "--output", "text")
		if err != nil || !strings.HasPrefix(got, pick.account+"\t") || !strings.Contains(got, "jit-"+ids[pick.account]+"-alice@example.com") {
			t.Fatalf("credentials --ticket GROUP --account %s: caller %q (%v), want account %s, ticket %s", pick.flag, got, err, pick.account, ids[pick.account])
		}
	}
	// exec picks the same way.
	out, errOut, err = h.jit("alice@example.com", "exec", "--ticket", group, "--account", "one", "--",
		"/usr/bin/aws", "--endpoint-url", h.awsURL, "--region", "us-east-1", "sts", "get-caller-identity", "--query", "Account", "--output", "text")
	if err != nil || strings.TrimSpace(out) != "111111111111" {
		t.Fatalf("exec --ticket GROUP --account one: %q err=%v %s", out, err, errOut)
	}
	// configure writes the member's own ticket id.
	cfg := filepath.Join(t.TempDir(), "config")
	cmd := h.jitCmd("alice@example.com", "configure", "--ticket", group, "--account", "three")
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE="+cfg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("configure --ticket GROUP --account three: %v %s", err, b)
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), "[profile jit-"+ids["333333333333"]+"]") || !strings.Contains(string(b), "--ticket "+ids["333333333333"]) {
		t.Fatalf("configure wrote:\n%s\nwant account 333333333333's member %s", b, ids["333333333333"])
	}

	// The administrator terminates the group: all three end, exit 0.
	out, errOut, err = h.jit("carol@example.com", "terminate", group, "--comment", "group done")
	if err != nil || strings.Count(out, ": terminated (ticket ") != 3 {
		t.Fatalf("terminate GROUP as admin: err=%v\n%s%s", err, out, errOut)
	}
	for _, acct := range accounts {
		if !strings.Contains(out, acct) {
			t.Errorf("terminate GROUP output names no %s:\n%s", acct, out)
		}
		h.waitTicket(ids[acct], 10*time.Second, "termination", func(tk broker.Ticket) bool { return tk.State == broker.StateTerminated })
	}

	// An approver of one account terminates only that one; the others are
	// not found for them, reported, and the exit is non-zero.
	group, ids = activeGroup("group B")
	out, errOut, err = h.jit("a2@example.com", "terminate", group, "--output", "json")
	var results []memberResult
	if jerr := json.Unmarshal([]byte(out), &results); err == nil || jerr != nil || len(results) != 3 {
		t.Fatalf("terminate GROUP as a2: err=%v, want non-zero and 3 results: %v\n%s%s", err, jerr, out, errOut)
	}
	if !strings.Contains(errOut, "2 of the 3 tickets of group "+group+" failed") {
		t.Errorf("terminate GROUP as a2: stderr %q", errOut)
	}
	for i, r := range results {
		acct := accounts[i]
		if r.TicketID != ids[acct] {
			t.Fatalf("result %d is ticket %s, want %s (the group's order)", i, r.TicketID, ids[acct])
		}
		if acct == "222222222222" {
			if r.Error != nil || r.Ticket == nil || r.Ticket.State != broker.StateTerminated || r.AccountID != acct {
				t.Errorf("a2's own member: %+v, want terminated", r)
			}
			continue
		}
		if r.Error == nil || r.Error.Code != broker.ENOTFOUND || r.Ticket != nil || r.AccountID != "" {
			t.Errorf("member in %s as a2: %+v, want not_found and no account shown", acct, r)
		}
		if tk := h.get(ids[acct]); tk.State != broker.StateActive {
			t.Errorf("member in %s after a2's terminate: %s, want still active", acct, tk.State)
		}
	}
	// alice says done on the group: the two active members end; the one
	// already terminated is refused, in text, one line each.
	out, errOut, err = h.jit("alice@example.com", "done", group)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err == nil || len(lines) != 3 || !strings.HasPrefix(lines[0], "111111111111 (one): ") || !strings.Contains(lines[1], "222222222222 (two): ") ||
		!strings.Contains(lines[1], "(conflict)") || !strings.HasPrefix(lines[2], "333333333333 (three): ") {
		t.Fatalf("done GROUP as alice: err=%v\n%s%s", err, out, errOut)
	}
	for _, acct := range []string{"111111111111", "333333333333"} {
		h.waitTicket(ids[acct], 10*time.Second, "done", func(tk broker.Ticket) bool { return tk.State != broker.StateActive })
	}
	// A ticket id still works as before, and is not mistaken for a group.
	out, errOut, err = h.jit("alice@example.com", "tickets", "get", ids["111111111111"], "--output", "json")
	var one broker.Ticket
	if jerr := json.Unmarshal([]byte(out), &one); err != nil || jerr != nil || one.ID != ids["111111111111"] {
		t.Fatalf("tickets get MEMBER: %v %v %s%s", err, jerr, out, errOut)
	}
	if _, errOut, err := h.jit("alice@example.com", "terminate", "nosuchid"); err == nil || !strings.Contains(errOut, "not_found") {
		t.Fatalf("terminate of an unknown id: err=%v %q, want not found", err, errOut)
	}
}
