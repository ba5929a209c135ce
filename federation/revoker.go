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

// Revoker cuts open sessions of a ticket by adding the ticket to a deny
// entry on its role: Deny everything when aws:PrincipalTag/jit-ticket is one
// of the revoked tickets. Entries are grouped by the hour their sessions
// expire and pruned once that hour has begun (denylist.go, shared with
// PortalDeny).
//
// IAM has no compare-and-set, so changes to one role are serialized
// through Lock across every JIT process (in-process only when Lock is nil).
type Revoker struct {
	// IAM returns the IAM client for an account (the broker's own, or one
	// that assumes an admin role there).
	IAM   func(accountID string) RolePolicyAPI
	Clock broker.Clock
	Lock  broker.Locker

	list denyList
}

var _ broker.Revoker = (*Revoker)(nil)

// Revoke adds the ticket to the role's deny entry, or with req.User only
// that beneficiary's sessions of the ticket; repeating it is harmless.
// ENOTFOUND when the role does not exist in the account; ETOOLARGE when
// the role's other inline policies leave no room for even the shrunk list.
func (r *Revoker) Revoke(ctx context.Context, req broker.RevokeRequest) error {
	_, err := r.change(ctx, req.AccountID, req.RoleName, func(doc *PolicyDocument) bool {
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
// expired, and the whole policy when none is left (broker.Cleaner). It
// returns how many statements it removed (0: the list was not written).
func (r *Revoker) PruneRole(ctx context.Context, accountID, roleName string) (int, error) {
	ch, err := r.change(ctx, accountID, roleName, func(*PolicyDocument) bool { return false })
	return ch.Pruned, err
}

// change runs one update of the role's deny list (denyList.update).
func (r *Revoker) change(ctx context.Context, accountID, roleName string, edit func(*PolicyDocument) bool) (denyChange, error) {
	now := time.Now()
	if r.Clock != nil {
		now = r.Clock.Now()
	}
	st := &roleStore{api: r.IAM(accountID), accountID: accountID, role: roleName}
	return r.list.update(ctx, r.Lock, "role:"+accountID+"/"+roleName, now, st, func(d denyDoc) bool {
		return edit(d.(*roleDenyList).doc)
	})
}

// roleStore is a role's jit-revocations inline policy (denyStore).
type roleStore struct {
	api       RolePolicyAPI
	accountID string
	role      string
}

func (s *roleStore) name() string {
	return fmt.Sprintf("the inline policies of role %s in %s", s.role, s.accountID)
}

func (s *roleStore) maxLen() int { return maxRolePolicyLen }

func (s *roleStore) load(ctx context.Context) (denyDoc, error) {
	doc, err := getDenyList(ctx, s.api, s.role)
	if err != nil {
		return nil, err
	}
	return &roleDenyList{doc: doc}, nil
}

func (s *roleStore) others(ctx context.Context) (int, error) {
	return otherPoliciesSize(ctx, s.api, s.role)
}

func (s *roleStore) save(ctx context.Context, text string) error {
	_, err := s.api.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName:       aws.String(s.role),
		PolicyName:     aws.String(RevocationPolicyName),
		PolicyDocument: aws.String(text),
	})
	if err != nil {
		return fmt.Errorf("put deny entry on %s in %s: %w", s.role, s.accountID, err)
	}
	return nil
}

func (s *roleStore) remove(ctx context.Context) error {
	_, err := s.api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(s.role), PolicyName: aws.String(RevocationPolicyName)})
	var nse *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &nse) {
		return fmt.Errorf("delete deny entry on %s in %s: %w", s.role, s.accountID, err)
	}
	return nil
}

// otherPoliciesSize adds up the whitespace-free size of the role's other
// inline policies.
func otherPoliciesSize(ctx context.Context, api RolePolicyAPI, roleName string) (int, error) {
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
			total += PolicyChars(text)
		}
		if !out.IsTruncated {
			return total, nil
		}
		marker = out.Marker
	}
}

// getDenyList reads the role's deny entries; a role without them gets an
// empty document.
func getDenyList(ctx context.Context, api RolePolicyAPI, role string) (*PolicyDocument, error) {
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

// untilHour is the bucket (UTC, yyyymmddhh) of a deny whose sessions have
// all expired by until: the suffix of a deny statement's Sid.
func untilHour(until time.Time) string {
	return denyBucket(until).Format(bucketLayout)
}

// addUserDeny denies the user's sessions of the ticket, in the ticket's
// statement for the hour they expire by (one statement per ticket and
// hour, naming every user of the ticket cut so far).
func addUserDeny(doc *PolicyDocument, ticketID, user string, until time.Time) {
	sid := userSidPrefix + untilHour(until) + sidSafe().ReplaceAllString(ticketID, "")
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
var sidSafe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^A-Za-z0-9]`) })

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

// roleDenyList is a role's deny list being changed (denyDoc).
type roleDenyList struct{ doc *PolicyDocument }

// prune drops JIT's statements whose bucket has expired: their sessions
// have all expired. Statements JIT did not write are kept.
func (l *roleDenyList) prune(now time.Time) int {
	n := len(l.doc.Statement)
	l.doc.Statement = slices.DeleteFunc(l.doc.Statement, func(st Statement) bool {
		b, ok := sidBucket(st.Sid)
		return ok && bucketExpired(b, now)
	})
	return n - len(l.doc.Statement)
}

// shrink steps: 0 and 1 only move revoked sessions' denies into later
// buckets or drop repeats, so no session that should work is cut; 2, the
// last resort, denies every session of the role issued before now.
func (l *roleDenyList) shrink(step int, now time.Time) bool {
	switch step {
	case 0:
		mergeUserDenies(l.doc)
	case 1:
		mergeTicketDenies(l.doc)
	case 2:
		compactDeny(l.doc, now)
	default:
		return false
	}
	return true
}

func (l *roleDenyList) marshal() (string, error) {
	b, err := json.Marshal(l.doc)
	return string(b), err
}

func (l *roleDenyList) empty() bool { return len(l.doc.Statement) == 0 }

// sidBucket returns the bucket of one of JIT's deny statements (any form);
// ok is false for statements JIT did not write.
func sidBucket(sid string) (time.Time, bool) {
	hour, ok := sidHour(sid)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(bucketLayout, hour)
	return t, err == nil
}

// mergeUserDenies keeps one per-user statement per ticket, in the latest
// bucket of its statements and naming all their users, and drops those
// of a ticket whose whole-ticket deny lasts at least as long.
func mergeUserDenies(doc *PolicyDocument) {
	ticketUntil := map[string]string{} // ticket -> latest bucket of its whole-ticket deny
	for _, st := range doc.Statement {
		if h, ok := strings.CutPrefix(st.Sid, sidPrefix); ok {
			for _, id := range denyTickets(st) {
				ticketUntil[id] = max(ticketUntil[id], h)
			}
		}
	}
	type merged struct {
		hour  string
		users []string
		at    int
	}
	byTicket := map[string]*merged{}
	var out []Statement
	for _, st := range doc.Statement {
		rest, ok := strings.CutPrefix(st.Sid, userSidPrefix)
		tickets := denyTickets(st)
		if !ok || len(rest) < 10 || len(tickets) != 1 {
			out = append(out, st)
			continue
		}
		id, hour := tickets[0], rest[:10]
		if ticketUntil[id] >= hour {
			continue // the whole ticket is denied for as long
		}
		m := byTicket[id]
		if m == nil {
			m = &merged{hour: hour, at: len(out)}
			byTicket[id] = m
			out = append(out, Statement{}) // filled below
		}
		m.hour = max(m.hour, hour)
		for _, u := range conditionValues(st, "aws:SourceIdentity") {
			if !slices.Contains(m.users, u) {
				m.users = append(m.users, u)
			}
		}
	}
	for id, m := range byTicket {
		out[m.at] = UserDenyStatement(userSidPrefix+m.hour+sidSafe().ReplaceAllString(id, ""), id, m.users)
	}
	doc.Statement = out
}

// mergeTicketDenies puts every whole-ticket deny into one statement, in
// the latest of their buckets.
func mergeTicketDenies(doc *PolicyDocument) {
	hour, at := "", -1
	var tickets []string
	var out []Statement
	for _, st := range doc.Statement {
		h, ok := strings.CutPrefix(st.Sid, sidPrefix)
		if !ok || len(h) != 10 {
			out = append(out, st)
			continue
		}
		if at < 0 {
			at = len(out)
			out = append(out, Statement{})
		}
		hour = max(hour, h)
		for _, id := range denyTickets(st) {
			if !slices.Contains(tickets, id) {
				tickets = append(tickets, id)
			}
		}
	}
	if at >= 0 {
		out[at] = DenyStatement(sidPrefix+hour, tickets)
	}
	doc.Statement = out
}

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
