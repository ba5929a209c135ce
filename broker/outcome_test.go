package broker_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Every way a ticket ends has its own outcome, derived from the
// transitions that ended it, and the ticket JSON carries it.
func TestOutcome(t *testing.T) {
	end := func(t *testing.T, e *doneEnv, id string) *broker.Ticket { t.Helper(); return e.state(t, id) }
	cases := []struct {
		name string
		run  func(t *testing.T, e *doneEnv) *broker.Ticket
		want string
	}{
		{"open", func(t *testing.T, e *doneEnv) *broker.Ticket {
			return e.fileFor(t, "alice@example.com")
		}, ""},
		{"ran out", func(t *testing.T, e *doneEnv) *broker.Ticket {
			tk := e.fileFor(t, "alice@example.com")
			e.clock.Advance(2 * time.Hour)
			if err := e.svc.Expire(context.Background(), tk.ID); err != nil {
				t.Fatal(err)
			}
			return end(t, e, tk.ID)
		}, "ran out"},
		{"requester done", func(t *testing.T, e *doneEnv) *broker.Ticket {
			tk := e.fileFor(t, "alice@example.com", "alice@example.com", "dave@example.com")
			return e.done(t, "alice@example.com", tk.ID)
		}, "ended by requester"},
		{"last beneficiary done", func(t *testing.T, e *doneEnv) *broker.Ticket {
			tk := e.fileFor(t, "carol@example.com", "dave@example.com")
			return e.done(t, "dave@example.com", tk.ID)
		}, "ended by dave@example.com (done)"},
		{"terminated", func(t *testing.T, e *doneEnv) *broker.Ticket {
			tk := e.fileFor(t, "alice@example.com")
			got, err := e.svc.Terminate(asUser("bob@example.com"), tk.ID, "incident over")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}, "terminated by bob@example.com"},
		{"cancelled", func(t *testing.T, e *doneEnv) *broker.Ticket {
			tk, err := e.svc.CreateTicket(asUser("alice@example.com"), broker.CreateTicketInput{AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
				Start: e.clock.Now().Add(time.Hour), Duration: time.Hour, Reason: "later"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.svc.Cancel(asUser("alice@example.com"), tk.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			return got
		}, "cancelled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := c.run(t, newDoneEnv(t, broker.GrantRole))
			if got := tk.Outcome(); got != c.want {
				t.Errorf("outcome %q, want %q (state %s, history %+v)", got, c.want, tk.State, tk.History)
			}
			b, err := json.Marshal(tk)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got, _ := m["outcome"].(string); got != c.want {
				t.Errorf("JSON outcome %q, want %q", got, c.want)
			}
			if m["id"] != tk.ID || m["state"] != string(tk.State) {
				t.Errorf("JSON lost the ticket's own fields: %s", b)
			}
		})
	}
}

// The endings no single-step flow above reaches: a ticket nobody approved
// before its deadline, and a rejection by a delegate.
func TestOutcomeFromHistory(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		state broker.State
		last  broker.Event
		want  string
	}{
		{broker.StateExpired, broker.Event{Actor: "jit", Action: "expire", From: broker.StatePending, To: broker.StateExpired}, "not approved in time"},
		{broker.StateExpired, broker.Event{Actor: "jit", Action: "expire", From: broker.StateApproved, To: broker.StateExpired}, "ran out"},
		{broker.StateRejected, broker.Event{Actor: "bob@example.com for ann@example.com", Action: "reject", From: broker.StatePending, To: broker.StateRejected}, "rejected by bob@example.com for ann@example.com"},
		{broker.StateCancelled, broker.Event{Actor: "carol@example.com", Action: "cancel", From: broker.StatePending, To: broker.StateCancelled}, "cancelled by carol@example.com"},
		{broker.StateTerminated, broker.Event{Actor: "jit", Action: "activation failed", From: broker.StateApproved, To: broker.StateTerminated}, "activation failed"},
	} {
		c.last.At = at
		tk := &broker.Ticket{ID: "t", State: c.state, Requester: "alice@example.com",
			History: []broker.Event{{At: at, Actor: "alice@example.com", Action: "request", To: broker.StatePending}, c.last}}
		if got := tk.Outcome(); got != c.want {
			t.Errorf("%s after %q by %s: outcome %q, want %q", c.state, c.last.Action, c.last.Actor, got, c.want)
		}
	}
}
