package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/jitaccess/jit/broker"
)

// RevocationPolicyName is the inline role policy holding JIT's deny entries.
const RevocationPolicyName = "jit-revocations"

// sidPrefix starts the Sid of every deny statement; the rest is the hour
// (UTC, yyyymmddhh) after which its tickets' sessions have all expired.
const sidPrefix = "JitRevokedUntil"

// RolePolicyAPI is the IAM calls the Revoker makes.
type RolePolicyAPI interface {
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// Revoker cuts open sessions of a ticket by adding the ticket to a deny
// entry on its role: Deny everything when aws:PrincipalTag/jit-ticket is one
// of the revoked tickets. Entries are grouped by the hour their sessions
// expire and pruned once that hour has passed.
//
// IAM has no compare-and-set, so changes to one role are serialized; for
// now within this process only (a single worker).
type Revoker struct {
	// IAM returns the IAM client for an account (the broker's own, or one
	// that assumes an admin role there).
	IAM   func(accountID string) RolePolicyAPI
	Clock broker.Clock

	mu    sync.Mutex
	roles map[string]*sync.Mutex
}

var _ broker.Revoker = (*Revoker)(nil)

// Revoke adds the ticket to the role's deny entry; repeating it is harmless.
func (r *Revoker) Revoke(ctx context.Context, req broker.RevokeRequest) error {
	unlock := r.lock(req.AccountID + "/" + req.RoleName)
	defer unlock()
	api := r.IAM(req.AccountID)
	doc, err := r.get(ctx, api, req.RoleName)
	if err != nil {
		return err
	}
	now := time.Now()
	if r.Clock != nil {
		now = r.Clock.Now()
	}
	addDeny(doc, req.TicketID, req.Until)
	pruneDeny(doc, now)
	if len(doc.Statement) == 0 {
		_, err = api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(req.RoleName), PolicyName: aws.String(RevocationPolicyName)})
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(req.RoleName),
		PolicyName:     aws.String(RevocationPolicyName),
		PolicyDocument: aws.String(string(b)),
	})
	if err != nil {
		return fmt.Errorf("put deny entry on %s in %s: %w", req.RoleName, req.AccountID, err)
	}
	return nil
}

func (r *Revoker) lock(key string) func() {
	r.mu.Lock()
	if r.roles == nil {
		r.roles = map[string]*sync.Mutex{}
	}
	m, ok := r.roles[key]
	if !ok {
		m = &sync.Mutex{}
		r.roles[key] = m
	}
	r.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// get reads the role's deny entries; a role without them gets an empty document.
func (r *Revoker) get(ctx context.Context, api RolePolicyAPI, role string) (*PolicyDocument, error) {
	out, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(RevocationPolicyName)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return &PolicyDocument{Version: "2012-10-17"}, nil
	} else if err != nil {
		return nil, fmt.Errorf("get deny entry on %s: %w", role, err)
	}
	// IAM returns the document URL-encoded.
	text, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("decode deny entry on %s: %w", role, err)
	}
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("parse deny entry on %s: %w", role, err)
	}
	return &doc, nil
}

// DenyStatement returns the statement that denies every session tagged with
// one of the tickets.
func DenyStatement(sid string, tickets []string) Statement {
	return Statement{Sid: sid, Effect: "Deny", Action: "*", Resource: "*", Condition: map[string]map[string]any{
		"StringEquals": {"aws:PrincipalTag/" + TagTicket: tickets},
	}}
}

// addDeny puts the ticket in the statement for the hour its sessions expire by.
func addDeny(doc *PolicyDocument, ticketID string, until time.Time) {
	sid := sidPrefix + until.UTC().Add(time.Hour-time.Nanosecond).Format("2006010215")
	for i, st := range doc.Statement {
		if st.Sid != sid {
			continue
		}
		tickets := denyTickets(st)
		if !slices.Contains(tickets, ticketID) {
			tickets = append(tickets, ticketID)
		}
		doc.Statement[i] = DenyStatement(sid, tickets)
		return
	}
	doc.Statement = append(doc.Statement, DenyStatement(sid, []string{ticketID}))
}

// pruneDeny drops statements whose hour has passed: their sessions have all expired.
func pruneDeny(doc *PolicyDocument, now time.Time) {
	doc.Statement = slices.DeleteFunc(doc.Statement, func(st Statement) bool {
		hour, ok := strings.CutPrefix(st.Sid, sidPrefix)
		if !ok {
			return false
		}
		t, err := time.Parse("2006010215", hour)
		return err == nil && now.After(t.Add(time.Hour))
	})
}

// denyTickets returns the ticket ids a deny statement names.
func denyTickets(st Statement) []string {
	var out []string
	switch v := st.Condition["StringEquals"]["aws:PrincipalTag/"+TagTicket].(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, v...)
	}
	return out
}
