package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jitaccess/jit/console/client"
)

// The token source is asked before every request (a refreshing token
// keeps working), and the server's JSON error comes back as *Error with
// its status, code and message, quoted when it holds terminal controls.
func TestTokensAndErrors(t *testing.T) {
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/tickets/t1":
			w.Write([]byte(`{"id":"t1","state":"pending","outcome":"","deciding":{"stage":2,"stages":3,"approvals":1,"required":2,"waiting_for":["bob"],"for":"alice"}}`))
		case "/api/v1/tickets/evil":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"code":"forbidden","message":"no\u001b[31m"}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		}
	}))
	defer srv.Close()
	n := 0
	c := client.New(srv.URL, client.TokenFunc(func(context.Context) (string, error) {
		n++
		return []string{"", "first", "second"}[n], nil
	}))
	ctx := context.Background()
	tk, err := c.Ticket(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if d := tk.Deciding; tk.ID != "t1" || d == nil || d.Stage != 2 || d.For != "alice" || len(d.WaitingFor) != 1 {
		t.Errorf("ticket %+v deciding %+v", tk.Ticket, tk.Deciding)
	}
	_, err = c.Ticket(ctx, "evil")
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 403 || e.Code != "forbidden" || !client.IsCode(err, "forbidden") {
		t.Fatalf("error %#v, want *client.Error 403 forbidden", err)
	}
	if got, want := err.Error(), `"no\x1b[31m" (forbidden)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if want := []string{"Bearer first", "Bearer second"}; len(auth) != 2 || auth[0] != want[0] || auth[1] != want[1] {
		t.Errorf("Authorization headers %q, want %q", auth, want)
	}
	_, err = client.New(srv.URL, nil).Me(ctx)
	if !errors.As(err, &e) || e.Status != 502 || e.Code != "" || err.Error() != "server answered 502 Bad Gateway" {
		t.Errorf("non-JSON error %#v (%v)", err, err)
	}
}
