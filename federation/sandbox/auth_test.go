package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestAuthErrors(t *testing.T) {
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, devReadOnly, "t1", "alice", nil)
	akid, secret, token := aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken)
	const invalid = "The security token included in the request is invalid."
	tests := []struct {
		name                string
		akid, secret, token string
		stsCode, stsMsg     string
		s3Code              string
		ec2Code             string
	}{
		{"unknown key", "AKIAUNKNOWNKEY000000", "x", "", "InvalidClientTokenId", invalid, "InvalidAccessKeyId", "InvalidClientTokenId"},
		{"bad signature", DemoBrokerAccessKeyID, "wrong-secret", "", "SignatureDoesNotMatch", msgBadSignature, "SignatureDoesNotMatch", "SignatureDoesNotMatch"},
		{"session bad secret", akid, "wrong-secret", token, "SignatureDoesNotMatch", msgBadSignature, "SignatureDoesNotMatch", "SignatureDoesNotMatch"},
		{"session key without token", akid, secret, "", "InvalidClientTokenId", invalid, "InvalidAccessKeyId", "InvalidClientTokenId"},
		{"session key altered token", akid, secret, token + "x", "InvalidClientTokenId", invalid, "InvalidToken", "InvalidClientTokenId"},
		{"long-term key with token", DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, token, "InvalidClientTokenId", invalid, "InvalidToken", "InvalidClientTokenId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.clients(tt.akid, tt.secret, tt.token)
			_, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tt.stsCode, tt.stsMsg)
			wantAPIError(t, listBuckets(c), tt.s3Code, "")
			wantAPIError(t, describeRegions(c), tt.ec2Code, "")
		})
	}
}

// post sends a raw STS GetCallerIdentity, signed at signAt unless zero.
func post(t *testing.T, e *env, signAt time.Time, service string) (int, http.Header, string) {
	t.Helper()
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	req, _ := http.NewRequest("POST", e.url+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !signAt.IsZero() {
		creds := aws.Credentials{AccessKeyID: DemoBrokerAccessKeyID, SecretAccessKey: DemoBrokerSecretAccessKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex([]byte(body)), service, "us-east-1", signAt); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestAuthWire(t *testing.T) {
	e := newEnv(t, DemoFixture())

	status, h, body := post(t, e, time.Time{}, "")
	if status != 403 || !strings.Contains(body, "<Type>Sender</Type><Code>MissingAuthenticationToken</Code>") ||
		h.Get("x-amzn-RequestId") == "" || !strings.Contains(body, "<RequestId>"+h.Get("x-amzn-RequestId")+"</RequestId>") {
		t.Errorf("unsigned: %d %v %s", status, h, body)
	}

	status, _, body = post(t, e, e.clock.Now(), "sts")
	if status != 200 || !strings.Contains(body, "<Arn>"+brokerARN+"</Arn>") {
		t.Errorf("raw signed: %d %s", status, body)
	}

	status, _, body = post(t, e, e.clock.Now().Add(-20*time.Minute), "sts")
	if status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code><Message>Signature expired: ") {
		t.Errorf("skewed: %d %s", status, body)
	}

	status, _, body = post(t, e, e.clock.Now(), "lambda")
	if status != 400 || !strings.Contains(body, "<Code>UnknownService</Code>") {
		t.Errorf("unknown service: %d %s", status, body)
	}

	// The SDK corrects its clock from the Date header and retries.
	e.clock.Advance(20 * time.Minute)
	if _, err := e.broker().sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("GetCallerIdentity with a skewed sandbox clock: %v", err)
	}
}

func TestPresignedGetCallerIdentity(t *testing.T) {
	e := newEnv(t, DemoFixture())
	req, err := sts.NewPresignClient(e.broker().sts).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	hreq, _ := http.NewRequest(req.Method, req.URL, nil)
	for k, v := range req.SignedHeader {
		hreq.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(b.String(), brokerARN) {
		t.Errorf("presigned: %d %s", resp.StatusCode, b.String())
	}
}
