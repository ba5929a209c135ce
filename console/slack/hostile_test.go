package slack

import (
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// signed is a callback whose raw body is body, signed with the secret now.
func signed(body []byte) *http.Request { return signedAt(body, secret, time.Now()) }

// signedAt is a callback whose raw body is body, signed with key at ts.
func signedAt(body []byte, key string, ts time.Time) *http.Request {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	m := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(m, "v0:%s:%s", stamp, body)
	r := httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Slack-Request-Timestamp", stamp)
	r.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	return r
}

// again is r once more, with its body and headers, after edit.
func again(t *testing.T, r *http.Request, edit func(http.Header)) (first, second *http.Request) {
	t.Helper()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	first = httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
	first.Header = r.Header.Clone()
	second = httptest.NewRequest(http.MethodPost, "/slack/interactions", bytes.NewReader(body))
	second.Header = r.Header.Clone()
	edit(second.Header)
	return first, second
}

// Hostile callbacks: a body over the limit (however well signed), missing
// or malformed signature headers, a timestamp from the future, a
// compressed body, a replay whose signature differs only in the case of
// its hex digits (the same signature to Slack's verifier), and payloads
// that are not a button click. None decides anything or updates a message.
func TestHostileCallbacksChangeNothing(t *testing.T) {
	click := func() *http.Request { return callback("UBOB", "approve", "t1:1", secret, time.Now()) }
	for _, c := range []struct {
		name     string
		req      func(t *testing.T, s *Slack) *http.Request
		wantCode int
	}{
		{"body over the limit, signed", func(*testing.T, *Slack) *http.Request {
			return signed([]byte("payload=" + strings.Repeat("x", maxCallback)))
		}, 413},
		{"no signature headers", func(*testing.T, *Slack) *http.Request {
			r := click()
			r.Header.Del("X-Slack-Signature")
			r.Header.Del("X-Slack-Request-Timestamp")
			return r
		}, 401},
		{"signature without v0=", func(*testing.T, *Slack) *http.Request {
			r := click()
			r.Header.Set("X-Slack-Signature", strings.TrimPrefix(r.Header.Get("X-Slack-Signature"), "v0="))
			return r
		}, 401},
		{"signature not hex", func(*testing.T, *Slack) *http.Request {
			r := click()
			r.Header.Set("X-Slack-Signature", "v0=\x1b[2J"+strings.Repeat("z", 60))
			return r
		}, 401},
		{"timestamp from the future", func(*testing.T, *Slack) *http.Request {
			return callback("UBOB", "approve", "t1:1", secret, time.Now().Add(6*time.Minute))
		}, 401},
		{"replay with upper-case signature", func(t *testing.T, s *Slack) *http.Request {
			first, second := again(t, click(), func(h http.Header) {
				h.Set("X-Slack-Signature", "v0="+strings.ToUpper(strings.TrimPrefix(h.Get("X-Slack-Signature"), "v0=")))
			})
			if w := serve(s, first); w.Code != 200 {
				t.Fatalf("first click: %d %s", w.Code, w.Body)
			}
			return second
		}, 401},
		{"gzip body, signed as sent", func(*testing.T, *Slack) *http.Request {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			io.WriteString(zw, "payload={}")
			zw.Close()
			r := signed(b.Bytes())
			r.Header.Set("Content-Encoding", "gzip")
			return r
		}, 400},
		{"no payload", func(*testing.T, *Slack) *http.Request { return signed([]byte("other=1")) }, 400},
		{"payload not JSON", func(*testing.T, *Slack) *http.Request { return signed([]byte("payload=%1b%5b2J")) }, 400},
		{"bad form", func(*testing.T, *Slack) *http.Request { return signed([]byte("payload=%zz")) }, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, api, d := newSlack(t)
			w := serve(s, c.req(t, s))
			if w.Code != c.wantCode {
				t.Fatalf("status %d (%s), want %d", w.Code, w.Body, c.wantCode)
			}
			if c.name == "replay with upper-case signature" {
				if len(d.decided) != 1 { // the first click only
					t.Fatalf("decisions %v, want the first click's only", d.decided)
				}
				return
			}
			if len(d.decided) != 0 || len(api.updates) != 0 {
				t.Fatalf("decisions %v, updates %d; want nothing changed", d.decided, len(api.updates))
			}
		})
	}
}
