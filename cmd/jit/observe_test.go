package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

const testAuditKey = "test-audit-key-of-at-least-32-chars"

// scrape reads GET /metrics and parses it with Prometheus's own parser.
func (h *harness) scrape() map[string]*dto.MetricFamily {
	h.t.Helper()
	resp, err := http.Get(h.apiURL + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		h.t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		h.t.Fatalf("/metrics does not parse as Prometheus text: %v", err)
	}
	return fams
}

// value returns the value of the family's metric with exactly the given
// labels (a counter, a gauge, or a histogram's count); 0 when absent.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

// A scripted ticket flow moves the counters, is recorded in the signed
// audit log (as the API and `jit audit verify` show it), and every
// request carries a request id into the JSON logs.
func TestMetricsAndAuditFollowATicket(t *testing.T) {
	sinkPath := filepath.Join(t.TempDir(), "audit.jsonl")
	h := newHarnessWith(t, string(devConfig)+"audit:\n  key: "+testAuditKey+"\n  sink: file:"+sinkPath+"\n")
	before := h.scrape()

	// A refused sign-in.
	req, _ := http.NewRequest("GET", h.apiURL+"/api/v1/tickets", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	req.Header.Set("X-Request-ID", "req-refused-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("X-Request-ID") != "req-refused-1" {
		t.Fatalf("bad token: %d, request id %q; want 401 echoing the request id", resp.StatusCode, resp.Header.Get("X-Request-ID"))
	}

	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "metrics")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID, "--comment", "ok"); err != nil {
		t.Fatalf("approve: %v\n%s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)
	h.credentials("alice@example.com", tk.ID)
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID, "--comment", "done"); err != nil {
		t.Fatalf("terminate: %v\n%s", err, errOut)
	}
	// A forbidden action: dave may not run the reconciler.
	if code, _ := h.api("dave@example.com", "POST", "/api/v1/reconcile", map[string]any{}); code != 403 {
		t.Fatalf("dave reconciles: %d, want 403", code)
	}
	after := h.scrape()

	for _, c := range []struct {
		name   string
		labels []string
		want   float64 // at least this much more than before
	}{
		{"jit_ticket_transitions_total", []string{"from", "", "to", "pending"}, 1},
		{"jit_ticket_transitions_total", []string{"from", "pending", "to", "approved"}, 1},
		{"jit_ticket_transitions_total", []string{"from", "approved", "to", "active"}, 1},
		{"jit_ticket_transitions_total", []string{"from", "active", "to", "terminated"}, 1},
		{"jit_ticket_decision_seconds", []string{"outcome", "approved"}, 1},
		{"jit_grant_latency_seconds", nil, 1},
		{"jit_revocation_latency_seconds", nil, 1},
		{"jit_aws_calls_total", []string{"operation", "STS:AssumeRole"}, 1},
		{"jit_auth_refused_total", []string{"reason", "malformed_token"}, 1},
		{"jit_tickets", []string{"state", "terminated"}, 1},
	} {
		if got := value(after, c.name, c.labels...) - value(before, c.name, c.labels...); got < c.want {
			t.Errorf("%s%v moved by %v, want at least %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"jit_queue_tasks", "jit_queue_failed_total", "jit_expiry_lateness_seconds", "jit_aws_errors_total", "jit_notifications_total", "jit_rate_limited_total"} {
		if _, ok := after[name]; !ok && name != "jit_aws_errors_total" && name != "jit_notifications_total" {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// Every metric the Grafana dashboard uses is one the server exports
	// (the error and notification counters appear with their first event).
	dash, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`jit_[a-z_]+`).FindAllString(string(dash), -1) {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
		if _, ok := after[base]; !ok && base != "jit_aws_errors_total" && base != "jit_notifications_total" {
			t.Errorf("the dashboard uses %s, which /metrics lacks", name)
		}
	}

	// The audit log, as an administrator sees it through the API.
	code, page := h.api("carol@example.com", "GET", "/api/v1/audit?ticket="+tk.ID+"&limit=100", nil)
	if code != 200 {
		t.Fatalf("GET /audit as carol: %d %v", code, page)
	}
	types := map[string]bool{}
	for _, e := range page["events"].([]any) {
		types[e.(map[string]any)["type"].(string)] = true
	}
	for _, want := range []string{"ticket.request", "ticket.approve", "ticket.activate", "ticket.terminate", "aws.call"} {
		if !types[want] {
			t.Errorf("audit of %s lacks %s: %v", tk.ID, want, types)
		}
	}
	code, page = h.api("carol@example.com", "GET", "/api/v1/audit?type=auth.refused", nil)
	if code != 200 || len(page["events"].([]any)) == 0 {
		t.Errorf("refused sign-in not in the audit: %d %v", code, page)
	}
	code, page = h.api("carol@example.com", "GET", "/api/v1/audit?type=authz.denied&user=dave@example.com", nil)
	if code != 200 || len(page["events"].([]any)) == 0 {
		t.Errorf("dave's refused reconcile not in the audit: %d %v", code, page)
	}
	// dave sees nothing of alice's ticket; alice sees its timeline.
	if code, page = h.api("dave@example.com", "GET", "/api/v1/audit?ticket="+tk.ID, nil); code != 200 || len(page["events"].([]any)) != 0 {
		t.Errorf("dave's audit of alice's ticket: %d %v, want no events", code, page)
	}
	if code, _ = h.api("dave@example.com", "GET", "/api/v1/tickets/"+tk.ID+"/timeline", nil); code != 404 {
		t.Errorf("dave's timeline of alice's ticket: %d, want 404", code)
	}
	// ... and that refusal is in the audit, for the administrator.
	code, page = h.api("carol@example.com", "GET", "/api/v1/audit?type=authz.denied&user=dave@example.com&ticket="+tk.ID, nil)
	if code != 200 || len(page["events"].([]any)) == 0 {
		t.Errorf("dave's refused read of %s not in the audit: %d %v", tk.ID, code, page)
	}
	out, errOut, err := h.jit("alice@example.com", "audit", "timeline", tk.ID)
	if err != nil || !strings.Contains(out, "ticket.approve") || !strings.Contains(out, "bob@example.com") {
		t.Errorf("jit audit timeline: %v\n%s%s", err, out, errOut)
	}

	// The chain verifies with the server's key, and against a checkpoint.
	cp := filepath.Join(t.TempDir(), "cp.json")
	cpOut, err := exec.Command(jitBin, "audit", "checkpoint", "--config", h.cfgPath).Output()
	if err != nil {
		t.Fatalf("jit audit checkpoint: %v", err)
	}
	os.WriteFile(cp, cpOut, 0o600)
	if out, err := exec.Command(jitBin, "audit", "verify", "--config", h.cfgPath, "--checkpoint", cp).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ok: ") {
		t.Errorf("jit audit verify: %v\n%s", err, out)
	}
	exp, err := exec.Command(jitBin, "audit", "export", "--config", h.cfgPath, "--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)).Output()
	if err != nil {
		t.Fatalf("jit audit export: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(exp)), "\n")
	var last broker.AuditEvent
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last.MAC == "" || len(lines) < 4 {
		t.Errorf("export: %d lines, last %q (%v)", len(lines), lines[len(lines)-1], err)
	}

	// Tampering, as someone with write access to Redis could: `jit audit
	// verify` names exactly the changed event, and a log cut short (head
	// moved back) only against the checkpoint.
	h.tamperAudit(t, cp)

	// The sink file streamed the same events as they were recorded.
	sunk, err := os.ReadFile(sinkPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(sunk), lines[len(lines)-1]) {
		t.Errorf("the audit sink lacks the last exported event %s", lines[len(lines)-1])
	}

	// Logs are JSON lines; the refused request's lines carry its id, and no line a token.
	logs := h.logs.String()
	var sawID bool
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, h.token("alice@example.com")) {
			t.Fatalf("a log line holds a token: %s", l)
		}
		if strings.Contains(l, `"request_id":"req-refused-1"`) && strings.Contains(l, "authentication refused") {
			sawID = true
		}
	}
	if !sawID {
		t.Errorf("no JSON log line of the refused request with its request id:\n%s", logs)
	}
}

// With metrics.listen, /metrics is served there and not on the API; a
// write over the rate limit is counted.
func TestMetricsOnTheirOwnAddress(t *testing.T) {
	addr := freeAddr(t)
	h := newHarnessWith(t, string(devConfig)+"metrics:\n  listen: "+addr+"\nrate_limit:\n  writes_per_minute: 1\n  burst: 1\n")
	codes := []int{}
	for range 2 {
		code, _ := h.api("alice@example.com", "POST", "/api/v1/tickets", map[string]any{})
		codes = append(codes, code)
	}
	if codes[1] != 429 {
		t.Fatalf("two writes at once: %v, want the second refused 429", codes)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil || fams["jit_tickets"] == nil {
		t.Fatalf("metrics address: %v, jit_tickets missing=%v", err, fams["jit_tickets"] == nil)
	}
	if got := value(fams, "jit_rate_limited_total"); got != 1 {
		t.Errorf("jit_rate_limited_total = %v, want 1", got)
	}
	resp, err = http.Get(h.apiURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("the API still serves metrics (%s)", ct)
	}
}

// tamperAudit changes one byte of one stored event, then restores it and
// cuts the last two events, checking `jit audit verify` each time.
func (h *harness) tamperAudit(t *testing.T, cp string) {
	t.Helper()
	ctx := t.Context()
	rdb := h.redis()
	stream, head := "jit:{audit}:log", "jit:{audit}:loghead"
	verify := func(args ...string) (string, error) {
		out, err := exec.Command(jitBin, append([]string{"audit", "verify", "--config", h.cfgPath}, args...)...).CombinedOutput()
		return string(out), err
	}
	// Stop the server first: it keeps appending (AWS calls, tasks).
	h.stop()
	msgs, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(msgs) < 5 {
		t.Fatalf("stream: %d entries, %v", len(msgs), err)
	}
	rewrite := func(raw []string) {
		rdb.Del(ctx, stream)
		for i, r := range raw {
			if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: msgs[i].ID, Values: []string{"event", r}}).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	orig := make([]string, len(msgs))
	for i, m := range msgs {
		orig[i] = m.Values["event"].(string)
	}
	victim := len(orig) / 2
	var ev broker.AuditEvent
	json.Unmarshal([]byte(orig[victim]), &ev)
	changed := append([]string(nil), orig...)
	changed[victim] = strings.Replace(changed[victim], `"actor":"`, `"actor":"X`, 1)
	rewrite(changed)
	out, err := verify()
	if want := fmt.Sprintf("audit chain broken at event %d:", ev.Seq); err == nil || !strings.Contains(out, want) {
		t.Errorf("verify after changing event %d: %v %s, want %q", ev.Seq, err, out, want)
	}
	// Restore, then cut the events from the checkpoint's on (at least
	// two) and move the head back.
	var c broker.AuditCheckpoint
	if b, err := os.ReadFile(cp); err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("checkpoint %s: %v", cp, err)
	}
	keep := len(orig) - 2
	for keep > 0 {
		var e broker.AuditEvent
		json.Unmarshal([]byte(orig[keep-1]), &e)
		if e.Seq < c.Seq {
			break
		}
		keep--
	}
	rewrite(orig[:keep])
	var last broker.AuditEvent
	json.Unmarshal([]byte(orig[keep-1]), &last)
	rdb.Set(ctx, head, fmt.Sprintf("%d %s", last.Seq, last.MAC), 0)
	if out, err := verify(); err != nil {
		t.Errorf("the cut log should chain without a checkpoint: %v %s", err, out)
	}
	out, err = verify("--checkpoint", cp)
	if want := fmt.Sprintf("audit chain broken at event %d:", last.Seq+1); err == nil || !strings.Contains(out, want) {
		t.Errorf("verify of the cut log against the checkpoint: %v %s, want %q", err, out, want)
	}
}
