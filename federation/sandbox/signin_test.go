package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// sessionJSON is the Session parameter of getSigninToken.
func sessionJSON(c *ststypes.Credentials) string {
	b, _ := json.Marshal(map[string]string{
		"sessionId": aws.ToString(c.AccessKeyId), "sessionKey": aws.ToString(c.SecretAccessKey), "sessionToken": aws.ToString(c.SessionToken),
	})
	return string(b)
}

// getToken calls getSigninToken and returns the status and the token.
func getToken(t *testing.T, e *env, method, session, duration string) (int, string) {
	t.Helper()
	q := url.Values{"Action": {"getSigninToken"}, "Session": {session}}
	if duration != "" {
		q.Set("SessionDuration", duration)
	}
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = http.PostForm(e.url+"/federation", q)
	} else {
		resp, err = http.Get(e.url + "/federation?" + q.Encode())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ SigninToken string }
	if resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.SigninToken == "" {
			t.Fatalf("getSigninToken body: %v %+v", err, out)
		}
	}
	return resp.StatusCode, out.SigninToken
}

func loginURL(e *env, token string) string {
	return e.url + "/federation?" + url.Values{"Action": {"login"}, "Issuer": {"https://jit.example.com"},
		"Destination": {"https://console.aws.amazon.com/"}, "SigninToken": {token}}.Encode()
}

// browser is an HTTP client with a cookie jar.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleSignin: getSigninToken, login, and a console page that
// shows the session and, after a deny entry on the role, AccessDenied.
func TestConsoleSignin(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	status, token := getToken(t, e, "GET", sessionJSON(out.Credentials), "")
	if status != 200 {
		t.Fatalf("getSigninToken: %d", status)
	}
	b := browser(t)
	status, page := get(t, b, loginURL(e, token))
	if status != 200 {
		t.Fatalf("login -> console: %d %s", status, page)
	}
	arn := aws.ToString(out.AssumedRoleUser.Arn)
	for _, want := range []string{
		`<dd id="arn">` + arn + `</dd>`, `<dd id="account">111111111111</dd>`, `<dd id="source-identity">alice</dd>`,
		`<dd id="session-expires">` + aws.ToTime(out.Credentials.Expiration).UTC().Format(time.RFC3339) + `</dd>`,
		`<dd id="check">Allowed</dd>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("console page lacks %s:\n%s", want, page)
		}
	}
	for _, secret := range []string{aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken), token} {
		if strings.Contains(page, secret) {
			t.Errorf("console page renders a secret")
		}
	}

	if _, err := e.broker().iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"),
		PolicyName: aws.String("jit-revocations"), PolicyDocument: aws.String(fmt.Sprintf(denyTemplate, `"t1"`))}); err != nil {
		t.Fatal(err)
	}
	_, page = get(t, b, e.url+"/console")
	want := `<dd id="check">AccessDenied: User: ` + arn + ` is not authorized to perform: s3:ListAllMyBuckets with an explicit deny in an identity-based policy</dd>`
	if !strings.Contains(page, want) {
		t.Errorf("after the deny entry, console page lacks %s:\n%s", want, page)
	}

	// The token may be used again within 15 minutes, as in AWS.
	if status, _ := get(t, browser(t), loginURL(e, token)); status != 200 {
		t.Errorf("second login with the token: %d", status)
	}
	if status, _ := get(t, browser(t), e.url+"/console"); status != http.StatusUnauthorized {
		t.Errorf("console without a cookie: %d", status)
	}
	e.clock.Advance(15 * time.Minute)
	if status, _ := get(t, browser(t), loginURL(e, token)); status != 400 {
		t.Errorf("login with a 15-minute-old token: %d", status)
	}
}

func TestSigninTokenErrors(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	good := sessionJSON(out.Credentials)
	bad := func(mut func(m map[string]string)) string {
		m := map[string]string{}
		json.Unmarshal([]byte(good), &m)
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	admin := ticketSession(t, e, devAdmin, "t2", "bob", nil)
	chained := assume(t, e.session(admin.Credentials), &sts.AssumeRoleInput{RoleArn: aws.String(devReadOnly), RoleSessionName: aws.String("chained")})
	tests := []struct {
		name, method, session, duration string
		want                            int
	}{
		{"GET", "GET", good, "", 200},
		{"POST", "POST", good, "", 200},
		{"SessionDuration 900", "GET", good, "900", 200},
		{"SessionDuration 43200", "GET", good, "43200", 200},
		{"SessionDuration 899", "GET", good, "899", 400},
		{"SessionDuration 43201", "GET", good, "43201", 400},
		{"SessionDuration not a number", "GET", good, "1h", 400},
		{"not JSON", "GET", "x", "", 400},
		{"wrong secret", "GET", bad(func(m map[string]string) { m["sessionKey"] = "wrong" }), "", 400},
		{"wrong token", "GET", bad(func(m map[string]string) { m["sessionToken"] += "x" }), "", 400},
		{"unknown key", "GET", bad(func(m map[string]string) { m["sessionId"] = "ASIAUNKNOWN000000000" }), "", 400},
		{"long-term key", "GET", fmt.Sprintf(`{"sessionId":%q,"sessionKey":%q,"sessionToken":""}`, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey), "", 400},
		{"role chaining", "GET", sessionJSON(chained.Credentials), "", 200},
		{"role chaining with SessionDuration", "GET", sessionJSON(chained.Credentials), "3600", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := getToken(t, e, tt.method, tt.session, tt.duration); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
	if got, _ := get(t, browser(t), e.url+"/federation?Action=login&Destination=https://console.aws.amazon.com/&SigninToken=nope"); got != 400 {
		t.Errorf("login with an unknown token: %d", got)
	}
	_, tok := getToken(t, e, "GET", good, "")
	if got, _ := get(t, browser(t), e.url+"/federation?Action=login&Destination=relative&SigninToken="+tok); got != 400 {
		t.Errorf("login with a relative Destination: %d", got)
	}
	e.clock.Advance(16 * time.Minute)
	if got, _ := getToken(t, e, "GET", good, ""); got != 400 {
		t.Errorf("expired credentials: %d", got)
	}
}

// TestConsoleSessionPolicyCap: the console shows AccessDenied once the
// ticket's end in the session policy has passed, although the
// credentials and the console session still run.
func TestConsoleSessionPolicyCap(t *testing.T) {
	e := newEnv(t, DemoFixture())
	end := e.clock.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},` +
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"` + end + `"}}}]}`
	out := ticketSession(t, e, devReadOnly, "t3", "alice", aws.String(policy))
	_, token := getToken(t, e, "POST", sessionJSON(out.Credentials), "")
	b := browser(t)
	if _, page := get(t, b, loginURL(e, token)); !strings.Contains(page, `<dd id="check">Allowed</dd>`) {
		t.Fatalf("before the end:\n%s", page)
	}
	e.clock.Advance(11 * time.Minute)
	if _, page := get(t, b, e.url+"/console"); !strings.Contains(page, "AccessDenied: ") || !strings.Contains(page, "with an explicit deny in a session policy") {
		t.Errorf("after the end:\n%s", page)
	}
	e.clock.Advance(5 * time.Minute) // the credentials (15 min) and so the console session are over
	if status, _ := get(t, b, e.url+"/console"); status != http.StatusUnauthorized {
		t.Errorf("after the session expired: %d", status)
	}
}
