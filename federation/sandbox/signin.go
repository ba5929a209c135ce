package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The console federation endpoint (signin.aws.amazon.com/federation):
// getSigninToken trades a minted session's credentials for a sign-in
// token, and login trades the token for a console session, here a cookie
// for the sandbox's own console page at /console.

const (
	signinTokenLife = 15 * time.Minute
	consoleCookie   = "aws-sandbox-console"
)

func init() {
	unsignedRoutes["/federation"] = (*Sandbox).serveFederation
	unsignedRoutes["/console"] = (*Sandbox).serveConsole
}

// consoles holds sign-in tokens and console sessions, guarded by s.mu.
type consoles struct {
	tokens   map[string]signinToken    // by token
	sessions map[string]consoleSession // by cookie value
	chained  map[string]bool           // access key ids minted by role chaining
}

type signinToken struct {
	accessKeyID string
	issued      time.Time
	duration    time.Duration // SessionDuration; 0 when not given
}

type consoleSession struct {
	accessKeyID string
	expires     time.Time
	destination string
}

func newConsoles() *consoles {
	return &consoles{tokens: map[string]signinToken{}, sessions: map[string]consoleSession{}, chained: map[string]bool{}}
}

func (s *Sandbox) serveFederation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	switch r.Form.Get("Action") {
	case "getSigninToken":
		s.getSigninToken(w, r)
	case "login":
		s.consoleLogin(w, r)
	default:
		http.Error(w, "unknown Action", http.StatusBadRequest)
	}
}

// getSigninToken answers {"SigninToken": ...} for valid, unexpired
// credentials of a session the sandbox minted, and 400 otherwise.
func (s *Sandbox) getSigninToken(w http.ResponseWriter, r *http.Request) {
	var creds struct {
		SessionID    string `json:"sessionId"`
		SessionKey   string `json:"sessionKey"`
		SessionToken string `json:"sessionToken"`
	}
	if err := json.Unmarshal([]byte(r.Form.Get("Session")), &creds); err != nil {
		http.Error(w, "Session must be a JSON document of sessionId, sessionKey and sessionToken", http.StatusBadRequest)
		return
	}
	var duration time.Duration
	_, durationSet := r.Form["SessionDuration"]
	if durationSet {
		n, err := strconv.Atoi(r.Form.Get("SessionDuration"))
		if err != nil || n < 900 || n > 43200 {
			http.Error(w, "SessionDuration must be 900 to 43200 seconds", http.StatusBadRequest)
			return
		}
		duration = time.Duration(n) * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	se, ok := s.sessions[creds.SessionID]
	// Long-term keys are refused: the endpoint takes temporary credentials.
	if !ok || se.secret != creds.SessionKey || se.token != creds.SessionToken || !now.Before(se.expires) {
		http.Error(w, "The credentials are invalid or expired.", http.StatusBadRequest)
		return
	}
	if durationSet && s.consoles.chained[se.accessKeyID] {
		// UNCONFIRMED: AWS documents SessionDuration only for credentials
		// obtained with long-term credentials; whether it rejects or caps
		// it for role-chained ones is not known. The stricter reading:
		// reject.
		http.Error(w, "SessionDuration is not allowed for credentials obtained by role chaining.", http.StatusBadRequest)
		return
	}
	tok := randomToken(96)
	s.consoles.tokens[tok] = signinToken{accessKeyID: se.accessKeyID, issued: now, duration: duration}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"SigninToken": tok})
}

// consoleLogin turns a sign-in token (valid 15 minutes, usable more than
// once as in AWS) into a console session cookie and redirects to the
// sandbox console page.
func (s *Sandbox) consoleLogin(w http.ResponseWriter, r *http.Request) {
	dest, err := url.Parse(r.Form.Get("Destination"))
	if err != nil || !dest.IsAbs() || (dest.Scheme != "https" && dest.Scheme != "http") {
		http.Error(w, "Destination must be an absolute URL", http.StatusBadRequest)
		return
	}
	// Issuer is where AWS sends the user when the session ends; the
	// sandbox does not need it.
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	tok, ok := s.consoles.tokens[r.Form.Get("SigninToken")]
	if !ok || now.Sub(tok.issued) >= signinTokenLife {
		http.Error(w, "The sign-in token is invalid or expired.", http.StatusBadRequest)
		return
	}
	se := s.sessions[tok.accessKeyID]
	expires := se.expires
	if tok.duration > 0 {
		expires = tok.issued.Add(tok.duration)
	}
	if !now.Before(expires) {
		http.Error(w, "The session has expired.", http.StatusBadRequest)
		return
	}
	cookie := randomToken(32)
	s.recordConsoleLogin(se, r, now)
	s.consoles.sessions[cookie] = consoleSession{accessKeyID: se.accessKeyID, expires: expires, destination: dest.String()}
	http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: cookie, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, "/console", http.StatusFound)
}

var consolePage = template.Must(template.New("console").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>AWS sandbox console</title></head>
<body>
<h1>AWS sandbox console</h1>
<dl>
<dt>Signed in as</dt><dd id="arn">{{.ARN}}</dd>
<dt>Account</dt><dd id="account">{{.Account}}</dd>
<dt>Source identity</dt><dd id="source-identity">{{.SourceIdentity}}</dd>
<dt>Credentials expire</dt><dd id="session-expires">{{.SessionExpires}}</dd>
<dt>Console session expires</dt><dd id="console-expires">{{.ConsoleExpires}}</dd>
<dt>Destination</dt><dd id="destination">{{.Destination}}</dd>
<dt>{{.Action}}</dt><dd id="check">{{.Check}}</dd>
</dl>
</body></html>
`))

// serveConsole shows the signed-in identity and whether a harmless read
// action is allowed for its session now, as every console page would
// find out. Nothing secret is rendered.
func (s *Sandbox) serveConsole(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(consoleCookie)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	var cs consoleSession
	ok := err == nil
	if ok {
		cs, ok = s.consoles.sessions[ck.Value]
	}
	if !ok || !now.Before(cs.expires) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("<!doctype html><title>AWS sandbox console</title><p>Not signed in, or the console session has expired.</p>\n"))
		return
	}
	se := s.sessions[cs.accessKeyID]
	const action = "s3:ListAllMyBuckets"
	c := &call{s: s, r: r, now: now, caller: &principal{arn: se.arn, account: se.account, userID: se.userID, session: se}}
	check := "Allowed"
	if d := c.authorize(action, "*"); !d.allowed {
		check = "AccessDenied: User: " + se.arn + " is not authorized to perform: " + action + " " + d.reason(action)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	consolePage.Execute(w, map[string]string{
		"ARN": se.arn, "Account": se.account, "SourceIdentity": se.sourceIdentity,
		"SessionExpires": se.expires.UTC().Format(time.RFC3339), "ConsoleExpires": cs.expires.UTC().Format(time.RFC3339),
		"Destination": cs.destination, "Action": action, "Check": check,
	})
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
