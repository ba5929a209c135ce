package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	sigAlgorithm    = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	maxClockSkew    = 15 * time.Minute
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// sigv4 is the parsed SigV4 authentication of one request, from the
// Authorization header or from presigned query parameters.
type sigv4 struct {
	accessKeyID   string
	scopeDate     string // yyyymmdd
	region        string
	service       string
	terminator    string
	signedHeaders []string
	signature     string
	amzDate       time.Time
	rawAmzDate    string
	securityToken string
	presigned     bool
	expires       time.Duration // presigned only; 0 when not given
}

// scope is the credential scope: date/region/service/aws4_request.
func (a *sigv4) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/" + a.terminator
}

// hasAuth reports whether the request carries any SigV4 authentication.
func hasAuth(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || r.URL.Query().Get("X-Amz-Algorithm") != ""
}

// parseSigV4 reads the SigV4 fields of r. It fails with authIncomplete for
// a malformed Authorization header or query.
func parseSigV4(r *http.Request) (*sigv4, *authError) {
	q := r.URL.Query()
	a := &sigv4{}
	var cred, signed string
	if h := r.Header.Get("Authorization"); h != "" {
		alg, rest, _ := strings.Cut(h, " ")
		if alg != sigAlgorithm {
			return nil, &authError{kind: authIncomplete, msg: fmt.Sprintf("Unsupported authorization type %q: only %s is accepted.", alg, sigAlgorithm)}
		}
		fields := map[string]string{}
		for _, part := range strings.Split(rest, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok {
				fields[k] = v
			}
		}
		var missing []string
		for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
			if fields[k] == "" {
				missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
			}
		}
		a.rawAmzDate = r.Header.Get("X-Amz-Date")
		if a.rawAmzDate == "" {
			if d := r.Header.Get("Date"); d != "" {
				if t, err := http.ParseTime(d); err == nil {
					a.rawAmzDate = t.UTC().Format(amzDateFormat)
				}
			}
		}
		if a.rawAmzDate == "" {
			missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
		if len(missing) > 0 {
			return nil, &authError{kind: authIncomplete, msg: strings.Join(missing, " ") + " Authorization=" + h}
		}
		cred, signed, a.signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
		a.securityToken = r.Header.Get("X-Amz-Security-Token")
	} else {
		a.presigned = true
		if q.Get("X-Amz-Algorithm") != sigAlgorithm {
			return nil, &authError{kind: authIncomplete, msg: "X-Amz-Algorithm only supports \"" + sigAlgorithm + "\""}
		}
		for _, k := range []string{"X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date"} {
			if q.Get(k) == "" {
				return nil, &authError{kind: authIncomplete, msg: "Query-string authentication requires the " + k + " parameter"}
			}
		}
		cred, signed, a.signature = q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature")
		a.rawAmzDate = q.Get("X-Amz-Date")
		a.securityToken = q.Get("X-Amz-Security-Token")
		// Without X-Amz-Expires (the SDKs' presigned STS calls) only
		// the ordinary 15-minute window applies.
		if raw := q.Get("X-Amz-Expires"); raw != "" {
			secs, err := strconv.Atoi(raw)
			if err != nil || secs < 1 || secs > 604800 {
				return nil, &authError{kind: authIncomplete, msg: "X-Amz-Expires must be between 1 and 604800 seconds"}
			}
			a.expires = time.Duration(secs) * time.Second
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return nil, &authError{kind: authIncomplete, msg: fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)}
	}
	a.accessKeyID, a.scopeDate, a.region, a.service, a.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]
	a.signedHeaders = strings.Split(signed, ";")
	t, err := time.Parse(amzDateFormat, a.rawAmzDate)
	if err != nil {
		return nil, &authError{kind: authIncomplete, msg: fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'.", a.rawAmzDate)}
	}
	a.amzDate = t
	return a, nil
}

// checkScope validates the credential scope against the request date and
// the service's region rule (globalRegion non-empty: IAM's fixed region).
func (a *sigv4) checkScope(globalRegion string) *authError {
	if a.terminator != "aws4_request" {
		return &authError{kind: authBadSig, msg: fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", a.terminator)}
	}
	if want := a.amzDate.Format("20060102"); a.scopeDate != want {
		return &authError{kind: authBadSig, msg: fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", a.scopeDate, want, a.rawAmzDate)}
	}
	if a.region == "" || (globalRegion != "" && a.region != globalRegion) {
		return &authError{kind: authBadSig, msg: "Credential should be scoped to a valid region."}
	}
	if !containsFold(a.signedHeaders, "host") {
		return &authError{kind: authBadSig, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."}
	}
	return nil
}

// checkTime enforces the 15-minute clock skew window (and a presigned
// request's own expiry) against now.
func (a *sigv4) checkTime(now time.Time) *authError {
	f := func(t time.Time) string { return t.UTC().Format(amzDateFormat) }
	if a.expires > 0 {
		if now.After(a.amzDate.Add(a.expires)) {
			return &authError{kind: authSkewed, msg: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s)", f(a.amzDate.Add(a.expires)), f(now), f(now), a.expires)}
		}
	} else if a.amzDate.Before(now.Add(-maxClockSkew)) {
		return &authError{kind: authSkewed, msg: fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)", a.rawAmzDate, f(now.Add(-maxClockSkew)), f(now))}
	}
	if a.amzDate.After(now.Add(maxClockSkew)) {
		return &authError{kind: authSkewed, msg: fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)", a.rawAmzDate, f(now.Add(maxClockSkew)), f(now))}
	}
	return nil
}

// verify recomputes the signature with secret. payloadHash is the hex
// SHA-256 of the body or a literal such as UNSIGNED-PAYLOAD; s3 selects
// S3's canonical path rule (no second round of URI encoding).
func (a *sigv4) verify(r *http.Request, secret, payloadHash string, s3 bool) *authError {
	canon := canonicalRequest(r, a, payloadHash, s3)
	sum := sha256.Sum256([]byte(canon))
	sts := sigAlgorithm + "\n" + a.rawAmzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), a.scopeDate)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, a.terminator)
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		return &authError{kind: authBadSig}
	}
	return nil
}

// canonicalRequest builds the SigV4 canonical request of r.
func canonicalRequest(r *http.Request, a *sigv4, payloadHash string, s3 bool) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if !s3 {
		path = uriEncode(path, false)
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + path + "\n" + canonicalQuery(r.URL.RawQuery, a.presigned) + "\n")
	for _, h := range a.signedHeaders {
		b.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	b.WriteString("\n" + strings.Join(a.signedHeaders, ";") + "\n" + payloadHash)
	return b.String()
}

// canonicalQuery sorts and re-encodes the query string; a presigned
// request's signature parameter is left out.
func canonicalQuery(raw string, presigned bool) string {
	vals, _ := url.ParseQuery(raw)
	var pairs [][2]string
	for k, vs := range vals {
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, [2]string{uriEncode(k, true), uriEncode(v, true)})
		}
	}
	// Sorted by encoded name, then value: sorting "name=value" strings
	// would put "a-b=1" before "a=1".
	slices.SortFunc(pairs, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	return b.String()
}

// headerValue returns the canonical value of a signed header: values
// joined by commas, trimmed, inner runs of spaces (' ' only, as SigV4's
// Trimall and aws-sdk-go-v2's signer do: a tab or no-break space inside
// a value is kept) collapsed.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values(name)
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.TrimSpace(collapseSpaces(v))
	}
	return strings.Join(out, ",")
}

// collapseSpaces replaces each run of ' ' in s by one, and drops them at
// either end.
func collapseSpaces(s string) string {
	var b strings.Builder
	for f := range strings.SplitSeq(strings.Trim(s, " "), " ") {
		if f == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// uriEncode percent-encodes s the SigV4 way: only A-Z a-z 0-9 - _ . ~ are
// left alone, and '/' too unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
