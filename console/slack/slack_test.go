package slack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// standIn is a local stand-in for Slack's Web API: users.info answers
// from users, chat.postMessage and chat.update are recorded.
type standIn struct {
	mu      sync.Mutex
	users   map[string]map[string]any
	posts   []url.Values
	updates []url.Values
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, "/") {
	case "users.info":
		u, ok := s.users[r.Form.Get("user")]
		if !ok {
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "user_not_found"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": u})
	case "chat.postMessage":
		s.posts = append(s.posts, r.Form)
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": "1700000000.000100"})
	case "chat.update":
		s.updates = append(s.updates, r.Form)
		json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": r.Form.Get("ts")})
	default:
		json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func user(email string, confirmed bool) map[string]any {
	return map[string]any{"id": "U", "is_email_confirmed": confirmed, "profile": map[string]any{"email": email}}
}

// decider stands in for the broker: bob may decide ticket t1 (revision 1)
// once; every decision is recorded.
type decider struct {
	mu      sync.Mutex
	decided []string
}

func (d *decider) decide(ctx context.Context, verb, id string, rev int) (*broker.Ticket, error) {
	u, _ := broker.UserFrom(ctx)
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case id != "t1":
		return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	case u.Email != "bob@example.com":
		return nil, broker.Errorf(broker.EFORBIDDEN, "%s may not decide ticket %s", u.Email, id)
	case rev != 1:
		return nil, broker.Errorf(broker.ECONFLICT, "ticket t1 is at revision 1")
	}
	d.decided = append(d.decided, verb+" by "+u.Email)
	state := broker.StateApproved
	if verb == "reject" {
		state = broker.StateRejected
	}
	return &broker.Ticket{ID: id, Revision: 1, State: state, AccountID: "111111111111", PermissionSet: "ReadOnlyAccess"}, nil
}

func (d *decider) ApproveRevision(ctx context.Context, id string, rev int, _ string) (*broker.Ticket, error) {
	return d.decide(ctx, "approve", id, rev)
}

func (d *decider) RejectRevision(ctx context.Context, id string, rev int, _ string) (*broker.Ticket, error) {
	return d.decide(ctx, "reject", id, rev)
}

type replay struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (r *replay) First(_ context.Context, key string, _ time.Duration) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[key] {
		return false, nil
	}
	r.seen[key] = true
	return true, nil
}

func newSlack(t *testing.T) (*Slack, *standIn, *decider) {
	t.Helper()
	api := &standIn{users: map[string]map[string]any{
		"UBOB":  user("bob@example.com", true),
		"UDAVE": user("dave@example.com", true),
		"UBOBX": user("bob@example.com", false), // email not confirmed
	}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	d := &decider{}
	s, err := New(Config{Token: "xoxb-test", SigningSecret: secret, APIURL: srv.URL, Default: "C1", BaseURL: "https://jit.example.com",
		Decider: d, Replay: &replay{seen: map[string]bool{}}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s, api, d
}

// callback returns a button click by slackUser, signed with key at ts.
func callback(slackUser, action, value, key string, ts time.Time) *http.Request {
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "user": map[string]any{"id": slackUser},
		"channel": map[string]any{"id": "C1"}, "message": map[string]any{"ts": "1700000000.000100"},
		"actions": []map[string]any{{"action_id": action, "block_id": "decide", "type": "button", "value": value}},
	})
	return signedAt([]byte("payload="+url.QueryEscape(string(payload))), key, ts)
}

func serve(s *Slack, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestSignedApproveApprovesAndUpdatesTheMessage(t *testing.T) {
	s, api, d := newSlack(t)
	w := serve(s, callback("UBOB", "approve", "t1:1", secret, time.Now()))
	if w.Code != 200 || strings.Contains(w.Body.String(), "ephemeral") {
		t.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	if len(d.decided) != 1 || d.decided[0] != "approve by bob@example.com" {
		t.Fatalf("decisions %v, want bob's approval", d.decided)
	}
	if len(api.updates) != 1 || api.updates[0].Get("ts") != "1700000000.000100" || !strings.Contains(api.updates[0].Get("blocks"), "Approved by bob@example.com") ||
		strings.Contains(api.updates[0].Get("blocks"), `"approve"`) {
		t.Fatalf("message update %v, want the outcome in place of the buttons", api.updates)
	}
}

func TestRefusedCallbacksChangeNothing(t *testing.T) {
	for _, c := range []struct {
		name     string
		req      func(s *Slack) *http.Request
		wantCode int
	}{
		{"wrong signature", func(*Slack) *http.Request { return callback("UBOB", "approve", "t1:1", "not-the-secret", time.Now()) }, 401},
		{"old timestamp", func(*Slack) *http.Request {
			return callback("UBOB", "approve", "t1:1", secret, time.Now().Add(-6*time.Minute))
		}, 401},
		{"replay", func(s *Slack) *http.Request {
			r := callback("UDAVE", "approve", "t1:1", secret, time.Now()) // taken once (refused by the broker), then replayed
			body, _ := io.ReadAll(r.Body)
			first := httptest.NewRequest(http.MethodPost, "/slack/interactions", strings.NewReader(string(body)))
			first.Header = r.Header.Clone()
			serve(s, first)
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			return r
		}, 401},
		{"user who may not approve", func(*Slack) *http.Request { return callback("UDAVE", "approve", "t1:1", secret, time.Now()) }, 200},
		{"unconfirmed email", func(*Slack) *http.Request { return callback("UBOBX", "approve", "t1:1", secret, time.Now()) }, 200},
		{"unknown Slack user", func(*Slack) *http.Request { return callback("UNOBODY", "reject", "t1:1", secret, time.Now()) }, 200},
		{"another revision", func(*Slack) *http.Request { return callback("UBOB", "approve", "t1:2", secret, time.Now()) }, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, api, d := newSlack(t)
			w := serve(s, c.req(s))
			if w.Code != c.wantCode {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, c.wantCode)
			}
			if c.wantCode == 200 && !strings.Contains(w.Body.String(), `"ephemeral"`) {
				t.Errorf("answer %s, want an ephemeral refusal", w.Body)
			}
			if len(d.decided) != 0 || len(api.updates) != 0 {
				t.Fatalf("decisions %v, updates %d; want nothing changed", d.decided, len(api.updates))
			}
		})
	}
}

func TestTellPostsButtonsToTheAccountChannel(t *testing.T) {
	s, api, _ := newSlack(t)
	s.cfg.Channels = map[string]string{"111111111111": "CDEV"}
	s.cfg.PermissionSets = map[string]string{"AdministratorAccess": "CADMIN"}
	tk := &broker.Ticket{ID: "t1", Revision: 1, AccountID: "111111111111", PermissionSet: "ReadOnlyAccess", Beneficiaries: []string{"alice@example.com"}, Reason: "<!channel> hi"}
	if err := s.Tell(context.Background(), tk, "alice asks", true); err != nil {
		t.Fatal(err)
	}
	if len(api.posts) != 1 || api.posts[0].Get("channel") != "CDEV" {
		t.Fatalf("posts %v, want one to CDEV", api.posts)
	}
	admin := *tk
	admin.PermissionSet = "AdministratorAccess"
	other := *tk
	other.AccountID = "222222222222"
	for _, x := range []*broker.Ticket{&admin, &other} {
		if err := s.Tell(context.Background(), x, "news", false); err != nil {
			t.Fatal(err)
		}
	}
	if got := []string{api.posts[1].Get("channel"), api.posts[2].Get("channel")}; got[0] != "CADMIN" || got[1] != "C1" {
		t.Errorf("channels %v, want the permission set's CADMIN, then the default C1", got)
	}
	blocks := api.posts[0].Get("blocks")
	for _, want := range []string{`"action_id":"approve"`, `"action_id":"reject"`, `"value":"t1:1"`, "https://jit.example.com/#/tickets/t1", "\\u0026lt;!channel\\u0026gt;"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %s: %s", want, blocks)
		}
	}
}
