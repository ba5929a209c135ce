package metrics

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/jitaccess/jit/broker"
)

func histogramSum(t *testing.T, h prometheus.Observer) float64 {
	t.Helper()
	var m dto.Metric
	if err := h.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleSum()
}

func TestTicketChangedObservesLatencies(t *testing.T) {
	m, err := New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tk := &broker.Ticket{ID: "t1", CreatedAt: t0, PlannedAt: t0, Start: t0, End: t0.Add(time.Hour)}
	ev := func(at time.Duration, from, to broker.State) broker.Event {
		return broker.Event{At: t0.Add(at), From: from, To: to}
	}
	tk.History = []broker.Event{ev(0, "", broker.StatePending), ev(90*time.Second, broker.StatePending, broker.StateApproved)}
	m.TicketChanged(context.Background(), tk, tk.History)
	tk.History = append(tk.History, ev(93*time.Second, broker.StateApproved, broker.StateActive))
	m.TicketChanged(context.Background(), tk, tk.History[2:])
	tk.History = append(tk.History, ev(time.Hour+2*time.Second, broker.StateActive, broker.StateExpired))
	m.TicketChanged(context.Background(), tk, tk.History[3:])

	if got := testutil.ToFloat64(m.transitions.WithLabelValues("approved", "active")); got != 1 {
		t.Errorf("approved->active = %v, want 1", got)
	}
	for _, c := range []struct {
		name string
		h    prometheus.Observer
		sum  float64
	}{
		{"decision", m.decision.WithLabelValues("approved"), 90},
		{"grant", m.grant, 3}, // from the approval, which came after the start
		{"expiry lateness", m.expiryLateness, 2},
	} {
		if got := histogramSum(t, c.h); got != c.sum {
			t.Errorf("%s sum = %v, want %v", c.name, got, c.sum)
		}
	}
}
