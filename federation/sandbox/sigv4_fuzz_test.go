package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Fuzz tests of the SigV4 parser and verifier. `make fuzz` runs each for a
// few seconds; crashers found are kept in testdata/fuzz/<Name>/.

const fuzzSecret = "fuzz-secret-the-sandbox-knows"

var fuzzSignTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// sigv4Seeds are Authorization headers and presigned queries as
// aws-sdk-go-v2 writes them, signed with a secret the fuzz target never
// verifies with, plus malformed variants.
func sigv4Seeds(f *testing.F) (headers, queries []string) {
	f.Helper()
	creds := aws.Credentials{AccessKeyID: DemoBrokerAccessKeyID, SecretAccessKey: "not-the-secret", SessionToken: "tok"}
	for _, svc := range []string{"sts", "s3", "iam"} {
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		req, _ := http.NewRequest("POST", "http://sandbox.test/a%20b/c?x=1&y=", strings.NewReader(body))
		req.Header.Set("X-Jit-Fuzz", "v  a\tl")
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex([]byte(body)), svc, "us-east-1", fuzzSignTime); err != nil {
			f.Fatal(err)
		}
		headers = append(headers, req.Header.Get("Authorization"))
		req, _ = http.NewRequest("GET", "http://sandbox.test/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
		u, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, sha256Hex(nil), svc, "us-east-1", fuzzSignTime)
		if err != nil {
			f.Fatal(err)
		}
		pu, _ := url.Parse(u)
		queries = append(queries, pu.RawQuery)
	}
	headers = append(headers,
		"AWS4-HMAC-SHA256 Credential=AKIA/20250601/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f,SignedHeaders=;;,Signature=00",
		"AWS4-HMAC-SHA256 ,,,=,==",
		"AWS4-HMAC-SHA1 Credential=x",
	)
	queries = append(queries,
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Date=x&X-Amz-SignedHeaders=host&X-Amz-Signature=0",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=-1",
		"%zz=1;a=b",
	)
	return headers, queries
}

// FuzzSigV4Parse feeds arbitrary Authorization headers, dates and query
// strings to the parser and, when they parse, to the scope, time and
// signature checks. Nothing panics, and no signature the fuzzer invents is
// accepted for fuzzSecret (the seeds are signed with another secret).
func FuzzSigV4Parse(f *testing.F) {
	headers, queries := sigv4Seeds(f)
	for i, h := range headers {
		f.Add(h, "20250601T120000Z", "", queries[i%len(queries)], "Action=GetCallerIdentity&Version=2011-06-15")
	}
	for _, q := range queries {
		f.Add("", "", "Sun, 01 Jun 2025 12:00:00 GMT", q, "")
	}
	f.Fuzz(func(t *testing.T, authz, amzDate, date, rawQuery, body string) {
		r := &http.Request{
			Method: "POST", Host: "sandbox.test",
			URL:           &url.URL{Path: "/", RawQuery: rawQuery},
			Header:        http.Header{},
			ContentLength: int64(len(body)),
		}
		for k, v := range map[string]string{"Authorization": authz, "X-Amz-Date": amzDate, "Date": date} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		if !hasAuth(r) {
			return
		}
		a, aerr := parseSigV4(r)
		if (a == nil) == (aerr == nil) {
			t.Fatalf("parseSigV4 = %v, %v: want exactly one", a, aerr)
		}
		if aerr != nil {
			if aerr.kind != authIncomplete || aerr.msg == "" {
				t.Fatalf("parse error %+v: want authIncomplete with a message", aerr)
			}
			return
		}
		a.checkScope("")
		a.checkScope("us-east-1")
		a.checkTime(fuzzSignTime)
		for _, s3 := range []bool{false, true} {
			for _, payload := range []string{sha256Hex([]byte(body)), unsignedPayload} {
				if err := a.verify(r, fuzzSecret, payload, s3); err == nil {
					t.Fatalf("accepted a signature not computed with the secret: %q %q", authz, rawQuery)
				} else if err.kind != authBadSig {
					t.Fatalf("verify error %+v, want authBadSig", err)
				}
			}
		}
	})
}

// fuzzSandbox serves the demo fixture plus a user whose secret is
// fuzzSecret, at fuzzSignTime.
func fuzzSandbox(f *testing.F) (*httptest.Server, aws.Credentials) {
	f.Helper()
	fx := DemoFixture()
	creds := aws.Credentials{AccessKeyID: "AKIAJITFUZZKEY000001", SecretAccessKey: fuzzSecret}
	fx.Users = append(fx.Users, User{Account: "111111111111", Name: "fuzz", Admin: true, AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey})
	sb, err := New(fx, Options{Now: func() time.Time { return fuzzSignTime }})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	f.Cleanup(srv.Close)
	return srv, creds
}

// authCodes are the error codes of authentication failures, in every
// protocol the sandbox speaks.
func authCodes() map[string]bool {
	codes := map[string]bool{}
	for _, p := range []protocol{queryProtocol{}, ec2Protocol{}, s3Protocol{}, jsonProtocol{}} {
		for k := authMissing; k <= authSkewed; k++ {
			codes[p.authError(&authError{kind: k}).Code] = true
		}
	}
	return codes
}

var errorCodeRe = regexp.MustCompile(`<Code>([^<]*)</Code>`)

// FuzzSigV4Signed signs requests with arbitrary paths, query strings,
// header values and bodies with aws-sdk-go-v2's v4 signer (Authorization
// header or presigned query; SigV4's path rule for STS, S3's for S3),
// sends them to the sandbox over HTTP, and checks that it accepts every
// one the client can send, and refuses it once one signed part (the
// signature, body, header, query, method or path, chosen by tamper) is
// changed.
func FuzzSigV4Signed(f *testing.F) {
	srv, creds := fuzzSandbox(f)
	client := srv.Client()
	codes := authCodes()
	f.Add("a b/c", "x=1&y=&z=%2F", "value  with   spaces", "Action=GetCallerIdentity&Version=2011-06-15", uint8(0), uint8(0))
	f.Add("", "", "", "", uint8(1), uint8(1))
	f.Add("bucket/key with space/ü", "list-type=2&prefix=a%2Bb", "v\ta", "", uint8(2), uint8(2))
	f.Add("%41%2f", "a=1&a-b=2&a=0", " lead trail ", "x", uint8(3), uint8(3))
	f.Add("..//./x", "k=b&k=a", "é\u00a0x", "", uint8(0), uint8(4))
	f.Add("*", "", "", "", uint8(1), uint8(5))
	f.Fuzz(func(t *testing.T, path, query, hval, body string, mode, tamper uint8) {
		presign, s3 := mode&1 != 0, mode&2 != 0
		service, method := "sts", "POST"
		if presign {
			method = "GET"
		}
		if s3 {
			service = "s3"
		}
		// Query keys the signer owns are left out: a fuzzed X-Amz-Signature
		// next to the signer's own is not a request the signer signed.
		q, _ := url.ParseQuery(query)
		for k := range q {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-") {
				delete(q, k)
			}
		}
		req, err := http.NewRequest(method, srv.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Path = "/" + path
		req.URL.RawQuery = q.Encode()
		req.Header.Set("X-Jit-Fuzz", hval)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		payload := sha256Hex([]byte(body))
		opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = s3 }
		if presign {
			if s3 {
				payload = unsignedPayload
			}
			u, signed, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, payload, service, "us-east-1", fuzzSignTime, opt)
			if err != nil {
				return // not a request the signer signs
			}
			if req.URL, err = url.Parse(u); err != nil {
				t.Fatalf("presigned URL %q: %v", u, err)
			}
			req.Header = signed
		} else {
			if s3 {
				req.Header.Set("X-Amz-Content-Sha256", payload)
			}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, service, "us-east-1", fuzzSignTime, opt); err != nil {
				return
			}
		}
		send := func(r *http.Request, b string) (code string, sent bool) {
			r = r.Clone(context.Background())
			r.Body = io.NopCloser(strings.NewReader(b))
			r.ContentLength = int64(len(b))
			resp, err := client.Do(r)
			if err != nil {
				return "", false // e.g. a header value net/http refuses to send
			}
			defer resp.Body.Close()
			rb, _ := io.ReadAll(resp.Body)
			if m := errorCodeRe.FindSubmatch(rb); m != nil {
				return string(m[1]), true
			}
			if resp.StatusCode >= 400 {
				return "status " + resp.Status, true
			}
			return "", true
		}
		code, sent := send(req, body)
		if !sent {
			return
		}
		if codes[code] {
			t.Fatalf("correctly signed request refused with %s: %s %s header %q", code, req.Method, req.URL, req.Header)
		}

		// One signed part changed: refused as an authentication failure.
		bad := req.Clone(context.Background())
		bad.URL = new(url.URL)
		*bad.URL = *req.URL
		badBody := body
		switch tamper % 6 {
		case 0: // the signature
			if presign {
				qv := bad.URL.Query()
				qv.Set("X-Amz-Signature", flipHex(qv.Get("X-Amz-Signature")))
				bad.URL.RawQuery = qv.Encode()
			} else {
				bad.Header.Set("Authorization", flipHex(bad.Header.Get("Authorization")))
			}
		case 1: // the body
			if presign && s3 {
				return // UNSIGNED-PAYLOAD: the body is not signed
			}
			badBody += "x"
		case 2: // a signed header
			bad.Header.Set("X-Jit-Fuzz", bad.Header.Get("X-Jit-Fuzz")+"x")
		case 3: // the query
			bad.URL.RawQuery += "&jit-fuzz-extra=1"
		case 4: // the method
			bad.Method = map[string]string{"GET": "DELETE", "POST": "PUT"}[bad.Method]
		case 5: // the path
			bad.URL.Path += "x"
			bad.URL.RawPath = ""
		}
		if code, sent := send(bad, badBody); sent && !codes[code] {
			t.Fatalf("tampered request (case %d) not refused as unauthenticated: %q, %s %s header %q", tamper%6, code, bad.Method, bad.URL, bad.Header)
		}
	})
}

// flipHex changes the last hex digit of s to another digit, also in a
// case-insensitive comparison.
func flipHex(s string) string {
	if s == "" {
		return "0"
	}
	last := s[len(s)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	return s[:len(s)-1] + string(repl)
}
