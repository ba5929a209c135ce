//go:build faults

package main

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// Issue 20 item 6: the server killed 60 ms after a second at which
// Identity Center tickets were due to start and others to end, while
// their tasks were running, and restarted at once. Every activation and
// every expiry (its assignments removed) is done within a bound; the time
// from the restart to each is printed (aim: under 10 s).
func TestFaultsRecoveryDelay(t *testing.T) {
	t.Parallel()
	f := newFaultEnv(t, sandbox.Options{})
	users := []string{"alice@example.com", "carol@example.com", "dave@example.com"}
	due := time.Now().Add(12 * time.Second).UTC().Truncate(time.Second)
	file := func(user string, start, end time.Time) string {
		body := map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlySSO", "beneficiaries": []string{user},
			"end": end.Format(time.RFC3339), "reason": "recovery delay"}
		if !start.IsZero() {
			body["start"] = start.Format(time.RFC3339)
		}
		id := f.must(http.StatusCreated, "carol@example.com", "POST", "/api/v1/tickets", body)["id"].(string)
		if code, err := f.approve(id); err != nil || code != http.StatusOK {
			t.Fatalf("approve %s: %d %v", id, code, err)
		}
		return id
	}
	var starting, ending []string
	for range 2 {
		for _, u := range users {
			ending = append(ending, file(u, time.Time{}, due))
			starting = append(starting, file(u, due, due.Add(time.Hour)))
		}
	}
	for _, id := range ending {
		f.waitState(id, broker.StateActive, 20*time.Second)
	}
	time.Sleep(time.Until(due.Add(60 * time.Millisecond)))
	f.kill()
	f.startArmed()
	restarted := time.Now()

	var lateStart, lateEnd []time.Duration
	for _, id := range starting {
		f.waitAgree(id, broker.StateActive)
		lateStart = append(lateStart, time.Since(restarted))
	}
	for _, id := range ending {
		f.waitAgree(id, broker.StateExpired)
		lateEnd = append(lateEnd, time.Since(restarted))
	}
	f.onePerHolder()
	if n := len(f.assignments()); n != len(users) {
		t.Errorf("%d users hold an assignment, want %d (the started tickets')", n, len(users))
	}
	report := func(what string, ds []time.Duration) {
		slices.Sort(ds)
		t.Logf("restart to %s: %d tickets, first %s, median %s, last %s", what, len(ds), ms(ds[0]), ms(ds[len(ds)/2]), ms(ds[len(ds)-1]))
	}
	report("activation done", lateStart)
	report("expiry done (assignments removed)", lateEnd)
	for _, id := range starting {
		f.must(http.StatusOK, "bob@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]any{"comment": "done"})
	}
	for _, id := range starting {
		f.waitAgree(id, broker.StateTerminated)
	}
	if a := f.assignments(); len(a) != 0 {
		t.Errorf("assignments left: %v", a)
	}
}
