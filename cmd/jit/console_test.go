package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The console link signs the beneficiary into the (sandbox) AWS console as
// the ticket's session; after Terminate the same console session is denied.
func TestConsoleSignIn(t *testing.T) {
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "console")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s", err, errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 10*time.Second)

	out, errOut, err := h.jit("alice@example.com", "console", "--ticket", tk.ID, "--url-only")
	if err != nil {
		t.Fatalf("jit console: %v\n%s", err, errOut)
	}
	link := strings.TrimSpace(out)
	if !strings.HasPrefix(link, h.awsURL+"/federation?") || !strings.Contains(link, "Action=login") {
		t.Fatalf("sign-in link %q", link)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	page := func() string {
		resp, err := browser.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := page()
	wantARN := "arn:aws:sts::111111111111:assumed-role/ReadOnlyAccess/jit-" + tk.ID + "-alice@example.com"
	if !strings.Contains(before, wantARN) || strings.Contains(before, "AccessDenied") {
		t.Fatalf("console page before terminate does not show %s allowed:\n%s", wantARN, before)
	}
	if _, errOut, err := h.jit("bob@example.com", "terminate", tk.ID); err != nil {
		t.Fatalf("terminate: %v %s", err, errOut)
	}
	resp, err := browser.Get(h.awsURL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "AccessDenied") {
		t.Fatalf("console page after terminate is not denied:\n%s", b)
	}

	// Wrong input: a destination outside the AWS console.
	_, errOut, err = h.jit("alice@example.com", "console", "--ticket", tk.ID, "--destination", "https://evil.example.com/")
	if err == nil || !strings.Contains(errOut, "destination must be an https URL") {
		t.Fatalf("evil destination: err=%v %q", err, errOut)
	}
}
