package federation

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// request is one call as IAM would see it: the context keys JIT's
// policies test.
type request struct {
	name       string
	tag        string    // aws:PrincipalTag/jit-ticket
	now        time.Time // aws:CurrentTime
	issued     time.Time // aws:TokenIssueTime
	userID     string    // identitystore:userId ("" for role sessions)
	account    string    // aws:PrincipalAccount
	sourceID   string    // aws:SourceIdentity
	action     string    // default s3:ListBuckets
	wantDenied bool
}

// denies is an independent reading of the few condition operators JIT
// writes (it shares no code with the sandbox's evaluator or with the
// writers): does any Deny statement of doc match the request?
func denies(t *testing.T, doc string, r request) bool {
	t.Helper()
	var p struct {
		Statement []struct {
			Effect    string
			Action    any
			Condition map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatalf("policy %s: %v", doc, err)
	}
	ctx := map[string]string{
		"aws:principaltag/jit-ticket": r.tag,
		"aws:currenttime":             r.now.UTC().Format(time.RFC3339),
		"aws:tokenissuetime":          r.issued.UTC().Format(time.RFC3339),
		"identitystore:userid":        r.userID,
		"aws:principalaccount":        r.account,
		"aws:sourceidentity":          r.sourceID,
	}
	action := r.action
	if action == "" {
		action = "s3:ListBuckets"
	}
	for _, st := range p.Statement {
		if st.Effect != "Deny" {
			continue
		}
		// JIT writes "*" or exact action names.
		match := false
		switch a := st.Action.(type) {
		case string:
			match = a == "*" || a == action
		case []any:
			for _, x := range a {
				match = match || x == "*" || x == action
			}
		}
		for op, conds := range st.Condition {
			for key, want := range conds {
				got, ok := ctx[strings.ToLower(key)]
				if !ok || got == "" {
					match = false // a missing key makes the condition false
					continue
				}
				var values []string
				switch v := want.(type) {
				case string:
					values = []string{v}
				case []any:
					for _, x := range v {
						values = append(values, fmt.Sprint(x))
					}
				}
				any := false
				for _, v := range values {
					switch op {
					case "StringEquals":
						any = any || got == v
					case "DateGreaterThanEquals":
						g, _ := time.Parse(time.RFC3339, got)
						w, _ := time.Parse(time.RFC3339, v)
						any = any || !g.Before(w)
					case "DateLessThan":
						g, _ := time.Parse(time.RFC3339, got)
						w, _ := time.Parse(time.RFC3339, v)
						any = any || g.Before(w)
					default:
						t.Fatalf("JIT wrote an operator this reading does not know: %s", op)
					}
				}
				match = match && any
			}
		}
		if match {
			return true
		}
	}
	return false
}

func TestPoliciesAgreeWithIndependentReading(t *testing.T) {
	end := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	issued := end.Add(-30 * time.Minute)
	session, err := SessionPolicy(end)
	if err != nil {
		t.Fatal(err)
	}
	chaining, err := sessionPolicy(end, true)
	if err != nil {
		t.Fatal(err)
	}
	role := &PolicyDocument{Version: "2012-10-17"}
	addDeny(role, "t-cut", end)
	addDeny(role, "t-cut2", end.Add(3*time.Hour))
	roleDoc, _ := json.Marshal(role)
	compacted := &PolicyDocument{Version: "2012-10-17"}
	addDeny(compacted, "t-old", end)
	compactDeny(compacted, end.Add(-10*time.Minute))
	compactedDoc, _ := json.Marshal(compacted)
	portal := &inlinePolicy{noChaining: true}
	cut := end.Add(-10 * time.Minute)
	portal.deny("111111111111", "user-alice", cut, end.Add(12*time.Hour))
	portalDoc, err := portal.marshal()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		policy string
		doc    string
		reqs   []request
	}{
		{"session policy (ticket end)", session, []request{
			{name: "an hour before the end", now: end.Add(-time.Hour), issued: issued},
			{name: "a second before the end", now: end.Add(-time.Second), issued: issued},
			{name: "at the end", now: end, issued: issued, wantDenied: true},
			{name: "after the end", now: end.Add(time.Minute), issued: issued, wantDenied: true},
			{name: "after the end, any source identity", now: end.Add(time.Minute), sourceID: "bob@example.com", wantDenied: true},
			{name: "role chaining before the end", action: "sts:AssumeRole", now: end.Add(-time.Hour), issued: issued, wantDenied: true},
			{name: "passing tags before the end", action: "sts:TagSession", now: end.Add(-time.Hour), issued: issued, wantDenied: true},
		}},
		{"session policy, role chaining allowed", chaining, []request{
			{name: "role chaining before the end", action: "sts:AssumeRole", now: end.Add(-time.Hour), issued: issued},
			{name: "at the end", now: end, issued: issued, wantDenied: true},
		}},
		{"role deny entry", string(roleDoc), []request{
			{name: "revoked ticket", tag: "t-cut", now: issued, issued: issued, wantDenied: true},
			{name: "second revoked ticket", tag: "t-cut2", now: issued, issued: issued, wantDenied: true},
			{name: "another ticket", tag: "t-live", now: issued, issued: issued},
			{name: "case differs", tag: "T-CUT", now: issued, issued: issued},
			{name: "untagged session", now: issued, issued: issued},
			{name: "revoked ticket, new token", tag: "t-cut", now: end, issued: end, wantDenied: true},
		}},
		{"compacted deny (token issue time)", string(compactedDoc), []request{
			{name: "issued before the cut", now: end, issued: end.Add(-time.Hour), wantDenied: true},
			{name: "issued in the cut's second", now: end, issued: end.Add(-10 * time.Minute), wantDenied: true},
			{name: "issued after the cut", now: end, issued: end.Add(-9 * time.Minute)},
			{name: "any tag, issued before", tag: "t-live", now: end, issued: end.Add(-time.Hour), wantDenied: true},
		}},
		{"portal deny (identitystore:userId)", portalDoc, []request{
			{name: "the user, issued before the cut", userID: "user-alice", account: "111111111111", now: end, issued: cut.Add(-time.Minute), wantDenied: true},
			{name: "the user, issued after the cut", userID: "user-alice", account: "111111111111", now: end, issued: cut.Add(2 * time.Second)},
			{name: "another user", userID: "user-bob", account: "111111111111", now: end, issued: cut.Add(-time.Minute)},
			{name: "the user in another account", userID: "user-alice", account: "222222222222", now: end, issued: cut.Add(-time.Minute)},
			{name: "a role session (no user id)", account: "111111111111", now: end, issued: cut.Add(-time.Minute)},
			{name: "anyone's role chaining, before any cut", action: "sts:AssumeRole", userID: "user-bob", account: "111111111111", now: cut.Add(-time.Hour), issued: cut.Add(-2 * time.Hour), wantDenied: true},
		}},
	} {
		for _, r := range tc.reqs {
			if got := denies(t, tc.doc, r); got != r.wantDenied {
				t.Errorf("%s / %s: denied=%v, want %v\npolicy: %s", tc.policy, r.name, got, r.wantDenied, tc.doc)
			}
		}
	}
}
