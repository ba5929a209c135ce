package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// apiError is an AWS error as a service reports it: an HTTP status, a wire
// code and a message. Each protocol renders it in its own body format.
type apiError struct {
	Status  int
	Code    string
	Message string
	// Fields are extra members of a JSON error body, e.g. Organizations'
	// "Reason" or Identity Store's "ResourceType".
	Fields map[string]string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// authKind names an authentication failure independently of the service,
// so each protocol can map it to the code that service really returns.
type authKind int

const (
	authMissing    authKind = iota // no Authorization header or query auth at all
	authIncomplete                 // malformed Authorization header
	authUnknownKey                 // no such access key
	authBadToken                   // ASIA key with a missing or altered session token
	authBadSig                     // signature or credential scope mismatch
	authExpired                    // session past its expiration
	authSkewed                     // request time outside the 15-minute window
)

// authError is an authentication failure; msg, when set, replaces the
// protocol's default message (used for scope and skew details).
type authError struct {
	kind authKind
	msg  string
}

const (
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
	msgBadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// protocol renders results and errors in one AWS wire format.
type protocol interface {
	// writeError writes e with the request id in the protocol's format.
	writeError(w http.ResponseWriter, reqID string, e *apiError)
	// authError maps an authentication failure to the service's code.
	authError(a *authError) *apiError
}

// queryProtocol is the awsQuery protocol of STS and IAM.
type queryProtocol struct {
	xmlns string
}

func (p queryProtocol) writeError(w http.ResponseWriter, reqID string, e *apiError) {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString(`<ErrorResponse xmlns="` + p.xmlns + `"><Error><Type>` + typ + `</Type><Code>`)
	xmlText(&b, e.Code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, e.Message)
	b.WriteString(`</Message></Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`)
	w.Header().Set("x-amzn-RequestId", reqID)
	writeXML(w, e.Status, "text/xml", b.Bytes())
}

func (queryProtocol) authError(a *authError) *apiError {
	switch a.kind {
	case authMissing:
		return errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case authIncomplete:
		return errorf(400, "IncompleteSignature", "%s", a.msg)
	case authUnknownKey, authBadToken:
		return errorf(403, "InvalidClientTokenId", msgInvalidToken)
	case authExpired:
		return errorf(403, "ExpiredToken", msgExpiredToken)
	}
	return errorf(403, "SignatureDoesNotMatch", "%s", or(a.msg, msgBadSignature))
}

// ec2Protocol is the ec2Query protocol.
type ec2Protocol struct{}

func (ec2Protocol) writeError(w http.ResponseWriter, reqID string, e *apiError) {
	var b bytes.Buffer
	b.WriteString(`<Response><Errors><Error><Code>`)
	xmlText(&b, e.Code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, e.Message)
	b.WriteString(`</Message></Error></Errors><RequestID>` + reqID + `</RequestID></Response>`)
	w.Header().Set("x-amzn-RequestId", reqID)
	writeXML(w, e.Status, "text/xml;charset=UTF-8", b.Bytes())
}

func (ec2Protocol) authError(a *authError) *apiError {
	switch a.kind {
	case authMissing:
		return errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case authIncomplete:
		return errorf(400, "IncompleteSignature", "%s", a.msg)
	case authUnknownKey, authBadToken:
		return errorf(403, "InvalidClientTokenId", msgInvalidToken)
	case authExpired, authSkewed:
		// EC2 reports both an expired session and a stale signature as
		// RequestExpired (400), as seen from the SDKs and the CLI.
		return errorf(400, "RequestExpired", "Request has expired.")
	}
	return errorf(403, "SignatureDoesNotMatch", "%s", or(a.msg, msgBadSignature))
}

// s3Protocol is S3's REST-XML protocol.
type s3Protocol struct{}

func (s3Protocol) writeError(w http.ResponseWriter, reqID string, e *apiError) {
	var b bytes.Buffer
	b.WriteString(`<Error><Code>`)
	xmlText(&b, e.Code)
	b.WriteString(`</Code><Message>`)
	xmlText(&b, e.Message)
	b.WriteString(`</Message><RequestId>` + reqID + `</RequestId><HostId>` + hostID(reqID) + `</HostId></Error>`)
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("x-amz-id-2", hostID(reqID))
	writeXML(w, e.Status, "application/xml", b.Bytes())
}

func (s3Protocol) authError(a *authError) *apiError {
	switch a.kind {
	case authMissing:
		// S3 treats an unsigned request as anonymous; ListBuckets then fails.
		return errorf(403, "AccessDenied", "Access Denied")
	case authIncomplete:
		return errorf(400, "AuthorizationHeaderMalformed", "%s", a.msg)
	case authUnknownKey:
		return errorf(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
	case authBadToken:
		return errorf(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
	case authExpired:
		return errorf(400, "ExpiredToken", "The provided token has expired.")
	case authSkewed:
		return errorf(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	msg := a.msg
	if msg == "" {
		msg = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	}
	return errorf(403, "SignatureDoesNotMatch", "%s", msg)
}

// jsonProtocol is the awsJson1.1 protocol, for the JSON services to come
// (sso-admin, identitystore, organizations, cloudtrail).
type jsonProtocol struct{}

func (jsonProtocol) writeError(w http.ResponseWriter, reqID string, e *apiError) {
	m := map[string]string{"__type": e.Code, "message": e.Message}
	for k, v := range e.Fields {
		m[k] = v
	}
	body, _ := json.Marshal(m)
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.Status)
	w.Write(body)
}

func (jsonProtocol) authError(a *authError) *apiError {
	switch a.kind {
	case authMissing:
		return errorf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case authIncomplete:
		return errorf(400, "IncompleteSignatureException", "%s", a.msg)
	case authUnknownKey, authBadToken:
		return errorf(403, "UnrecognizedClientException", msgInvalidToken)
	case authExpired:
		return errorf(403, "ExpiredTokenException", msgExpiredToken)
	}
	return errorf(403, "InvalidSignatureException", "%s", or(a.msg, msgBadSignature))
}

func writeXML(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write([]byte(xml.Header))
	w.Write(body)
}

func xmlText(b *bytes.Buffer, s string) { xml.EscapeText(b, []byte(s)) }

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// newRequestID returns a random request id shaped like AWS's UUIDs.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// hostID derives S3's x-amz-id-2 from the request id.
func hostID(reqID string) string {
	return strings.ReplaceAll(reqID, "-", "")
}
