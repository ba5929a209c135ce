//go:build faults

package main

import (
	"net/http"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation/sandbox"
)

// sigterm stops the server as an operator or an orchestrator would and
// returns when it has exited, failing if it does not within the drain
// time (the API's and the worker's 10 s each, and a margin).
func (f *faultEnv) sigterm() {
	f.t.Helper()
	p := f.proc
	p.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			f.t.Errorf("jit serve after SIGTERM: %v, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		p.Process.Kill()
		f.t.Fatalf("jit serve did not exit within 30 s of SIGTERM:\n%s", f.logs)
	}
	f.proc = nil
}

// SIGTERM drains: a request in flight (a credential whose AssumeRole takes
// two seconds) is answered in full and recorded; a task in flight (an
// Identity Center activation waiting on an assignment that takes longer
// than the worker's shutdown timeout) is handed back to the queue with its
// intent recorded and nothing else half-done, and the next server finishes
// it: one assignment, active, and cut at the end.
func TestFaultsSIGTERMDrains(t *testing.T) {
	t.Parallel() // each test has its own Redis, sandbox and server
	f := newFaultEnv(t, sandbox.Options{})

	// A request in flight.
	var k killRun
	k.id = f.create("ReadOnlyAccess", "", time.Hour)
	if code, err := f.approve(k.id); err != nil || code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, err)
	}
	f.waitState(k.id, broker.StateActive, 20*time.Second)
	f.sb.SetFault("sts:AssumeRole", sandbox.Fault{Latency: 2 * time.Second})
	type answer struct {
		c    wire.CredentialProcess
		code int
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		c, code, err := f.creds("alice@example.com", k.id)
		got <- answer{c, code, err}
	}()
	time.Sleep(500 * time.Millisecond) // the request waits on AssumeRole
	f.sigterm()
	a := <-got
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("credentials in flight at SIGTERM: %d %v, want 200", a.code, a.err)
	}
	f.sb.SetFault("sts:AssumeRole", sandbox.Fault{})
	if !slices.ContainsFunc(f.get(k.id).Sessions, func(s broker.Session) bool { return s.AccessKeyID == a.c.AccessKeyID }) {
		t.Errorf("the session handed out while draining is not recorded on the ticket")
	}
	f.works("session handed out while draining", f.s3With(a.c))

	// A task in flight.
	f.startArmed()
	f.sb.SetAssignmentBehaviour(25*time.Second, "SUCCEEDED")
	ic := f.create("ReadOnlySSO", "", time.Hour)
	if code, err := f.approve(ic); err != nil || code != http.StatusOK {
		t.Fatalf("approve: %d %v", code, err)
	}
	f.waitFor(ic, 20*time.Second, "an assignment intent", func(t *broker.Ticket) bool {
		return slices.ContainsFunc(t.Grants, func(g broker.Grant) bool { return g.Kind == broker.GrantAssignment })
	})
	stopped := time.Now()
	f.sigterm()
	t.Logf("SIGTERM with an activation in flight: exited after %s", ms(time.Since(stopped)))
	tk := f.get(ic)
	if tk.State != broker.StateApproved {
		t.Errorf("ticket whose activation was interrupted is %s, want approved", tk.State)
	}
	for _, g := range tk.Grants {
		if g.State == broker.GrantDone {
			t.Errorf("grant %s %s confirmed though its assignment was not done", g.Kind, g.Key)
		}
	}
	if !f.hasTask(broker.TaskActivate, ic, tk.Start) {
		t.Errorf("the interrupted activation task was not handed back to the queue")
	}

	f.sb.SetAssignmentBehaviour(0, "SUCCEEDED")
	f.startArmed()
	took := f.waitAgree(ic, broker.StateActive)
	// This includes the wait for the assignment AWS was still creating
	// (25 s from its request, before the SIGTERM).
	t.Logf("restart to the handed-back activation done: %s", ms(took))
	f.onePerHolder()
	if n := len(f.assignments()); n != 1 {
		t.Errorf("%d assignments for the active ticket, want 1", n)
	}
	portal := f.portalS3("alice")
	if code, err := f.terminate(ic); err != nil || code != http.StatusOK {
		t.Fatalf("terminate: %d %v", code, err)
	}
	f.waitAgree(ic, broker.StateTerminated)
	f.refused("portal session after terminate", portal)
	if a := f.assignments(); len(a) != 0 {
		t.Errorf("assignments left: %v", a)
	}
}
