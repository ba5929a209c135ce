package main

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// Ordinary expiries write no deny entry (the session policy already stops
// each session at its ticket's end), so the role's deny list stays empty
// however many tickets run out, and another user's working session on
// the same role is never cut by them (issue 20 §5: 560 expiries filled the
// list, its compaction then denied everything issued before it).
func TestOrdinaryExpiriesWriteNoDeny(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, daveCreds := h.activeWithSessionFor("dave@example.com", "1h")

	const n = 25
	ids := make([]string, n)
	for i := range n {
		ids[i], _ = h.activeWithSessionFor("alice@example.com", "3s")
	}
	for _, id := range ids {
		h.waitState(id, broker.StateExpired, 30*time.Second)
	}
	// The revoke tasks the outbox schedules for the endings run too.
	time.Sleep(3 * broker.OutboxGrace)

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	stsc := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(h.awsURL) })
	clients := &federation.IAMClients{Config: cfg, STS: stsc, ManagementRole: "jit-broker", Endpoint: h.awsURL}
	_, err := clients.For("111111111111").GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String(federation.RevocationPolicyName)})
	var missing *iamtypes.NoSuchEntityException
	if !errors.As(err, &missing) {
		t.Errorf("role ReadOnlyAccess after %d ordinary expiries: GetRolePolicy %s = %v, want NoSuchEntity (no deny entry)", n, federation.RevocationPolicyName, err)
	}
	for _, id := range ids {
		if denied(h.ticket(id)) {
			t.Errorf("expired ticket %s recorded a deny entry", id)
		}
	}
	if _, err := h.s3With(daveCreds).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("dave's session on the same role after alice's expiries: %v", err)
	}
}

// activeWithSessionFor files a ReadOnlyAccess ticket of the given duration
// for user, has bob approve it and mints the user a session.
func (h *harness) activeWithSessionFor(user, duration string) (string, wire.CredentialProcess) {
	h.t.Helper()
	code, tk := h.api(user, "POST", "/api/v1/tickets", map[string]any{
		"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": duration, "reason": "expiry test"})
	if code != http.StatusCreated {
		h.t.Fatalf("create: %d %v", code, tk)
	}
	id := tk["id"].(string)
	if code, body := h.api("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]any{"comment": "ok"}); code != http.StatusOK {
		h.t.Fatalf("approve %s: %d %v", id, code, body)
	}
	h.waitState(id, broker.StateActive, 10*time.Second)
	return id, h.credentials(user, id)
}
