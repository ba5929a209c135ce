package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
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

// userSidPrefix starts the Sid of a statement that denies some
// beneficiaries of one ticket (those who said they were done): the hour,
// as for sidPrefix, then the ticket id's letters and digits.
const userSidPrefix = "JitRevokedUsersUntil"

// RolePolicyAPI is the IAM calls the Revoker makes.
type RolePolicyAPI interface {
	GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
}

// roleInlineBudget is what all inline policies of a role may hold together,
// whitespace not counted (aws-facts.md section 4).
const roleInlineBudget = 10240

// Revoker cuts open sessions of a ticket by adding the ticket to a deny
// entry on its role: Deny everything when aws:PrincipalTag/jit-ticket is one
// of the revoked tickets. Entries are grouped by the hour their sessions
// expire and pruned once that hour has passed.
//
// IAM has no compare-and-set, so changes to one role are serialized
// through Lock across every JIT process (in-process only when Lock is nil).
type Revoker struct {
	// IAM returns the IAM client for an account (the broker's own, or one
	// that assumes an admin role there).
	IAM   func(accountID string) RolePolicyAPI
	Clock broker.Clock
	Lock  broker.Locker

	mu    sync.Mutex
	roles map[string]*sync.Mutex
}

var _ broker.Revoker = (*Revoker)(nil)

// Revoke adds the ticket to the role's deny entry, or with req.User only
// that beneficiary's sessions of the ticket; repeating it is harmless.
// ENOTFOUND when the role does not exist in the account.
func (r *Revoker) Revoke(ctx context.Context, req broker.RevokeRequest) error {
	err := r.change(ctx, req.AccountID, req.RoleName, func(doc *PolicyDocument) bool {
		if req.User != "" {
			addUserDeny(doc, req.TicketID, req.User, req.Until)
		} else {
			addDeny(doc, req.TicketID, req.Until)
		}
		return true
	})
	if nse := (*iamtypes.NoSuchEntityException)(nil); errors.As(err, &nse) {
		return broker.Errorf(broker.ENOTFOUND, "role %s does not exist in account %s", req.RoleName, req.AccountID)
	}
	return err
}

// PruneRole removes the role's deny entries whose sessions have all
// expired, and the whole policy when none is left (broker.Cleaner).
func (r *Revoker) PruneRole(ctx context.Context, accountID, roleName string) error {
	return r.change(ctx, accountID, roleName, func(*PolicyDocument) bool { return false })
}

// change reads the role's deny list under the role's lock, lets edit
// change it, prunes expired entries and writes it back when anything
// changed. IAM has no compare-and-set, hence the lock.
func (r *Revoker) change(ctx context.Context, accountID, roleName string, edit func(*PolicyDocument) bool) error {
	unlock, err := r.lockRole(ctx, accountID+"/"+roleName)
	if err != nil {
		return err
	}
	defer unlock()
	api := r.IAM(accountID)
	doc, err := r.get(ctx, api, roleName)
	if err != nil {
		return err
	}
	now := time.Now()
	if r.Clock != nil {
		now = r.Clock.Now()
	}
	changed := edit(doc)
	if pruneDeny(doc, now) {
		changed = true
	}
	if !changed {
		return nil
	}
	if len(doc.Statement) == 0 {
		_, err = api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(RevocationPolicyName)})
		var nse *iamtypes.NoSuchEntityException
		if errors.As(err, &nse) {
			return nil
		}
		return err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if others, err := r.otherPoliciesSize(ctx, api, roleName); err != nil {
		return err
	} else if len(b)+others > roleInlineBudget {
		// The deny list no longer fits: deny every session issued before
		// now instead. It also cuts other tickets' open sessions of this
		// role; their users get new ones from JIT on the next call.
		compactDeny(doc, now)
		if b, err = json.Marshal(doc); err != nil {
			return err
		}
	}
	_, err = api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(roleName),
		PolicyName:     aws.String(RevocationPolicyName),
		PolicyDocument: aws.String(string(b)),
	})
	if err != nil {
		return fmt.Errorf("put deny entry on %s in %s: %w", roleName, accountID, err)
	}
	return nil
}

// otherPoliciesSize adds up the whitespace-free size of the role's other
// inline policies.
func (r *Revoker) otherPoliciesSize(ctx context.Context, api RolePolicyAPI, roleName string) (int, error) {
	total := 0
	var marker *string
	for {
		out, err := api.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(roleName), Marker: marker})
		if err != nil {
			return 0, fmt.Errorf("list policies of %s: %w", roleName, err)
		}
		for _, name := range out.PolicyNames {
			if name == RevocationPolicyName {
				continue
			}
			p, err := api.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(name)})
			if err != nil {
				return 0, fmt.Errorf("get policy %s of %s: %w", name, roleName, err)
			}
			text, _ := url.QueryUnescape(aws.ToString(p.PolicyDocument))
			total += len(strings.Join(strings.Fields(text), ""))
		}
		if !out.IsTruncated {
			return total, nil
		}
		marker = out.Marker
	}
}

func (r *Revoker) lockRole(ctx context.Context, key string) (func(), error) {
	if r.Lock != nil {
		return r.Lock.Lock(ctx, "role:"+key)
	}
	return r.lock(key), nil
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

// UserDenyStatement returns the statement that denies the sessions of one
// ticket whose source identity is one of users: the session's
// jit-ticket tag and its SourceIdentity (the beneficiary, as Mint sets
// it) must both match. A session chained from it keeps both (the tag when
// transitive, the source identity always), so the deny reaches it too.
func UserDenyStatement(sid, ticketID string, users []string) Statement {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = sourceIdentity(u)
	}
	return Statement{Sid: sid, Effect: "Deny", Action: "*", Resource: "*", Condition: map[string]map[string]any{
		"StringEquals": {"aws:PrincipalTag/" + TagTicket: ticketID, "aws:SourceIdentity": ids},
	}}
}

// untilHour is the hour (UTC, yyyymmddhh) after which sessions expiring
// by until have all expired: the suffix of a deny statement's Sid.
func untilHour(until time.Time) string {
	return until.UTC().Add(time.Hour - time.Nanosecond).Format("2006010215")
}

// addUserDeny denies the user's sessions of the ticket, in the ticket's
// statement for the hour they expire by (one statement per ticket and
// hour, naming every user of the ticket cut so far).
func addUserDeny(doc *PolicyDocument, ticketID, user string, until time.Time) {
	sid := userSidPrefix + untilHour(until) + sidSafe.ReplaceAllString(ticketID, "")
	id := sourceIdentity(user)
	for i, st := range doc.Statement {
		if st.Sid != sid || !slices.Contains(denyTickets(st), ticketID) {
			continue
		}
		users := conditionValues(st, "aws:SourceIdentity")
		if !slices.Contains(users, id) {
			users = append(users, id)
		}
		doc.Statement[i] = UserDenyStatement(sid, ticketID, users)
		return
	}
	doc.Statement = append(doc.Statement, UserDenyStatement(sid, ticketID, []string{user}))
}

// sidSafe matches what a Sid may not hold.
var sidSafe = regexp.MustCompile(`[^A-Za-z0-9]`)

// addDeny puts the ticket in the statement for the hour its sessions expire by.
func addDeny(doc *PolicyDocument, ticketID string, until time.Time) {
	sid := sidPrefix + untilHour(until)
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

// pruneDeny drops statements whose hour has passed: their sessions have
// all expired. It reports whether it dropped any.
func pruneDeny(doc *PolicyDocument, now time.Time) bool {
	n := len(doc.Statement)
	doc.Statement = slices.DeleteFunc(doc.Statement, func(st Statement) bool {
		hour, ok := sidHour(st.Sid)
		if !ok {
			return false
		}
		t, err := time.Parse("2006010215", hour)
		return err == nil && now.After(t.Add(time.Hour))
	})
	return len(doc.Statement) != n
}

// sidHour returns the hour of one of JIT's deny statements (any form),
// after which it may go; ok is false for statements JIT did not write.
func sidHour(sid string) (string, bool) {
	for _, p := range []string{sidPrefix, userSidPrefix, issuedBeforeSid} {
		if rest, ok := strings.CutPrefix(sid, p); ok && len(rest) >= 10 {
			return rest[:10], true
		}
	}
	return "", false
}

// sourceIdentity is the SourceIdentity Mint gives a beneficiary's sessions.
func sourceIdentity(user string) string { return sanitize(user, 64) }

// denyTickets returns the ticket ids a deny statement names.
func denyTickets(st Statement) []string {
	return conditionValues(st, "aws:PrincipalTag/"+TagTicket)
}

// conditionValues returns the values a deny statement's StringEquals
// names for key.
func conditionValues(st Statement, key string) []string {
	var out []string
	switch v := st.Condition["StringEquals"][key].(type) {
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

// issuedBeforeSid names the fallback statement: deny sessions issued
// before a time; the suffix is the hour after which it may go.
const issuedBeforeSid = "JitIssuedBeforeUntil"

// compactDeny replaces every per-ticket entry with one statement denying
// sessions issued before now, kept until the latest of their hours.
func compactDeny(doc *PolicyDocument, now time.Time) {
	until := ""
	doc.Statement = slices.DeleteFunc(doc.Statement, func(st Statement) bool {
		hour, ok := sidHour(st.Sid)
		if ok && hour > until {
			until = hour
		}
		return ok
	})
	doc.Statement = append(doc.Statement, Statement{Sid: issuedBeforeSid + until, Effect: "Deny", Action: "*", Resource: "*",
		// Token issue times have whole seconds: the next second covers
		// every session issued up to now.
		Condition: map[string]map[string]any{"DateLessThan": {"aws:TokenIssueTime": now.UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339)}}})
}
