package devoidc

import (
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The device authorization grant (RFC 8628), for a command line on a
// machine without a browser: POST <issuer>/device_authorization gives a
// device code and a short user code; the user opens <issuer>/device,
// enters the code and picks a demo user; meanwhile the client polls POST
// <issuer>/token with grant_type=urn:ietf:params:oauth:grant-type:device_code.

// deviceGrantType is the grant_type of the device flow's token request.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// deviceTTL is how long a device code may be polled; deviceInterval the
// polling interval the client is told (short: this is development).
const (
	deviceTTL      = 10 * time.Minute
	deviceInterval = 1
)

// deviceGrant is a device authorization waiting for the user.
type deviceGrant struct {
	clientID, userCode string
	email              string // set once the user signed in
	denied             bool
	expires            time.Time
}

// deviceAuthorization serves POST <issuer>/device_authorization.
func (i *Issuer) deviceAuthorization(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "the body must be a form of at most 4 KiB")
		return
	}
	if r.PostForm.Get("client_id") != i.audience {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "unknown client_id")
		return
	}
	if !strings.Contains(" "+r.PostForm.Get("scope")+" ", " openid ") {
		tokenError(w, http.StatusBadRequest, "invalid_scope", "scope must include openid")
		return
	}
	device, user := randomString(), userCode()
	i.mu.Lock()
	now := i.now()
	for k, g := range i.devices {
		if now.After(g.expires) {
			delete(i.devices, k)
		}
	}
	i.devices[device] = &deviceGrant{clientID: i.audience, userCode: user, expires: now.Add(deviceTTL)}
	i.mu.Unlock()
	verify := strings.TrimSuffix(i.issuer, "/") + "/device"
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": device, "user_code": user,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?" + url.Values{"user_code": {user}}.Encode(),
		"expires_in":                int(deviceTTL.Seconds()), "interval": deviceInterval,
	})
}

var devicePage = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>JIT development sign-in</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto}button{display:block;width:100%;margin:.5rem 0;padding:.7rem;font-size:1rem;text-align:left}input{font-size:1.2rem;padding:.4rem}p.warn{color:#a00;font-weight:bold}</style>
</head><body>
<h1>JIT development sign-in</h1>
<p class="warn">Development only: anyone on this machine can sign in as anyone.</p>
{{if .Done}}<p>{{.Done}}</p>{{else}}{{if .Error}}<p class="warn">{{.Error}}</p>{{end}}
<form method="post">
<p><label>Code shown by the command line: <input name="user_code" value="{{.Code}}" autocomplete="off"></label></p>
{{range .Users}}<button type="submit" name="login_hint" value="{{.Email}}">{{.Email}}{{if .Name}} ({{.Name}}){{end}}</button>
{{end}}<button type="submit" name="deny" value="1">Deny</button>
</form>{{end}}</body></html>
`))

// devicePageData fills devicePage.
type devicePageData struct {
	Code, Error, Done string
	Users             []User
}

// deviceVerify serves <issuer>/device: the form (GET) and the user's
// answer (POST user_code, login_hint or deny).
func (i *Issuer) deviceVerify(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	data := devicePageData{Code: normalizeUserCode(r.Form.Get("user_code")), Users: i.Users()}
	if r.Method == http.MethodGet {
		_ = devicePage.Execute(w, data)
		return
	}
	u, known := i.Lookup(r.PostForm.Get("login_hint"))
	deny := r.PostForm.Get("deny") != ""
	i.mu.Lock()
	var g *deviceGrant
	for _, d := range i.devices {
		if d.userCode == data.Code && i.now().Before(d.expires) && d.email == "" && !d.denied {
			g = d
		}
	}
	switch {
	case g == nil:
		data.Error = "Unknown, used or expired code."
	case deny:
		g.denied = true
		data.Done = "Denied. You can close this page."
	case !known:
		data.Error = "No such user."
	default:
		g.email = u.Email
		data.Done = "Signed in as " + u.Email + ". Return to your terminal."
	}
	i.mu.Unlock()
	if data.Error != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	_ = devicePage.Execute(w, data)
}

// deviceToken answers the device flow's token request.
func (i *Issuer) deviceToken(w http.ResponseWriter, f url.Values) {
	code := f.Get("device_code")
	i.mu.Lock()
	g, ok := i.devices[code]
	var email string
	var errCode string
	switch {
	case !ok || g.clientID != f.Get("client_id"):
		errCode = "invalid_grant"
	case i.now().After(g.expires):
		errCode = "expired_token"
		delete(i.devices, code)
	case g.denied:
		errCode = "access_denied"
		delete(i.devices, code)
	case g.email == "":
		errCode = "authorization_pending"
	default:
		email = g.email
		delete(i.devices, code) // one use
	}
	i.mu.Unlock()
	if errCode != "" {
		tokenError(w, http.StatusBadRequest, errCode, "device code: "+strings.ReplaceAll(errCode, "_", " "))
		return
	}
	i.issueTokens(w, email, "", i.now()) // the device was approved just now
}

// userCode returns an 8-letter code in two groups ("BCDF-GHJK") from
// consonants only, so it spells no words and is easy to type (RFC 8628
// section 6.1).
func userCode() string {
	const letters = "BCDFGHJKLMNPQRSTVWXZ"
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for n, c := range b {
		if n == 4 {
			out = append(out, '-')
		}
		out = append(out, letters[int(c)%len(letters)])
	}
	return string(out)
}

// normalizeUserCode accepts what a user types: any case, with or without
// the dash or spaces.
func normalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
	if len(s) != 8 {
		return s
	}
	return s[:4] + "-" + s[4:]
}
