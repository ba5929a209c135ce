package console_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jitaccess/jit/console"
)

// The app's precompressed copies are sent to browsers that accept them
// (brotli first, it is smaller), with Vary; others get the file itself.
func TestWebServesPrecompressedFiles(t *testing.T) {
	js := strings.Repeat("console.log('jit');\n", 200)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(js))
	zw.Close()
	files := fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html>")},
		"assets/app-1a2b.js":    {Data: []byte(js)},
		"assets/app-1a2b.js.gz": {Data: gz.Bytes()},
		"assets/app-1a2b.js.br": {Data: []byte("brotli bytes")}, // served as they are
	}
	h := newHarness(t, func(c *console.Config) {
		c.Web = &console.Web{Files: files, Issuer: "http://127.0.0.1:7000/oidc", ClientID: "jit-web"}
	})
	for _, tc := range []struct{ accept, wantCoding string }{
		{"gzip, deflate, br, zstd", "br"},
		{"gzip, deflate", "gzip"},
		{"br;q=0, gzip;q=0.5", "gzip"},
		{"*", "br"},
		{"*;q=0, gzip", "gzip"},
		{"", ""},
		{"identity", ""},
		{"gzip;q=0", ""},
	} {
		r := h.do(t, request{method: "GET", path: "/assets/app-1a2b.js", header: map[string]string{"Accept-Encoding": tc.accept}})
		if r.status != 200 || r.header.Get("Content-Encoding") != tc.wantCoding || r.header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: %d, Content-Encoding %q Vary %q; want %q", tc.accept, r.status, r.header.Get("Content-Encoding"), r.header.Get("Vary"), tc.wantCoding)
			continue
		}
		body := string(r.body)
		switch tc.wantCoding {
		case "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(zr)
			body = string(b)
		case "br":
			if body != "brotli bytes" {
				t.Errorf("br body %q", body)
			}
			continue
		}
		if body != js {
			t.Errorf("Accept-Encoding %q: body is not the file", tc.accept)
		}
	}
	// A copy is never a file of its own, and index.html has none.
	if r := h.do(t, request{method: "GET", path: "/assets/app-1a2b.js.gz"}); r.status != 404 {
		t.Errorf("the .gz copy is served as a file: %d %q", r.status, r.body)
	}
	if r := h.do(t, request{method: "GET", path: "/", header: map[string]string{"Accept-Encoding": "gzip"}}); r.header.Get("Content-Encoding") != "" || r.header.Get("Vary") != "" {
		t.Errorf("index.html: Content-Encoding %q Vary %q", r.header.Get("Content-Encoding"), r.header.Get("Vary"))
	}
}
