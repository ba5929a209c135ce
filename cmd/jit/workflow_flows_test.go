package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/tasks"
)

// TestWorkflowFlows runs the approval workflow's longer stories against
// one server: concurrent approvals, delegation windows, edit and resend,
// extensions, cancel, late approval and deadlines.
func TestWorkflowFlows(t *testing.T) {
	h := newWorkflowHarness(t)
	t.Run("ConcurrentApprovals", func(t *testing.T) { testConcurrentApprovals(t, h) })
	t.Run("Delegation", func(t *testing.T) { testDelegation(t, h) })
	t.Run("EditAndResend", func(t *testing.T) { testEditAndResend(t, h) })
	t.Run("Extension", func(t *testing.T) { testExtension(t, h) })
	t.Run("Cancel", func(t *testing.T) { testCancel(t, h) })
	t.Run("LateApproval", func(t *testing.T) { testLateApproval(t, h) })
	t.Run("Deadline", func(t *testing.T) { testDeadline(t, h) })
	t.Run("CLI", func(t *testing.T) { testWorkflowCLI(t, h) })
}

// Six approvers of a 3-of-6 stage click at the same moment: exactly three
// count, the stage moves on once, and the others are told they are not
// approvers of stage 2. One approver clicking ten times at once counts once.
func testConcurrentApprovals(t *testing.T, h *harness) {
	approvers := []string{"c1@example.com", "c2@example.com", "c3@example.com", "c4@example.com", "c5@example.com", "c6@example.com"}
	for round := range 5 {
		id := h.file("alice@example.com", map[string]any{"account_id": staging, "permission_set": ro, "duration": "1h", "reason": "race"})
		codes := make([]int, len(approvers))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, a := range approvers {
			wg.Go(func() {
				<-start
				codes[i], _ = h.api(a, "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{"comment": "go"})
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case 200:
				ok++
			case 403:
			default:
				t.Errorf("round %d: unexpected status %d", round, c)
			}
		}
		tk := h.get(id)
		if ok != 3 || len(tk.Approvals) != 3 || tk.Stage != 1 || tk.State != broker.StatePending {
			t.Fatalf("round %d: %d approvals answered 200, %d recorded, stage %d, state %s; want exactly 3 at stage 1", round, ok, len(tk.Approvals), tk.Stage, tk.State)
		}
		if !slices.Equal(tk.PendingApprovers, []string{"group:secops"}) {
			t.Fatalf("pending approvers %v, want group:secops", tk.PendingApprovers)
		}
	}

	id := h.file("alice@example.com", map[string]any{"account_id": staging, "permission_set": ro, "duration": "1h", "reason": "race"})
	codes := make(chan int, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			c, _ := h.api("c1@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{})
			codes <- c
		})
	}
	wg.Wait()
	close(codes)
	n := 0
	for c := range codes {
		if c == 200 {
			n++
		} else if c != 409 {
			t.Errorf("same approver again: status %d, want 409", c)
		}
	}
	if tk := h.get(id); n != 1 || len(tk.Approvals) != 1 {
		t.Fatalf("one approver clicking ten times: %d answered 200, %d recorded; want 1", n, len(tk.Approvals))
	}
}

// A delegation lets its delegate act only inside its window; the audit
// says "delegate for delegator"; a delegate may still delegate their own
// approvals and may decline what was delegated to them.
func testDelegation(t *testing.T, h *harness) {
	now := time.Now().UTC().Truncate(time.Second)
	start, end := now.Add(3*time.Second), now.Add(6*time.Second)
	code, _, m := h.call("a2@example.com", "POST", "/api/v1/delegations", map[string]string{"to": "del2@example.com", "start": rfc(start), "end": rfc(end)})
	if code != http.StatusCreated {
		t.Fatalf("delegate: %d %v", code, m)
	}
	delID, _ := m["id"].(string)
	id := h.file("alice@example.com", map[string]any{"account_id": prod, "permission_set": ro, "duration": "1h", "reason": "delegation"})
	path := "/api/v1/tickets/" + id
	// Before the window: the delegate neither sees nor decides.
	if code, _ := h.api("del2@example.com", "GET", path, nil); code != 404 && time.Now().Before(start) {
		t.Fatalf("delegate before the window sees the ticket: %d", code)
	}
	if code, _ := h.api("del2@example.com", "GET", "/api/v1/tickets?pending_for_me=true", nil); code != 200 {
		t.Fatalf("pending_for_me: %d", code)
	}
	var approvedAt time.Time
	for {
		code, _, m := h.call("del2@example.com", "POST", path+"/approve", map[string]string{"comment": "for a2"})
		at := time.Now()
		if code == 200 {
			if at.Before(start) {
				t.Fatalf("delegate approved at %s, before the window starts at %s", at, start)
			}
			approvedAt = at
			break
		}
		if code != 404 {
			t.Fatalf("delegate before the window: %d %v, want 404", code, m)
		}
		if at.After(end) {
			t.Fatalf("delegate never got in during the window")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("delegate got in %s after the window opened", approvedAt.Sub(start))
	tk := h.get(id)
	if len(tk.Approvals) != 1 || tk.Approvals[0].By != "del2@example.com" || tk.Approvals[0].For != "a2@example.com" {
		t.Fatalf("approvals %+v, want del2 for a2", tk.Approvals)
	}
	if !slices.ContainsFunc(tk.History, func(e broker.Event) bool {
		return e.Actor == "del2@example.com for a2@example.com" && e.Action == "approve"
	}) {
		t.Fatalf("history %+v lacks 'del2 for a2'", tk.History)
	}
	// a2 cannot count a second time through the delegate's approval.
	if code, _ := h.api("a2@example.com", "POST", path+"/approve", map[string]string{}); code != 409 {
		t.Fatalf("delegator after the delegate acted: %d, want 409", code)
	}
	// Inside the window, pending_for_me shows the delegator's tickets.
	id2 := h.file("alice@example.com", map[string]any{"account_id": prod, "permission_set": ro, "duration": "1h", "reason": "delegation 2"})
	if time.Now().Before(end.Add(-time.Second)) {
		var list struct {
			Tickets []broker.Ticket `json:"tickets"`
		}
		_, m := h.api("del2@example.com", "GET", "/api/v1/tickets?pending_for_me=true", nil)
		data, _ := json.Marshal(m)
		json.Unmarshal(data, &list)
		if !slices.ContainsFunc(list.Tickets, func(t broker.Ticket) bool { return t.ID == id2 }) && time.Now().Before(end) {
			t.Errorf("pending_for_me of the delegate inside the window lacks %s", id2)
		}
	}
	// After the window: gone again.
	for {
		code, _ := h.api("del2@example.com", "POST", "/api/v1/tickets/"+id2+"/approve", map[string]string{})
		// A ticket filed inside the window names the delegate in its plan,
		// so after the window it is seen (403) rather than hidden (404).
		if code == 404 || code == 403 {
			if time.Now().Before(end) {
				// Refused inside the window: only a race with the end may do that.
				time.Sleep(100 * time.Millisecond)
				continue
			}
			break
		}
		if code == 200 {
			if time.Now().After(end.Add(time.Second)) {
				t.Fatalf("delegate approved after the window ended")
			}
			// Approved inside the window; file another to see the end.
			id2 = h.file("alice@example.com", map[string]any{"account_id": prod, "permission_set": ro, "duration": "1h", "reason": "delegation 3"})
			continue
		}
		t.Fatalf("delegate near the end of the window: %d", code)
	}

	// The API: list, delegating while someone's delegate, no past windows,
	// delete by the delegator or (declining) the delegate.
	later := map[string]string{"start": rfc(time.Now().Add(time.Hour)), "end": rfc(time.Now().Add(2 * time.Hour))}
	with := func(to string, kv map[string]string) map[string]string {
		out := map[string]string{"to": to}
		for k, v := range kv {
			out[k] = v
		}
		return out
	}
	for _, c := range []struct {
		who  string
		body map[string]string
		want int
	}{
		{"a1@example.com", with("fut@example.com", later), 201},
		{"fut@example.com", with("eve@example.com", later), 201}, // fut is a1's delegate then, and delegates their own approvals
		{"eve@example.com", with("a1@example.com", later), 201},  // a1 delegated away then: not a cycle, and nothing to reveal
		{"fut@example.com", with("eve@example.com", map[string]string{"start": rfc(time.Now().Add(3 * time.Hour)), "end": rfc(time.Now().Add(4 * time.Hour))}), 201}, // other window
		{"a1@example.com", with("fut@example.com", later), 409}, // the same again
		{"a3@example.com", with("a3@example.com", later), 400},  // to oneself
		{"a3@example.com", with("eve@example.com", map[string]string{"start": rfc(time.Now().Add(-2 * time.Hour)), "end": rfc(time.Now().Add(-time.Hour))}), 400}, // past
		{"a3@example.com", with("eve@example.com", map[string]string{"end": rfc(time.Now().Add(-time.Minute))}), 400},
		{"a3@example.com", with("not-an-email", later), 400},
		{"a3@example.com", map[string]string{"to": "eve@example.com"}, 400}, // no end
	} {
		code, _, m := h.call(c.who, "POST", "/api/v1/delegations", c.body)
		if code != c.want {
			t.Errorf("%s delegates %v: %d %v, want %d", c.who, c.body, code, m, c.want)
		}
	}
	code, m = h.api("a2@example.com", "GET", "/api/v1/delegations", nil)
	if list, _ := m["delegations"].([]any); code != 200 || len(list) != 1 {
		t.Fatalf("a2's delegations: %d %v", code, m)
	}
	if code, _ := h.api("eve@example.com", "DELETE", "/api/v1/delegations/"+delID, nil); code != 404 {
		t.Fatalf("a stranger deletes the delegation: %d, want 404", code)
	}
	if code, _ := h.api("del2@example.com", "DELETE", "/api/v1/delegations/"+delID, nil); code != 204 {
		t.Fatalf("the delegate declines the delegation: %d, want 204", code)
	}
	if code, _ := h.api("a2@example.com", "DELETE", "/api/v1/delegations/"+delID, nil); code != 404 {
		t.Fatalf("delete after the delegate declined: %d, want 404", code)
	}
}

// A rejected ticket is edited and resent as revision 2: pending, stage 0,
// no approvals, a fresh plan, and revision 1 kept with its decisions.
func testEditAndResend(t *testing.T, h *harness) {
	id := h.file("alice@example.com", map[string]any{"account_id": prod, "permission_set": ro, "duration": "1h", "reason": "first"})
	path := "/api/v1/tickets/" + id
	h.must("a1@example.com", "POST", path+"/approve", map[string]string{"comment": "fine"})
	h.must("a2@example.com", "POST", path+"/reject", map[string]string{"comment": "too long"})
	if code, _ := h.api("alice@example.com", "PUT", path, map[string]any{"reason": "second", "bogus": 1}); code != 400 {
		t.Fatalf("edit with an unknown field: %d, want 400", code)
	}
	tk := h.must("alice@example.com", "PUT", path, map[string]any{"reason": "second", "duration": "30m", "beneficiaries": []string{"alice@example.com", "dave@example.com"}})
	if tk.Revision != 2 || tk.State != broker.StatePending || tk.Stage != 0 || len(tk.Approvals) != 0 || tk.Closed != nil || tk.Reason != "second" {
		t.Fatalf("resent: revision %d state %s stage %d approvals %v closed %v reason %q", tk.Revision, tk.State, tk.Stage, tk.Approvals, tk.Closed, tk.Reason)
	}
	if d := tk.End.Sub(tk.Start); d != 30*time.Minute || !slices.Equal(tk.Beneficiaries, []string{"alice@example.com", "dave@example.com"}) {
		t.Fatalf("window %s beneficiaries %v", d, tk.Beneficiaries)
	}
	if len(tk.Revisions) != 1 {
		t.Fatalf("revisions %+v, want revision 1 kept", tk.Revisions)
	}
	r := tk.Revisions[0]
	if r.Revision != 1 || r.Reason != "first" || len(r.Approvals) != 1 || r.Approvals[0].By != "a1@example.com" || r.Closed == nil || r.Closed.By != "a2@example.com" || r.Closed.Comment != "too long" {
		t.Fatalf("revision 1 kept as %+v", r)
	}
	// The approvals are reset: a1 counts again in revision 2.
	h.must("a1@example.com", "POST", path+"/approve", map[string]string{})
	h.must("a2@example.com", "POST", path+"/approve", map[string]string{})
	tk = h.must("sec1@example.com", "POST", path+"/approve", map[string]string{})
	if tk.State != broker.StateApproved || len(tk.Approvals) != 3 {
		t.Fatalf("revision 2 approved: state %s approvals %d", tk.State, len(tk.Approvals))
	}
	if !slices.ContainsFunc(tk.History, func(e broker.Event) bool { return e.Action == "resend" }) {
		t.Fatalf("history lacks the resend: %+v", tk.History)
	}
}

// An approved extension moves the end and reschedules the expiry (the old
// task gone, the new one there); a rejected one leaves the ticket active
// with its end.
func testExtension(t *testing.T, h *harness) {
	id := h.setup("active", dev, ro)
	path := "/api/v1/tickets/" + id
	tk := h.get(id)
	oldEnd := tk.End
	oldTask := tasks.TaskID(broker.TaskExpire, id, oldEnd)
	if got := h.taskIDs(id, broker.TaskExpire, "scheduled"); !slices.Equal(got, []string{oldTask}) {
		t.Fatalf("expire tasks before the extension: %v, want %s", got, oldTask)
	}
	newEnd := oldEnd.Add(45 * time.Minute)
	tk = h.must("alice@example.com", "POST", path+"/extend", map[string]string{"end": rfc(newEnd), "reason": "incident runs long"})
	if tk.State != broker.StateActive || tk.Extension == nil || tk.Extension.State != broker.ExtensionPending || !tk.End.Equal(oldEnd) {
		t.Fatalf("extension requested: %+v", tk)
	}
	// bob sees it waiting for him.
	_, m := h.api("bob@example.com", "GET", "/api/v1/tickets?pending_for_me=true", nil)
	if !strings.Contains(fmt.Sprint(m), id) {
		t.Fatalf("pending_for_me of bob lacks the extension of %s", id)
	}
	tk = h.must("bob@example.com", "POST", path+"/approve", map[string]string{"comment": "ok"})
	if !tk.End.Equal(newEnd) || tk.State != broker.StateActive || tk.Extension.State != broker.ExtensionApproved {
		t.Fatalf("extension approved: end %s state %s extension %+v", tk.End, tk.State, tk.Extension)
	}
	newTask := tasks.TaskID(broker.TaskExpire, id, newEnd)
	if got := h.taskIDs(id, broker.TaskExpire); !slices.Equal(got, []string{newTask}) {
		t.Fatalf("expire tasks after the extension: %v, want only %s", got, newTask)
	}
	// The window may not exceed the permission set's maximum (12h).
	if code, _ := h.api("alice@example.com", "POST", path+"/extend", map[string]string{"end": rfc(tk.Start.Add(12*time.Hour + time.Second)), "reason": "x"}); code != 400 {
		t.Fatalf("extension beyond the maximum: %d, want 400", code)
	}
	if code, _ := h.api("alice@example.com", "POST", path+"/extend", map[string]string{"end": rfc(tk.Start.Add(12 * time.Hour)), "reason": "all day"}); code != 200 {
		t.Fatalf("extension to exactly the maximum: %d, want 200", code)
	}
	tk = h.must("bob@example.com", "POST", path+"/reject", map[string]string{"comment": "enough"})
	if tk.State != broker.StateActive || !tk.End.Equal(newEnd) || tk.Extension.State != broker.ExtensionRejected || tk.Extension.Closed.Comment != "enough" {
		t.Fatalf("extension rejected: state %s end %s extension %+v", tk.State, tk.End, tk.Extension)
	}
	if got := h.taskIDs(id, broker.TaskExpire); !slices.Equal(got, []string{newTask}) {
		t.Fatalf("expire tasks after a rejected extension: %v, want %s", got, newTask)
	}
	// Credentials keep working after the extension.
	if code, m := h.api("alice@example.com", "POST", path+"/credentials", nil); code != 200 {
		t.Fatalf("credentials after the extension: %d %v", code, m)
	}
}

// Cancel removes the ticket's scheduled tasks: deadline and reminders of a
// pending ticket, activation of an approved one.
func testCancel(t *testing.T, h *harness) {
	id := h.file("alice@example.com", map[string]any{"account_id": staging, "permission_set": pu, "duration": "1h", "reason": "cancel me"})
	if len(h.taskIDs(id, broker.TaskDeadline, "scheduled", "pending")) != 1 {
		t.Fatalf("no deadline task scheduled for a pending ticket: %v", h.tasks())
	}
	tk := h.must("alice@example.com", "POST", "/api/v1/tickets/"+id+"/cancel", map[string]string{"comment": "not needed"})
	if tk.State != broker.StateCancelled || tk.Closed == nil || tk.Closed.By != "alice@example.com" {
		t.Fatalf("cancelled: %+v", tk)
	}
	for _, k := range []broker.TaskKind{broker.TaskDeadline, broker.TaskRemind} {
		if got := h.taskIDs(id, k, "scheduled", "pending", "retry"); len(got) != 0 {
			t.Fatalf("%s tasks left after cancel: %v", k, got)
		}
	}

	id = h.setup("approved", dev, ro)
	if got := h.taskIDs(id, broker.TaskActivate, "scheduled"); len(got) != 1 {
		t.Fatalf("activation tasks of an approved ticket: %v", got)
	}
	h.must("alice@example.com", "POST", "/api/v1/tickets/"+id+"/cancel", nil)
	if got := h.taskIDs(id, broker.TaskActivate, "scheduled", "pending", "retry"); len(got) != 0 {
		t.Fatalf("activation left after cancel: %v", got)
	}
	if tk := h.get(id); tk.State != broker.StateCancelled {
		t.Fatalf("state %s, want cancelled", tk.State)
	}
}

// Approval after the requested start: keep_end (dev) shrinks the window,
// keep_length (staging AdministratorAccess) moves it.
func testLateApproval(t *testing.T, h *harness) {
	start := time.Now().UTC().Truncate(time.Second).Add(2 * time.Second)
	end := start.Add(time.Minute)
	keepEnd := h.file("alice@example.com", map[string]any{"account_id": dev, "permission_set": ro, "start": rfc(start), "end": rfc(end), "reason": "late"})
	keepLen := h.file("alice@example.com", map[string]any{"account_id": staging, "permission_set": admin, "start": rfc(start), "end": rfc(end), "reason": "late"})
	// Wait until the start has passed by a whole second.
	time.Sleep(time.Until(start.Add(1500 * time.Millisecond)))
	tk := h.must("bob@example.com", "POST", "/api/v1/tickets/"+keepEnd+"/approve", map[string]string{})
	if tk.State != broker.StateApproved || !tk.Start.After(start) || !tk.End.Equal(end) || tk.LateApproval != broker.LateKeepEnd {
		t.Fatalf("keep_end: start %s end %s policy %s; want a later start and the end %s", tk.Start, tk.End, tk.LateApproval, end)
	}
	tk = h.must("bob@example.com", "POST", "/api/v1/tickets/"+keepLen+"/approve", map[string]string{})
	if tk.State != broker.StateApproved || !tk.Start.After(start) || tk.End.Sub(tk.Start) != time.Minute || !tk.End.After(end) {
		t.Fatalf("keep_length: start %s end %s; want the window moved, a minute long", tk.Start, tk.End)
	}
	for _, id := range []string{keepEnd, keepLen} {
		h.waitTicket(id, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
		got := h.taskIDs(id, broker.TaskExpire, "scheduled")
		if want := tasks.TaskID(broker.TaskExpire, id, h.get(id).End); !slices.Equal(got, []string{want}) {
			t.Fatalf("expire tasks %v, want %s", got, want)
		}
	}
}

// A pending ticket expires at the rule's approval deadline (with reminders
// before it), or at its end when there is no deadline.
func testDeadline(t *testing.T, h *harness) {
	id := h.file("alice@example.com", map[string]any{"account_id": staging, "permission_set": pu, "duration": "1h", "reason": "nobody decides"})
	tk := h.get(id)
	if tk.ApprovalDeadline.IsZero() || tk.ApprovalDeadline.Sub(tk.CreatedAt) > 4*time.Second {
		t.Fatalf("approval deadline %s for a ticket filed at %s, want about 3 s later", tk.ApprovalDeadline, tk.CreatedAt)
	}
	tk = h.waitTicket(id, 15*time.Second, "deadline expiry", func(tk broker.Ticket) bool { return tk.State == broker.StateExpired })
	last := tk.History[len(tk.History)-1]
	if last.Action != "expire" || !strings.Contains(last.Comment, "deadline") {
		t.Fatalf("last event %+v, want the deadline expiry", last)
	}
	if n := countEvents(tk, "remind"); n < 1 {
		t.Fatalf("no reminder before the deadline: %+v", tk.History)
	}
	if code, _ := h.api("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]string{}); code != 409 {
		t.Fatalf("approving after the deadline: %d, want 409", code)
	}

	start := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	id = h.file("alice@example.com", map[string]any{"account_id": dev, "permission_set": ro, "start": rfc(start), "end": rfc(start.Add(2 * time.Second)), "reason": "short"})
	tk = h.waitTicket(id, 15*time.Second, "expiry at the end", func(tk broker.Ticket) bool { return tk.State == broker.StateExpired })
	if last := tk.History[len(tk.History)-1]; !strings.Contains(last.Comment, "ended before it was approved") {
		t.Fatalf("last event %+v, want expiry at the end", last)
	}
}

func countEvents(tk broker.Ticket, action string) int {
	n := 0
	for _, e := range tk.History {
		if e.Action == action {
			n++
		}
	}
	return n
}

// The CLI commands of the workflow, through the real binary.
func testWorkflowCLI(t *testing.T, h *harness) {
	run := func(user string, args ...string) string {
		t.Helper()
		out, errOut, err := h.jit(user, args...)
		if err != nil {
			t.Fatalf("jit %v: %v\n%s%s", args, err, out, errOut)
		}
		return out
	}
	decode := func(out string) broker.Ticket {
		t.Helper()
		var tk broker.Ticket
		if err := json.Unmarshal([]byte(out), &tk); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return tk
	}
	// cancel
	tk := h.request("alice@example.com", "--account", dev, "--permission-set", ro, "--duration", "1h", "--reason", "cli")
	if got := decode(run("alice@example.com", "cancel", tk.ID, "--comment", "oops", "--output", "json")); got.State != broker.StateCancelled {
		t.Fatalf("jit cancel: %s", got.State)
	}
	// reject, edit, approve, extend, done
	tk = h.request("alice@example.com", "--account", dev, "--permission-set", ro, "--for", "alice@example.com", "--for", "dave@example.com", "--duration", "1h", "--reason", "cli")
	run("bob@example.com", "reject", tk.ID, "--comment", "why")
	out := run("alice@example.com", "edit", tk.ID, "--reason", "because", "--duration", "2h")
	if !strings.Contains(out, "revision 2") || !strings.Contains(out, "State:           pending") {
		t.Fatalf("jit edit output:\n%s", out)
	}
	run("bob@example.com", "approve", tk.ID)
	h.waitTicket(tk.ID, 10*time.Second, "activation", func(tk broker.Ticket) bool { return tk.State == broker.StateActive })
	got := decode(run("dave@example.com", "extend", tk.ID, "--duration", "30m", "--reason", "more", "--output", "json"))
	if got.Extension == nil || got.Extension.State != broker.ExtensionPending || !got.Extension.End.Equal(got.End.Add(30*time.Minute)) {
		t.Fatalf("jit extend: %+v", got.Extension)
	}
	if _, errOut, err := h.jit("dave@example.com", "extend", tk.ID, "--reason", "x"); err == nil || !strings.Contains(errOut, "--end or --duration") {
		t.Fatalf("jit extend without an end: err=%v %s", err, errOut)
	}
	if got := decode(run("dave@example.com", "done", tk.ID, "--output", "json")); got.State != broker.StateActive || !got.IsDone("dave@example.com") {
		t.Fatalf("jit done by a beneficiary: %s %+v, want active with dave done", got.State, got.Done)
	}
	if got := decode(run("alice@example.com", "done", tk.ID, "--output", "json")); got.State != broker.StateTerminated {
		t.Fatalf("jit done by the requester: %s", got.State)
	}
	// delegate, delegations list, delete and decline
	out = run("c6@example.com", "delegate", "--to", "eve@example.com", "--duration", "1h", "--output", "json")
	var d broker.Delegation
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.From != "c6@example.com" || d.To != "eve@example.com" {
		t.Fatalf("jit delegate: %v\n%s", err, out)
	}
	if out := run("eve@example.com", "delegations", "list"); !strings.Contains(out, d.ID) || !strings.Contains(out, "c6@example.com") {
		t.Fatalf("jit delegations list:\n%s", out)
	}
	if _, errOut, err := h.jit("c5@example.com", "delegations", "delete", d.ID); err == nil || !strings.Contains(errOut, "not found") {
		t.Fatalf("a stranger deletes: err=%v %s", err, errOut)
	}
	if out := run("eve@example.com", "delegations", "decline", d.ID); !strings.Contains(out, "Declined delegation "+d.ID) {
		t.Fatalf("the delegate declines:\n%s", out)
	}
	if out := run("c6@example.com", "delegations", "list", "--output", "json"); strings.Contains(out, d.ID) {
		t.Fatalf("declined delegation still listed:\n%s", out)
	}
	d2 := run("c6@example.com", "delegate", "--to", "eve@example.com", "--duration", "1h", "--output", "json")
	if err := json.Unmarshal([]byte(d2), &d); err != nil {
		t.Fatalf("jit delegate: %v\n%s", err, d2)
	}
	run("c6@example.com", "delegations", "delete", d.ID)
	if out := run("c6@example.com", "delegations", "list", "--output", "json"); strings.Contains(out, d.ID) {
		t.Fatalf("deleted delegation still listed:\n%s", out)
	}
}
