package console_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
	"github.com/jitaccess/jit/console/slack"
)

// slackDecider counts decisions; slackReplay takes every key.
type slackDecider struct{ n atomic.Int64 }

func (d *slackDecider) ApproveRevision(context.Context, string, int, string) (*broker.Ticket, error) {
	d.n.Add(1)
	return nil, broker.Errorf(broker.ENOTFOUND, "not found")
}

func (d *slackDecider) RejectRevision(context.Context, string, int, string) (*broker.Ticket, error) {
	d.n.Add(1)
	return nil, broker.Errorf(broker.ENOTFOUND, "not found")
}

type slackReplay struct{}

func (slackReplay) First(context.Context, string, time.Duration) (bool, error) { return true, nil }

// POST /slack/interactions as jit serve mounts it (an extra route, no
// bearer token): a compressed body is 415 and a body over the API's limit
// 413 before the Slack handler reads it; an unsigned one is 401. None
// reaches Slack's API or decides anything.
func TestSlackRouteRefusesHostileBodies(t *testing.T) {
	var apiCalls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiCalls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(api.Close)
	d := &slackDecider{}
	chat, err := slack.New(slack.Config{Token: "xoxb-test", SigningSecret: "0123456789abcdef0123456789abcdef", APIURL: api.URL,
		Decider: d, Replay: slackReplay{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *console.Config) {
		c.Extra = func(app *fiber.App) { app.Post("/slack/interactions", adaptor.HTTPHandler(chat)) }
	})
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	stamp := map[string]string{"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=" + strings.Repeat("0", 64)}
	withEncoding := map[string]string{"Content-Encoding": "gzip"}
	for k, v := range stamp {
		withEncoding[k] = v
	}
	for _, tc := range []struct {
		name   string
		r      request
		status int
		code   string
	}{
		{"gzip bomb", request{method: "POST", path: "/slack/interactions", body: bomb.String(), contentType: "application/x-www-form-urlencoded", header: withEncoding}, 415, "unsupported_media_type"},
		// Over the 64 KiB limit but under the 256 KiB the server drains: a
		// larger body is answered and the connection closed mid-send, which
		// the client may see as a reset instead of the answer (edge.go).
		{"128 KiB body", request{method: "POST", path: "/slack/interactions", body: "payload=" + strings.Repeat("x", 128<<10), contentType: "application/x-www-form-urlencoded", header: stamp, overHTTP: true}, 413, "too_large"},
		{"unsigned", request{method: "POST", path: "/slack/interactions", body: "payload={}", contentType: "application/x-www-form-urlencoded"}, 401, ""},
		{"badly signed", request{method: "POST", path: "/slack/interactions", body: "payload={}", contentType: "application/x-www-form-urlencoded", header: stamp}, 401, ""},
	} {
		r := h.do(t, tc.r)
		if r.status != tc.status {
			t.Errorf("%s: %d %.200s, want %d", tc.name, r.status, r.body, tc.status)
			continue
		}
		if tc.code != "" {
			if code, _ := r.errBody(t); code != tc.code {
				t.Errorf("%s: code %s, want %s", tc.name, code, tc.code)
			}
		}
	}
	if d.n.Load() != 0 || apiCalls.Load() != 0 {
		t.Errorf("%d decisions and %d Slack API calls for refused callbacks", d.n.Load(), apiCalls.Load())
	}
}
