package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

const slackSecret = "e2e-slack-signing-secret"

// slackAPI is a local stand-in for Slack's Web API.
type slackAPI struct {
	mu      sync.Mutex
	posts   []url.Values
	updates []url.Values
}

func (s *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	users := map[string]string{"UBOB": "bob@example.com", "UDAVE": "dave@example.com"}
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "users.info":
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": r.Form.Get("user"),
			"is_email_confirmed": true, "profile": map[string]any{"email": users[r.Form.Get("user")]}}})
	case "chat.postMessage":
		s.posts = append(s.posts, r.Form)
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": "1700000000.000200"})
	case "chat.update":
		s.updates = append(s.updates, r.Form)
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": r.Form.Get("ts")})
	}
}

func (s *slackAPI) count() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.posts), len(s.updates)
}

// click sends a signed button callback to the server.
func (h *harness) click(slackUser, action, value string) int {
	h.t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": slackUser},
		"channel": map[string]any{"id": "CDEV"}, "message": map[string]any{"ts": "1700000000.000200"},
		"actions": []map[string]any{{"action_id": action, "block_id": "decide", "type": "button", "value": value}}})
	body := "payload=" + url.QueryEscape(string(payload))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(slackSecret))
	fmt.Fprintf(m, "v0:%s:%s", ts, body)
	req, _ := http.NewRequest("POST", h.apiURL+"/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The approval request reaches the account's Slack channel with buttons;
// dave's click is refused by the broker, bob's approves through it, and
// the message is updated in place.
func TestSlackApproveThroughTheBroker(t *testing.T) {
	api := &slackAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	h := newHarnessWith(t, string(devConfig)+fmt.Sprintf(`notify:
  slack:
    bot_token: xoxb-e2e
    signing_secret: %s
    api_url: %s
    channels: {"111111111111": CDEV}
`, slackSecret, srv.URL))
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "slack")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if n, _ := api.count(); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no Slack post")
		}
		time.Sleep(50 * time.Millisecond)
	}
	api.mu.Lock()
	post := api.posts[0]
	api.mu.Unlock()
	if post.Get("channel") != "CDEV" || !strings.Contains(post.Get("blocks"), `"value":"`+tk.ID+`:1"`) {
		t.Fatalf("post %v, want CDEV with buttons for %s revision 1", post, tk.ID)
	}
	if code := h.click("UDAVE", "approve", tk.ID+":1"); code != 200 {
		t.Fatalf("dave's click: %d", code)
	}
	if got := h.ticket(tk.ID); got.State != broker.StatePending {
		t.Fatalf("after dave's click the ticket is %s, want pending", got.State)
	}
	if code := h.click("UBOB", "approve", tk.ID+":1"); code != 200 {
		t.Fatalf("bob's click: %d", code)
	}
	got := h.ticket(tk.ID)
	if got.State != broker.StateApproved && got.State != broker.StateActive {
		t.Fatalf("after bob's click the ticket is %s, want approved", got.State)
	}
	if _, updates := api.count(); updates != 1 {
		t.Fatalf("%d message updates, want 1", updates)
	}
}
