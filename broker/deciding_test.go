package broker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Issue 11 bug 8: the deciding view of a pending extension names its new
// end and reason, the stage and quorum, the deadline (the ticket's end)
// and whom it waits for; a ticket with nothing to decide has none.
func TestDecidingShowsAPendingExtension(t *testing.T) {
	w := newEWorld(t, broker.ServiceConfig{})
	tk := w.approved(t, alice)
	w.clock.Advance(time.Hour)
	if err := w.svc.Activate(context.Background(), tk.ID); err != nil {
		t.Fatal(err)
	}
	newEnd := tk.End.Add(time.Hour)
	ext, err := w.svc.Extend(as(alice), tk.ID, broker.ExtendInput{End: newEnd, Reason: "more time"})
	if err != nil {
		t.Fatal(err)
	}
	views, err := w.svc.Deciding(as(bob), []*broker.Ticket{ext, tk})
	if err != nil {
		t.Fatal(err)
	}
	d := views[0]
	if d == nil {
		t.Fatal("no deciding view of the pending extension")
	}
	if !d.Extension || !d.End.Equal(newEnd) || !d.PreviousEnd.Equal(tk.End) || d.Reason != "more time" {
		t.Errorf("extension view %+v, want the new end %v from %v and the reason", d, newEnd, tk.End)
	}
	if d.Stage != 1 || d.Stages != 1 || d.Approvals != 0 || d.Required != 1 || !d.Deadline.Equal(tk.End) {
		t.Errorf("progress %+v, want stage 1 of 1, 0 of 1, deadline %v", d, tk.End)
	}
	if !slices.Equal(d.WaitingFor, []string{"bob@example.com"}) || !d.MayDecide || d.For != "" {
		t.Errorf("waiting for %v, may decide %v for %q; want bob, yes, for nobody", d.WaitingFor, d.MayDecide, d.For)
	}
	if views[1] != nil {
		t.Errorf("the approved ticket has a deciding view: %+v", views[1])
	}
	// alice, the requester, may not decide her own extension.
	views, err = w.svc.Deciding(as(alice), []*broker.Ticket{ext})
	if err != nil {
		t.Fatal(err)
	}
	if views[0] == nil || views[0].MayDecide || views[0].Why == "" {
		t.Errorf("requester's view %+v, want may_decide false with why", views[0])
	}
}
