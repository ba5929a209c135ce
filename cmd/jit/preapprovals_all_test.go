package main

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// An administrator lists everyone's pre-approvals (all=true) with
// filters, paged; anyone else asking for all is refused with 403; the
// CLI's `jit preapprovals list --all` does the same.
func TestPreApprovalsAll(t *testing.T) {
	h, _ := newAutoApproveHarness(t)
	pre := func(by, who, account, ps string) string {
		t.Helper()
		code, m := h.api(by, "POST", "/api/v1/preapprovals", map[string]any{"for": who, "account_id": account, "permission_set": ps, "duration": "48h", "reason": "list test"})
		if code != 201 {
			t.Fatalf("%s pre-approves %s: %d %v", by, who, code, m)
		}
		return m["id"].(string)
	}
	aliceDev := pre("bob@example.com", "alice@example.com", "111111111111", "ReadOnlyAccess")
	aliceStaging := pre("dave@example.com", "alice@example.com", "222222222222", "ReadOnlyAccess")
	eveProd := pre("bob@example.com", "eve@example.com", "333333333333", "PowerUserAccess")
	h.must("bob@example.com", "DELETE", "/api/v1/preapprovals/"+eveProd, nil)

	list := func(who, query string) (int, wire.PreApprovals, map[string]any) {
		t.Helper()
		code, m := h.api(who, "GET", "/api/v1/preapprovals?"+query, nil)
		var out wire.PreApprovals
		b, _ := json.Marshal(m)
		json.Unmarshal(b, &out)
		return code, out, m
	}
	ids := func(ps []broker.PreApproval) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(xs ...string) []string { slices.Sort(xs); return xs }

	// The administrator: everyone's with all=true, only her own without.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"all=true", sorted(aliceDev, aliceStaging, eveProd)},
		{"", nil},
		{"all=true&person=ALICE@example.com", sorted(aliceDev, aliceStaging)},
		{"all=true&account=222222222222", sorted(aliceStaging)},
		{"all=true&permission_set=PowerUserAccess", sorted(eveProd)},
		{"all=true&ended=true", sorted(eveProd)},
		{"all=true&ended=false", sorted(aliceDev, aliceStaging)},
		{"all=true&person=alice@example.com&account=111111111111&ended=false", sorted(aliceDev)},
		{"all=true&person=nobody@example.com", nil},
	} {
		code, out, m := list("carol@example.com", tc.query)
		if code != 200 || !slices.Equal(ids(out.PreApprovals), tc.want) || out.Total != len(tc.want) {
			t.Errorf("carol lists ?%s: %d %v, want %v", tc.query, code, m, tc.want)
		}
	}
	// Others: all=true is refused; their own list takes the same filters.
	for _, who := range []string{"bob@example.com", "alice@example.com"} {
		code, _, m := list(who, "all=true")
		if code != 403 || m["code"] != broker.EFORBIDDEN || !strings.Contains(m["message"].(string), "administrators") {
			t.Errorf("%s lists all: %d %v, want 403 forbidden naming administrators", who, code, m)
		}
	}
	if code, out, m := list("bob@example.com", ""); code != 200 || !slices.Equal(ids(out.PreApprovals), sorted(aliceDev, eveProd)) {
		t.Errorf("bob's own: %d %v, want the two he made", code, m)
	}
	if code, out, m := list("alice@example.com", "ended=false&account=222222222222"); code != 200 || !slices.Equal(ids(out.PreApprovals), []string{aliceStaging}) {
		t.Errorf("alice's own in force in staging: %d %v", code, m)
	}
	// Pages: by start, then id; every one once.
	var paged []string
	q := "all=true&limit=2"
	for range 3 {
		code, out, m := list("carol@example.com", q)
		if code != 200 || out.Total != 3 || len(out.PreApprovals) == 0 {
			t.Fatalf("page ?%s: %d %v", q, code, m)
		}
		paged = append(paged, ids(out.PreApprovals)...)
		if out.NextCursor == "" {
			break
		}
		q = "all=true&limit=2&cursor=" + url.QueryEscape(out.NextCursor)
	}
	if slices.Sort(paged); !slices.Equal(paged, sorted(aliceDev, aliceStaging, eveProd)) {
		t.Errorf("pages gave %v, want each of the three once", paged)
	}
	// Bad parameters: 400 invalid, with a message.
	for _, bad := range []string{"all=maybe", "all=true&ended=maybe", "all=true&limit=0", "all=true&limit=5000", "all=true&account=dev1", "all=true&cursor=junk"} {
		if code, _, m := list("carol@example.com", bad); code != 400 || m["code"] != broker.EINVALID || m["message"] == "" {
			t.Errorf("?%s: %d %v, want 400 invalid", bad, code, m)
		}
	}

	// The CLI.
	out, errOut, err := h.jit("carol@example.com", "preapprovals", "list", "--all", "--person", "alice@example.com", "--account", "staging")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], aliceStaging) || !strings.Contains(lines[1], "dave@example.com") {
		t.Errorf("jit preapprovals list --all --person --account staging: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err = h.jit("carol@example.com", "preapprovals", "list", "--all", "--ended", "true", "--permission-set", "PowerUserAccess", "--output", "json")
	var got wire.PreApprovals
	if jerr := json.Unmarshal([]byte(out), &got); err != nil || jerr != nil || got.Total != 1 || len(got.PreApprovals) != 1 || got.PreApprovals[0].ID != eveProd {
		t.Errorf("jit preapprovals list --all --ended true --output json: %v %v\n%s%s", err, jerr, out, errOut)
	}
	if _, errOut, err := h.jit("bob@example.com", "preapprovals", "list", "--all"); err == nil || !strings.Contains(errOut, "administrators") || !strings.Contains(errOut, "(forbidden)") {
		t.Errorf("bob: jit preapprovals list --all: err=%v %q, want refused", err, errOut)
	}
	if _, errOut, err := h.jit("carol@example.com", "preapprovals", "list", "--ended", "maybe"); err == nil || !strings.Contains(errOut, "--ended must be true or false") {
		t.Errorf("--ended maybe: err=%v %q", err, errOut)
	}
	if out, errOut, err := h.jit("bob@example.com", "preapprovals", "list"); err != nil || strings.Count(out, "\n") != 3 {
		t.Errorf("bob's own list: %v\n%s%s", err, out, errOut)
	}
}
