package console_test

import (
	"encoding/json"
	"testing"
)

// TestMissingCapability: a server built without a capability (a nil
// Config field) answers every route that needs it with the same 503
// {"code": "unavailable", "message": "<capability> not enabled"}, never a
// 404 or a missing route.
func TestMissingCapability(t *testing.T) {
	h := newHarness(t)
	bob := token(t, "bob@example.com")
	for _, tc := range []struct{ method, path, what string }{
		{"POST", "/api/v1/tickets/t1/cancel", "ticket workflow"},
		{"POST", "/api/v1/tickets/t1/extend", "ticket workflow"},
		{"GET", "/api/v1/delegations", "ticket workflow"},
		{"GET", "/api/v1/tickets/t1/activity", "activity lookup"},
		{"GET", "/api/v1/registry", "registry administration"},
		{"DELETE", "/api/v1/accounts/111111111111", "registry administration"},
		{"GET", "/api/v1/audit", "audit log"},
		{"GET", "/api/v1/tickets/t1/timeline", "audit log"},
		{"POST", "/api/v1/reconcile", "reconciler"},
		{"GET", "/api/v1/events", "live feed"},
	} {
		r := h.do(t, request{method: tc.method, path: tc.path, token: bob})
		var body struct{ Code, Message string }
		_ = json.Unmarshal([]byte(r.body), &body)
		if want := tc.what + " not enabled"; r.status != 503 || body.Code != "unavailable" || body.Message != want {
			t.Errorf("%s %s: %d %s, want 503 unavailable %q", tc.method, tc.path, r.status, r.body, want)
		}
	}
}
