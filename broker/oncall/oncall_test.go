package oncall

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/internal/oncallstub"
)

func TestPagerDuty(t *testing.T) {
	stub, srv := oncallstub.New(t, "pd-secret")
	stub.PageSize = 2 // three people: two pages
	stub.Set("PSCHED1", "alice@x.com", "bob@x.com", "carol@x.com")
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pd := &PagerDuty{BaseURL: srv.URL, Token: "pd-secret"}
	got, err := pd.OnCall(context.Background(), "PSCHED1", at)
	if err != nil || !slices.Equal(got, []string{"alice@x.com", "bob@x.com", "carol@x.com"}) {
		t.Fatalf("OnCall = %v, %v", got, err)
	}
	reqs := stub.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 pages", len(reqs))
	}
	q := reqs[0].URL.Query()
	if q.Get("schedule_ids[]") != "PSCHED1" || q.Get("include[]") != "users" || q.Get("since") != "2030-01-01T12:00:00Z" ||
		reqs[0].Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" {
		t.Fatalf("request %s %v", reqs[0].URL, reqs[0].Header)
	}
	if got, err := pd.OnCall(context.Background(), "OTHER", at); err != nil || len(got) != 0 {
		t.Fatalf("empty schedule: %v, %v", got, err)
	}

	bad := &PagerDuty{BaseURL: srv.URL, Token: "wrong-token"}
	if _, err := bad.OnCall(context.Background(), "PSCHED1", at); err == nil || strings.Contains(err.Error(), "wrong-token") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v, want a 401 error without the token", err)
	}
	stub.Down(true)
	if _, err := pd.OnCall(context.Background(), "PSCHED1", at); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("down: %v, want 503", err)
	}
}

func TestOpsgenie(t *testing.T) {
	stub, srv := oncallstub.New(t, "og-key")
	stub.Set("4c5a-sched", "dan@x.com")
	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	og := &Opsgenie{BaseURL: srv.URL + "/", Key: "og-key"}
	got, err := og.OnCall(context.Background(), "4c5a-sched", at)
	if err != nil || !slices.Equal(got, []string{"dan@x.com"}) {
		t.Fatalf("OnCall = %v, %v", got, err)
	}
	r := stub.Requests()[0]
	if r.URL.Path != "/v2/schedules/4c5a-sched/on-calls" || r.URL.Query().Get("flat") != "true" || r.Header.Get("Authorization") != "GenieKey og-key" {
		t.Fatalf("request %s", r.URL)
	}
	if _, err := og.OnCall(context.Background(), "missing", at); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown schedule: %v, want 404", err)
	}
	s := Schedules{"opsgenie": og}
	if got, err := s.OnCall(context.Background(), "opsgenie", "4c5a-sched", at); err != nil || len(got) != 1 {
		t.Fatalf("Schedules: %v, %v", got, err)
	}
	if _, err := s.OnCall(context.Background(), "pagerduty", "P1", at); err == nil {
		t.Fatal("unconfigured provider: no error")
	}
}

func TestUnreachable(t *testing.T) {
	pd := &PagerDuty{BaseURL: "http://127.0.0.1:1", Token: "t"}
	if _, err := pd.OnCall(context.Background(), "P1", time.Now()); err == nil {
		t.Fatal("unreachable: no error")
	}
}
