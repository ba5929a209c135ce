package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// memory is the server process's resident memory, from /proc.
type memory struct {
	rss, peak int64 // VmRSS and VmHWM, in bytes
}

// procMemory reads /proc/<pid>/status.
func procMemory(t *testing.T, pid int) memory {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	var m memory
	for _, line := range strings.Split(string(data), "\n") {
		name, value, _ := strings.Cut(line, ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.peak = kb << 10
		}
	}
	if m.rss == 0 || m.peak == 0 {
		t.Fatalf("no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return m
}

// resetPeak starts the process's VmHWM again from its present VmRSS
// (Linux's clear_refs), so that the peak measures only what comes next.
func resetPeak(t *testing.T, pid int) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset the peak memory of the server: %v", err)
	}
}

// gzipBomb is n MiB of zeros as a gzip stream (one member per MiB, so it is
// cheap to make), gzipped once more when twice: about 2 KB that a server
// decoding "Content-Encoding: gzip, gzip" inflates to n MiB.
func gzipBomb(t *testing.T, n int, twice bool) []byte {
	t.Helper()
	gz := func(data []byte) []byte {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	bomb := bytes.Repeat(gz(make([]byte, 1<<20)), n)
	if twice {
		bomb = gz(bomb)
	}
	return bomb
}

// rawAnswer sends head (request line and headers) and then body, from
// another goroutine so that the answer may come while it is being sent, on
// a connection of its own, and returns the status, the error code and
// whether the server closes the connection after the answer.
func (h *harness) rawAnswer(t *testing.T, head string, body io.Reader) (int, string, bool) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.apiURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, head+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go io.Copy(conn, body) // ends when the connection is closed
		if c, ok := body.(io.Closer); ok {
			defer c.Close() // a pipe's writer stops too
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	var e struct{ Code string }
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("answer %d is not JSON: %.200s", resp.StatusCode, data)
	}
	return resp.StatusCode, e.Code, resp.Close
}

// hostileRequests sends what once took the server to gigabytes or was
// refused wrongly: compression bombs, bodies larger than the limit (sent,
// declared, chunked; with and without a token), oversized headers, and a
// token with hundreds of groups. Each must get its answer.
func hostileRequests(t *testing.T, h *harness) {
	alice := h.token("alice@example.com")
	post := func(auth, extra string, length int) string {
		head := "POST /api/v1/tickets HTTP/1.1\r\nHost: jit\r\nContent-Type: application/json"
		if auth != "" {
			head += "\r\nAuthorization: Bearer " + auth
		}
		if length >= 0 {
			head += "\r\nContent-Length: " + strconv.Itoa(length)
		}
		return head + extra
	}
	zeros := func(n int64) io.Reader { return io.LimitReader(zeroReader{}, n) }
	for _, tc := range []struct {
		name   string
		auth   string
		extra  string // headers
		body   []byte
		status int
		code   string
	}{
		{"gzip, gzip bomb", alice, "\r\nContent-Encoding: gzip, gzip", gzipBomb(t, 512, true), 415, "unsupported_media_type"},
		{"gzip bomb", alice, "\r\nContent-Encoding: gzip", gzipBomb(t, 32, false), 415, "unsupported_media_type"},
		{"gzip, gzip bomb without a token", "", "\r\nContent-Encoding: gzip, gzip", gzipBomb(t, 512, true), 415, "unsupported_media_type"},
		{"deflate", alice, "\r\nContent-Encoding: deflate", []byte("x"), 415, "unsupported_media_type"},
	} {
		status, code, _ := h.rawAnswer(t, post(tc.auth, tc.extra, len(tc.body)), bytes.NewReader(tc.body))
		if status != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, code, tc.status, tc.code)
		}
	}
	// 256 MiB declared and sent without a token: refused before it is read.
	if status, code, closed := h.rawAnswer(t, post("", "", 256<<20), zeros(256<<20)); status != 401 || code != "unauthenticated" || !closed {
		t.Errorf("256 MiB without a token: %d %s (connection closed: %v), want 401 unauthenticated and the connection closed", status, code, closed)
	}
	// The same with a token that is not valid.
	if status, code, _ := h.rawAnswer(t, post(h.badToken(t, "forged"), "", 256<<20), zeros(256<<20)); status != 401 || code != "unauthenticated" {
		t.Errorf("256 MiB with a forged token: %d %s, want 401 unauthenticated", status, code)
	}
	// 256 MiB declared with a valid token: 413 at once.
	if status, code, _ := h.rawAnswer(t, post(alice, "", 256<<20), zeros(256<<20)); status != 413 || code != "too_large" {
		t.Errorf("256 MiB declared: %d %s, want 413 too_large", status, code)
	}
	// 64 MiB chunked with a valid token: 413 once past the limit.
	chunks := func() io.Reader {
		pr, pw := io.Pipe()
		go func() {
			chunk := fmt.Sprintf("%x\r\n%s\r\n", 64<<10, make([]byte, 64<<10))
			for range 1 << 10 {
				if _, err := io.WriteString(pw, chunk); err != nil {
					return
				}
			}
			io.WriteString(pw, "0\r\n\r\n")
			pw.Close()
		}()
		return pr
	}
	if status, code, _ := h.rawAnswer(t, post(alice, "\r\nTransfer-Encoding: chunked", -1), chunks()); status != 413 || code != "too_large" {
		t.Errorf("64 MiB chunked: %d %s, want 413 too_large", status, code)
	}
	// Headers over the limit: 431.
	big := "GET /api/v1/tickets HTTP/1.1\r\nHost: jit\r\nAuthorization: Bearer " + alice + "\r\nX-Padding: " + strings.Repeat("p", 48<<10)
	if status, code, _ := h.rawAnswer(t, big, nil); status != 431 || code != "headers_too_large" {
		t.Errorf("48 KiB of headers: %d %s, want 431 headers_too_large", status, code)
	}
	// An ID token of more than 20 KiB (hundreds of groups): accepted.
	tok := h.bigToken(t)
	h.tokens.Store("big", tok)
	defer h.tokens.Delete("big")
	if status, out := h.api("big", "GET", "/api/v1/tickets", nil); status != 200 {
		t.Errorf("a %d-byte token: %d %v, want 200", len(tok), status, out)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bigToken is alice's token with 600 groups: more than 20 KiB.
func (h *harness) bigToken(t *testing.T) string {
	t.Helper()
	claims, err := h.idp.Claims("alice@example.com", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	groups := []string{"engineers"}
	for i := range 600 {
		groups = append(groups, fmt.Sprintf("aws-account-%04d-engineers", i))
	}
	claims["groups"] = groups
	tok, err := h.idp.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 20<<10 {
		t.Fatalf("token of %d bytes, want more than 20 KiB", len(tok))
	}
	return tok
}

// Each user's writes are limited (here 3 at once, then 1 a minute): the
// fourth is answered 429 with Retry-After, while reads and other users'
// writes go on.
func TestWriteRateLimit(t *testing.T) {
	h := newHarnessWith(t, string(devConfig)+"\nrate_limit:\n  writes_per_minute: 1\n  burst: 3\n")
	for i := range 3 {
		if status, out := h.api("alice@example.com", "POST", "/api/v1/tickets/nope/cancel", nil); status != 404 {
			t.Fatalf("write %d: %d %v, want 404 (counted, not limited)", i+1, status, out)
		}
	}
	req, _ := http.NewRequest("POST", h.apiURL+"/api/v1/tickets/nope/cancel", nil)
	req.Header.Set("Authorization", "Bearer "+h.token("alice@example.com"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Fatalf("write 4: %d, want 429", resp.StatusCode)
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("Retry-After = %q, want seconds in [1, 60]", resp.Header.Get("Retry-After"))
	}
	if status, _ := h.api("alice@example.com", "GET", "/api/v1/tickets", nil); status != 200 {
		t.Errorf("alice's read: %d, want 200", status)
	}
	if status, _ := h.api("dave@example.com", "POST", "/api/v1/tickets/nope/cancel", nil); status != 404 {
		t.Errorf("dave's write: %d, want 404 (not limited by alice's)", status)
	}
}
