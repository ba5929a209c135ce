package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every bad request gets a 4xx with a JSON {"code", "message"} that says
// what is wrong, and leaves nothing in Redis and no task in Asynq. Hostile
// requests (compression bombs, huge bodies and headers) are refused too,
// and the server's resident memory stays within tens of MiB of its idle
// size through all of it. Refused sign-ins are logged without the token
// and counted.
func TestBadInputLeavesNothing(t *testing.T) {
	h := newHarness(t)
	pid := h.proc.Process.Pid
	h.api("alice@example.com", "GET", "/api/v1/tickets", nil) // warm up
	resetPeak(t, pid)
	idle := procMemory(t, pid)
	now := time.Now().UTC()
	ts := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
	good := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "start": ts(time.Minute), "end": ts(time.Hour), "reason": "bad input test"}
		edit(m)
		return m
	}
	alice := "alice@example.com"
	var sent []string // the bad tokens sent
	for _, tc := range []struct {
		name    string
		user    string
		auth    string // raw Authorization header, overrides user
		body    any
		status  int
		code    string
		message string
	}{
		{"end before start", alice, "", good(func(m map[string]any) { m["end"] = ts(30 * time.Second) }), 400, "invalid", "must be after start"},
		{"start in the past", alice, "", good(func(m map[string]any) { m["start"] = ts(-time.Hour) }), 400, "invalid", "in the past"},
		{"duration over the maximum", alice, "", good(func(m map[string]any) { m["end"] = ts(13 * time.Hour) }), 400, "invalid", "exceeds the maximum"},
		{"unknown account", alice, "", good(func(m map[string]any) { m["account_id"] = "999999999999" }), 404, "not_found", "account 999999999999 is not registered"},
		{"malformed account", alice, "", good(func(m map[string]any) { m["account_id"] = "12" }), 400, "invalid", "12 digits"},
		{"unknown permission set", alice, "", good(func(m map[string]any) { m["permission_set"] = "God" }), 404, "not_found", "permission set God is not registered"},
		{"no reason", alice, "", good(func(m map[string]any) { delete(m, "reason") }), 400, "invalid", "reason"},
		{"bad beneficiary", alice, "", good(func(m map[string]any) { m["beneficiaries"] = []string{"not-an-email"} }), 400, "invalid", "not an email"},
		{"request for others without the right", alice, "", good(func(m map[string]any) { m["beneficiaries"] = []string{"dave@example.com"} }), 403, "forbidden", "for other people"},
		{"malformed JSON", alice, "", `{"account_id": "111111111111",`, 400, "invalid", ""},
		{"unknown field", alice, "", good(func(m map[string]any) { m["role"] = "admin" }), 400, "invalid", "role"},
		{"wrong type", alice, "", good(func(m map[string]any) { m["reason"] = 42 }), 400, "invalid", "reason"},
		{"body over 64 KiB", alice, "", good(func(m map[string]any) { m["reason"] = strings.Repeat("x", 65<<10) }), 413, "too_large", ""},
		{"missing token", "", "", good(func(map[string]any) {}), 401, "unauthenticated", "missing bearer token"},
		{"expired token", "", "expired", good(func(map[string]any) {}), 401, "unauthenticated", "expired"},
		{"wrongly signed token", "", "forged", good(func(map[string]any) {}), 401, "unauthenticated", "signature"},
		{"wrong audience", "", "audience", good(func(map[string]any) {}), 401, "unauthenticated", "audience"},
		{"several audiences without azp", "", "aud-no-azp", good(func(map[string]any) {}), 401, "unauthenticated", "azp"},
		{"several audiences, foreign azp", "", "aud-foreign-azp", good(func(map[string]any) {}), 401, "unauthenticated", "azp"},
		{"duplicate key", alice, "", `{"account_id": "111111111111", "account_id": "333333333333", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "x"}`, 400, "invalid", `duplicate key "account_id"`},
		{"duplicate key in another case", alice, "", `{"account_id": "111111111111", "Account_ID": "333333333333", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "x"}`, 400, "invalid", `duplicate key "Account_ID"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var out map[string]any
			if tc.auth != "" {
				tok := h.badToken(t, tc.auth)
				sent = append(sent, tok)
				status, out = h.rawPost(t, "/api/v1/tickets", tok, tc.body)
			} else {
				status, out = h.api(tc.user, "POST", "/api/v1/tickets", tc.body)
			}
			if status != tc.status || out["code"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", status, out, tc.status, tc.code)
			}
			if msg, _ := out["message"].(string); msg == "" || !strings.Contains(msg, tc.message) {
				t.Fatalf("message %q does not say %q", msg, tc.message)
			}
		})
	}
	hostileRequests(t, h)

	after := procMemory(t, pid)
	t.Logf("server memory: idle %d MiB, peak %d MiB during the bad input, %d MiB after", idle.rss>>20, after.peak>>20, after.rss>>20)
	if grew := after.peak - idle.rss; grew > 40<<20 {
		t.Errorf("server peak memory %d MiB, %d MiB above its idle %d MiB; want within 40 MiB", after.peak>>20, grew>>20, idle.rss>>20)
	}

	// Refused sign-ins: logged with a reason and no token, and counted.
	logs := h.logs.String()
	for _, tok := range sent {
		if strings.Contains(logs, tok) || strings.Contains(logs, tok[strings.LastIndex(tok, ".")+1:]) {
			t.Errorf("the server log holds a refused token")
		}
	}
	if strings.Contains(logs, h.token("alice@example.com")) {
		t.Error("the server log holds alice's token")
	}
	for _, want := range []string{"authentication refused", `"reason":"expired"`, `"reason":"wrong_azp"`, `"reason":"missing_token"`, `"client":"127.0.0.1"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the server log lacks %q", want)
		}
	}
	resp, err := http.Get(h.apiURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`jit_auth_refused_total{reason="expired"} 1`, `jit_auth_refused_total{reason="wrong_azp"} 2`, `jit_auth_refused_total{reason="bad_signature"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	keys, err := h.redis().Keys(context.Background(), "jit:{tickets}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("Redis holds ticket keys after bad input only: %v", keys)
	}
	for state, list := range h.tasks() {
		if len(list) != 0 {
			t.Errorf("%d %s tasks after bad input only", len(list), state)
		}
	}
}

// badToken makes a token that must be refused.
func (h *harness) badToken(t *testing.T, kind string) string {
	t.Helper()
	claims, err := h.idp.Claims("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "expired":
		claims["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		claims["exp"] = time.Now().Add(-time.Hour).Unix()
	case "audience":
		claims["aud"] = "someone-else"
	case "aud-no-azp":
		claims["aud"] = []string{testAudience, "someone-else"}
	case "aud-foreign-azp":
		claims["aud"] = []string{testAudience, "someone-else"}
		claims["azp"] = "someone-else"
	case "forged":
		other, err := newForger(h.idp.IssuerURL())
		if err != nil {
			t.Fatal(err)
		}
		tok, err := other.Sign(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok, err := h.idp.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// rawPost posts with a given bearer token.
func (h *harness) rawPost(t *testing.T, path, token string, body any) (int, map[string]any) {
	t.Helper()
	h.tokens.Store("raw", token)
	defer h.tokens.Delete("raw")
	return h.api("raw", http.MethodPost, path, body)
}
