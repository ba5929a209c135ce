package federation

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jitaccess/jit/broker"
)

func TestConsoleDestination(t *testing.T) {
	for _, tc := range []struct {
		partition, region, dest, want, code string
	}{
		{"aws", "", "", "https://console.aws.amazon.com/", ""},
		{"aws", "eu-west-1", "", "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1", ""},
		{"aws-cn", "cn-north-1", "", "https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1", ""},
		{"aws-us-gov", "", "", "https://console.amazonaws-us-gov.com/", ""},
		{"aws", "", "https://us-east-1.console.aws.amazon.com/s3/home", "https://us-east-1.console.aws.amazon.com/s3/home", ""},
		{"aws", "", "https://evil.example.com/", "", broker.EINVALID},
		{"aws", "", "http://console.aws.amazon.com/", "", broker.EINVALID},
		{"aws", "", "https://console.aws.amazon.com.evil.com/", "", broker.EINVALID},
		{"aws-cn", "", "https://console.aws.amazon.com/", "", broker.EINVALID},
		{"aws", "nowhere", "", "", broker.EINVALID},
	} {
		got, err := consoleDestination(partitionHosts[tc.partition].console, tc.region, tc.dest)
		if broker.ErrorCode(err) != tc.code || got != tc.want {
			t.Errorf("%s %q %q: got %q, %v; want %q, code %q", tc.partition, tc.region, tc.dest, got, err, tc.want, tc.code)
		}
	}
}

func TestSigninURL(t *testing.T) {
	var session map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if r.URL.Path != "/federation" || r.Form.Get("Action") != "getSigninToken" || r.Form.Get("SessionDuration") != "" {
			http.Error(w, "bad request", 400)
			return
		}
		json.Unmarshal([]byte(r.Form.Get("Session")), &session)
		w.Write([]byte(`{"SigninToken":"tok123"}`))
	}))
	defer srv.Close()
	s := &Signin{Issuer: "https://jit.example.com", Endpoint: srv.URL}
	got, err := s.SigninURL(context.Background(), broker.Credentials{AccessKeyID: "ASIAX", SecretAccessKey: "sec", SessionToken: "tok"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if session["sessionId"] != "ASIAX" || session["sessionKey"] != "sec" || session["sessionToken"] != "tok" {
		t.Errorf("session sent: %v", session)
	}
	u, _ := url.Parse(got)
	q := u.Query()
	if !strings.HasPrefix(got, srv.URL+"/federation?") || q.Get("Action") != "login" || q.Get("SigninToken") != "tok123" ||
		q.Get("Issuer") != "https://jit.example.com" || q.Get("Destination") != "https://console.aws.amazon.com/" {
		t.Errorf("login URL %s", got)
	}
}
