package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
)

// Session tag keys JIT puts on every session; deny entries match jit-ticket.
const (
	TagTicket      = "jit-ticket"
	TagRequester   = "jit-requester"
	TagBeneficiary = "jit-beneficiary"
)

// STS limits (aws-facts.md section 1).
const (
	minSessionSeconds    = 900
	maxSessionSeconds    = 43200
	chainedSessionSecond = 3600
)

// AssumeRoleAPI is the one STS call the Minter makes.
type AssumeRoleAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Minter issues AssumeRole sessions for tickets (design.md flow 4).
type Minter struct {
	STS       AssumeRoleAPI
	Partition string // default "aws"
	Clock     broker.Clock
	// Skew, if set, is AWS's clock as seen by the STS client (its
	// Observe option must be on that client): the session policy's end
	// is written in AWS's time, so a session never outlives its ticket
	// when AWS's clock is behind this host's.
	Skew *ClockSkew
}

var _ broker.SessionMinter = (*Minter)(nil)

// Mint assumes the ticket's role for the beneficiary with a session name,
// SourceIdentity and session tags that tie every call to the ticket, for
// clamp(end-now, 15 min, role cap), under a session policy that denies
// everything after the ticket's end and, unless the permission set allows
// role chaining, every call that would derive another session from it.
// With role chaining allowed, the jit-ticket tag is made transitive.
func (m *Minter) Mint(ctx context.Context, r broker.MintRequest) (broker.Credentials, error) {
	now := m.now()
	remaining := r.End.Sub(now)
	if remaining <= 0 {
		return broker.Credentials{}, broker.Errorf(broker.ECONFLICT, "ticket %s ended at %s", r.TicketID, r.End.Format(time.RFC3339))
	}
	awsEnd := m.Skew.Earliest(r.End)
	policy, err := sessionPolicy(awsEnd, r.AllowRoleChaining)
	if err != nil {
		return broker.Credentials{}, err
	}
	in := &sts.AssumeRoleInput{
		RoleArn:         aws.String(RoleARN(m.partition(), r.AccountID, r.RoleName)),
		RoleSessionName: aws.String(SessionName(r.TicketID, r.Beneficiary)),
		SourceIdentity:  aws.String(sanitize(r.Beneficiary, 64)),
		DurationSeconds: aws.Int32(durationSeconds(remaining, maxSessionSeconds)),
		Policy:          aws.String(policy),
		Tags: []ststypes.Tag{
			{Key: aws.String(TagTicket), Value: aws.String(r.TicketID)},
			{Key: aws.String(TagRequester), Value: aws.String(tagValue(r.Requester))},
			{Key: aws.String(TagBeneficiary), Value: aws.String(tagValue(r.Beneficiary))},
		},
	}
	if r.AllowRoleChaining {
		// A chained session keeps the ticket tag, and cannot change it, so
		// the ticket's deny entries reach it (docs/revocation.md).
		in.TransitiveTagKeys = []string{TagTicket}
	}
	out, err := m.STS.AssumeRole(ctx, in)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError" && strings.Contains(apiErr.ErrorMessage(), "DurationSeconds exceeds") {
		// The role's MaxSessionDuration (or role chaining) caps the session
		// below what was asked; 1 hour is the floor of every cap.
		in.DurationSeconds = aws.Int32(durationSeconds(remaining, chainedSessionSecond))
		out, err = m.STS.AssumeRole(ctx, in)
	}
	if err != nil {
		return broker.Credentials{}, fmt.Errorf("assume role %s: %w", aws.ToString(in.RoleArn), err)
	}
	if again := m.Skew.Earliest(r.End); again.Sub(awsEnd).Abs() >= skewTolerance {
		// This answer showed AWS's clock elsewhere than assumed (the first
		// call, or the clock moved): the session just made would end at
		// the wrong moment, so make another and drop it (its keys go to
		// nobody, and terminate's deny on the ticket tag reaches it).
		if policy, err = sessionPolicy(again, r.AllowRoleChaining); err != nil {
			return broker.Credentials{}, err
		}
		in.Policy = aws.String(policy)
		if out, err = m.STS.AssumeRole(ctx, in); err != nil {
			return broker.Credentials{}, fmt.Errorf("assume role %s: %w", aws.ToString(in.RoleArn), err)
		}
	}
	c := out.Credentials
	return broker.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expiration:      aws.ToTime(c.Expiration).UTC(),
	}, nil
}

func (m *Minter) now() time.Time {
	if m.Clock == nil {
		return time.Now()
	}
	return m.Clock.Now()
}

func (m *Minter) partition() string {
	if m.Partition == "" {
		return "aws"
	}
	return m.Partition
}

// durationSeconds clamps the time left to STS's range and the role's cap.
func durationSeconds(remaining time.Duration, roleCap int32) int32 {
	s := int32((remaining + time.Second - 1) / time.Second)
	return max(minSessionSeconds, min(s, roleCap))
}

// RoleARN returns the ARN of a role in an account.
func RoleARN(partition, accountID, roleName string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, accountID, roleName)
}

// SessionName returns the RoleSessionName for a ticket's beneficiary:
// jit-<ticket>-<user>, cut to STS's 64 characters.
func SessionName(ticketID, user string) string {
	return sanitize("jit-"+ticketID+"-"+user, 64)
}

var unsafeSessionChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^\w+=,.@-]`) })

// sanitize makes s fit RoleSessionName and SourceIdentity: [\w+=,.@-], at most n characters.
func sanitize(s string, n int) string {
	s = unsafeSessionChars().ReplaceAllString(s, "-")
	if len(s) > n {
		s = s[:n]
	}
	return s
}

var unsafeTagChars = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`) })

func tagValue(s string) string {
	s = unsafeTagChars().ReplaceAllString(s, "-")
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}

// ChainingActions are the calls that turn a session into another one.
// JIT denies them to its sessions (the session policy) and to Identity
// Center sessions of the permission sets it manages (the permission
// set's inline policy), unless a permission set allows role chaining:
// a derived session keeps neither the session policy nor the tags JIT's
// deny entries match (docs/revocation.md). The web identity and SAML
// calls are not signed with the session, so denying them is only for
// completeness; sts:GetFederationToken and sts:GetSessionToken do not
// accept role sessions at all.
var ChainingActions = []string{
	"sts:AssumeRole",
	"sts:AssumeRoleWithSAML",
	"sts:AssumeRoleWithWebIdentity",
	"sts:AssumeRoot",
	"sts:GetFederationToken",
	"sts:GetSessionToken",
	"sts:SetSourceIdentity",
	"sts:TagSession",
}

// NoChainingSid is the Sid of the statement that denies ChainingActions.
const NoChainingSid = "JitNoRoleChaining"

// NoChainingStatement denies ChainingActions.
func NoChainingStatement() Statement {
	return Statement{Sid: NoChainingSid, Effect: "Deny", Action: ChainingActions, Resource: "*"}
}

// SessionPolicy returns the session policy every minted session of a
// permission set that does not allow role chaining carries: allow what
// the role allows, deny ChainingActions, deny everything from end on
// (aws:CurrentTime has whole seconds, and a ticket ends at a whole second).
func SessionPolicy(end time.Time) (string, error) { return sessionPolicy(end, false) }

// sessionPolicy is SessionPolicy, without the chaining deny when
// allowChaining is set.
func sessionPolicy(end time.Time, allowChaining bool) (string, error) {
	doc := PolicyDocument{Version: "2012-10-17", Statement: []Statement{
		{Effect: "Allow", Action: "*", Resource: "*"},
		{Sid: "JitTicketEnd", Effect: "Deny", Action: "*", Resource: "*", Condition: map[string]map[string]any{
			"DateGreaterThanEquals": {"aws:CurrentTime": end.UTC().Format(time.RFC3339)},
		}},
	}}
	if !allowChaining {
		doc.Statement = append(doc.Statement, NoChainingStatement())
	}
	b, err := json.Marshal(doc)
	return string(b), err
}

// PolicyDocument is an IAM policy document as JIT writes it.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a PolicyDocument.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Action    any                       `json:"Action"`
	Resource  any                       `json:"Resource"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}
