package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/jitaccess/jit/broker"
)

// PortalDenySidPrefix starts the Sid of every statement PortalDeny owns in
// a permission set's inline policy. The rest of the Sid is
// <until yyyymmddhh>T<before yyyymmddhhmmss>A<account>, all UTC: the
// statement denies its users' sessions in the account issued before
// "before", and may go once the hour "until" has begun (every session it
// targets has expired by then).
const PortalDenySidPrefix = "JitPortalDeny"

// maxPortalSession is the longest session Identity Center issues (a
// permission set's SessionDuration is at most 12 hours).
const maxPortalSession = 12 * time.Hour

var portalSidRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^` + PortalDenySidPrefix + `([0-9]{10})T([0-9]{14})A([0-9]{12})$`)
})

// PermissionSetPolicyAPI is the sso-admin calls PortalDeny makes.
type PermissionSetPolicyAPI interface {
	GetInlinePolicyForPermissionSet(ctx context.Context, in *ssoadmin.GetInlinePolicyForPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.GetInlinePolicyForPermissionSetOutput, error)
	PutInlinePolicyToPermissionSet(ctx context.Context, in *ssoadmin.PutInlinePolicyToPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.PutInlinePolicyToPermissionSetOutput, error)
	DeleteInlinePolicyFromPermissionSet(ctx context.Context, in *ssoadmin.DeleteInlinePolicyFromPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DeleteInlinePolicyFromPermissionSetOutput, error)
	ProvisionPermissionSet(ctx context.Context, in *ssoadmin.ProvisionPermissionSetInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ProvisionPermissionSetOutput, error)
	DescribePermissionSetProvisioningStatus(ctx context.Context, in *ssoadmin.DescribePermissionSetProvisioningStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetProvisioningStatusOutput, error)
}

// UserIDs resolves users' emails to Identity Store user ids;
// *IdentityCenter is one.
type UserIDs interface {
	// UserID returns the user id of email; ENOTFOUND for an unknown user.
	UserID(ctx context.Context, email string) (string, error)
}

// PortalDeny cuts Identity Center sessions that were already opened
// (design.md flow 5, aws-facts.md section 4): deleting an assignment does
// not end the role sessions the access portal issued for it, so PortalDeny
// adds a Deny of everything to the permission set's inline policy for the
// user's sessions in the account issued before the cut:
//
//	{"StringEquals": {"identitystore:userId": [...], "aws:PrincipalAccount": "<account>"},
//	 "DateLessThan": {"aws:TokenIssueTime": "<before>"}}
//
// and provisions the permission set to that account, which rewrites the
// AWSReservedSSO_* role there. The issue-time condition lets a later
// ticket's sessions for the same user work; the account condition keeps
// the deny to the one account even when the permission set is provisioned
// elsewhere later.
//
// Why the permission set's inline policy and not an SCP: SCPs need rights
// in the Organizations management account, which JIT should not hold, and
// an SCP would apply to every permission set and role in the account, not
// the one that was granted; an SCP also has a 5,120-character budget
// shared with whatever the organization's administrators put there.
//
// What administrators wrote in the inline policy is kept as it is: only
// statements whose Sid starts with PortalDenySidPrefix are JIT's. JIT's
// statements are grouped by account, issue-time bound and expiry hour,
// and pruned once their sessions have all expired. sso-admin has no
// compare-and-set, so the read-modify-write of a permission set's policy
// is serialized through Locker; an administrator editing the policy at
// the same moment can still lose the race.
type PortalDeny struct {
	SSOAdmin    PermissionSetPolicyAPI
	Users       UserIDs
	InstanceARN string
	Clock       broker.Clock // default broker.SystemClock
	// Locker serializes changes to one permission set's policy across JIT
	// processes; nil means within this process only.
	Locker broker.Locker
	// Limiter paces requests; default the process-wide LocalLimiter.
	Limiter Limiter
	// PollInterval is the first wait between provisioning status polls
	// and between retries, growing by half up to 10 s. Default 1 s.
	PollInterval time.Duration
	// Timeout bounds one CutPortal or Prune. Default 5 minutes.
	Timeout time.Duration
	// Skew, if set, is AWS's clock (clockskew.go): a cut's bound is
	// written in AWS's time, so a session issued before the cut is denied
	// even when AWS's clock is ahead of this host's.
	Skew *ClockSkew

	list denyList
	mu   sync.Mutex
	// chainingSeen: when DenyChaining last saw a permission set's
	// chaining deny in place, by permission set ARN.
	chainingSeen map[string]time.Time
}

// chainingCheckTTL is how long DenyChaining trusts that a permission set
// it saw with the chaining deny still has it, so that a burst of
// assignments does not read the policy once each. Should someone remove
// the statement, the reconciler's Prune (every 5 minutes) puts it back.
const chainingCheckTTL = time.Minute

var _ broker.PortalRevoker = (*PortalDeny)(nil)

// CutPortal denies, from now on, the user's sessions of the permission
// set in the account that were issued before c.Before (rounded up to the
// second, the precision of aws:TokenIssueTime), until c.Until (default
// 12 hours after c.Before, the longest session Identity Center issues).
// A user already denied in the account keeps one statement with the later
// bound and expiry of the two, unless c.Settle: then c's bound and expiry
// replace the user's (the cut narrowing its own provisional bound).
// Repeating it is harmless. ENOTFOUND for a user not in the Identity
// Store, ETOOLARGE when the inline policy would pass its budget,
// EUNAVAILABLE when provisioning is not done after Timeout.
func (p *PortalDeny) CutPortal(ctx context.Context, c broker.PortalCut) error {
	if err := p.check(); err != nil {
		return err
	}
	if c.Before.IsZero() {
		return broker.Errorf(broker.EINVALID, "portal cut for %s: no cut time", c.User)
	}
	userID, err := p.Users.UserID(ctx, c.User)
	if err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	added, _, err := p.update(opCtx, c.PermissionSetARN, func(doc *inlinePolicy) bool {
		// In AWS's time (clockskew.go), known once the policy was read.
		before := ceilTo(p.Skew.Latest(c.Before).UTC(), time.Second)
		until := c.Until
		if until.IsZero() {
			until = before.Add(maxPortalSession)
		}
		if c.Settle {
			doc.forget(c.AccountID, userID)
		}
		doc.deny(c.AccountID, userID, before, denyBucket(until))
		return true
	})
	if err == nil {
		err = p.provision(opCtx, c.PermissionSetARN, provisionTarget(c.AccountID, added))
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return broker.Errorf(broker.EUNAVAILABLE, "cutting %s's sessions of %s in %s not done after %s; try again later", c.User, c.PermissionSetARN, c.AccountID, p.timeout())
	}
	if err != nil {
		return fmt.Errorf("cut %s's portal sessions of %s in %s: %w", c.User, c.PermissionSetARN, c.AccountID, err)
	}
	return nil
}

// DenyChaining makes sure JIT's statement denying ChainingActions is in
// the permission set's inline policy, so that no session the access
// portal issues for it can derive another session: a chained session
// would lose identitystore:userId, which the cut matches. The statement
// applies to every user of the permission set in every account; JIT keeps
// it from then on (every write of the policy by JIT includes it). When
// it adds the statement it provisions the permission set to every account
// it is provisioned to; an account it is not provisioned to yet gets the
// current policy with the assignment. When the statement is already
// there, DenyChaining only reads the policy. EINVALID when the inline
// policy has no room for it; EUNAVAILABLE when provisioning is not done
// after Timeout.
func (p *PortalDeny) DenyChaining(ctx context.Context, permissionSetARN, accountID string) error {
	if err := p.check(); err != nil {
		return err
	}
	if p.chainingRecentlySeen(permissionSetARN) {
		return nil
	}
	opCtx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	// Usually the statement is there: read without the lock first.
	if doc, err := p.read(opCtx, p.pace(), permissionSetARN); err == nil && doc.noChaining {
		p.sawChaining(permissionSetARN)
		return nil
	}
	missing := false
	added, _, err := p.update(opCtx, permissionSetARN, func(doc *inlinePolicy) bool {
		missing = !doc.noChaining
		return missing
	})
	if err == nil && missing && !added {
		return broker.Errorf(broker.EINVALID, "the inline policy of permission set %s has no room for JIT's statement denying role chaining (%d characters of %d); JIT grants no permission set whose sessions could chain: shorten the policy",
			permissionSetARN, PolicyChars(string(mustMarshal(NoChainingStatement()))), MaxInlinePolicyChars)
	}
	if err == nil && added {
		err = p.provision(opCtx, permissionSetARN, "")
	}
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return broker.Errorf(broker.EUNAVAILABLE, "denying role chaining to %s in %s not done after %s; try again later", permissionSetARN, accountID, p.timeout())
	}
	if err != nil {
		return fmt.Errorf("deny role chaining to %s in %s: %w", permissionSetARN, accountID, err)
	}
	p.sawChaining(permissionSetARN)
	return nil
}

// Prune removes the expired JIT statements from the permission set's
// inline policy and, when it removed any, provisions the permission set
// to the account. Administrators' statements are kept. It also puts back
// JIT's chaining deny when it is missing (a permission set JIT managed
// before it wrote one), provisioning then to every account. It returns
// how many expired statements it removed.
func (p *PortalDeny) Prune(ctx context.Context, permissionSetARN, accountID string) (int, error) {
	if err := p.check(); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	added, ch, err := p.update(ctx, permissionSetARN, func(*inlinePolicy) bool { return false })
	if err == nil && ch.Written {
		err = p.provision(ctx, permissionSetARN, provisionTarget(accountID, added))
	}
	if err != nil {
		return 0, fmt.Errorf("prune portal denies of %s: %w", permissionSetARN, err)
	}
	return ch.Pruned, nil
}

// update runs one change of the permission set's inline policy
// (denyList.update): change edits it; expired JIT statements are pruned;
// it is written back when either changed anything. Provisioning is left
// to the caller, outside the lock: it pushes whatever the policy is then.
//
// Every write includes JIT's chaining deny; added reports a write that
// put it back (it was missing), after which the permission set must be
// provisioned to every account, not only the one at hand.
func (p *PortalDeny) update(ctx context.Context, psARN string, change func(*inlinePolicy) bool) (added bool, ch denyChange, err error) {
	st := &permissionSetStore{p: p, pc: p.pace(), psARN: psARN}
	var doc *inlinePolicy
	ch, err = p.list.update(ctx, p.Locker, "portal-deny:"+psARN, p.now(), st, func(d denyDoc) bool {
		doc = d.(*inlinePolicy)
		changed := change(doc)
		doc.chainingAdded = !doc.noChaining
		doc.noChaining = true
		return changed || doc.chainingAdded
	})
	if err != nil {
		return false, denyChange{}, err
	}
	return ch.Written && doc.chainingAdded, ch, nil
}

// permissionSetStore is a permission set's inline policy (denyStore).
type permissionSetStore struct {
	p     *PortalDeny
	pc    pace
	psARN string
}

func (s *permissionSetStore) name() string {
	return "the inline policy of permission set " + s.psARN
}

func (s *permissionSetStore) maxLen() int { return maxPermissionSetPolicyLen }

// others is 0: the permission set's policy is its role's only inline policy.
func (s *permissionSetStore) others(context.Context) (int, error) { return 0, nil }

func (s *permissionSetStore) load(ctx context.Context) (denyDoc, error) {
	return s.p.read(ctx, s.pc, s.psARN)
}

func (s *permissionSetStore) save(ctx context.Context, text string) error {
	err := s.pc.call(ctx, func() error {
		_, err := s.p.SSOAdmin.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{
			InstanceArn: aws.String(s.p.InstanceARN), PermissionSetArn: aws.String(s.psARN), InlinePolicy: aws.String(text),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("put inline policy: %w", err)
	}
	return nil
}

func (s *permissionSetStore) remove(ctx context.Context) error {
	return s.pc.call(ctx, func() error {
		_, err := s.p.SSOAdmin.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{
			InstanceArn: aws.String(s.p.InstanceARN), PermissionSetArn: aws.String(s.psARN),
		})
		return err
	})
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// read gets and parses the permission set's inline policy.
func (p *PortalDeny) read(ctx context.Context, pc pace, psARN string) (*inlinePolicy, error) {
	var out *ssoadmin.GetInlinePolicyForPermissionSetOutput
	err := pc.call(ctx, func() (err error) {
		out, err = p.SSOAdmin.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{
			InstanceArn: aws.String(p.InstanceARN), PermissionSetArn: aws.String(psARN),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get inline policy: %w", err)
	}
	doc, err := parseInlinePolicy(aws.ToString(out.InlinePolicy))
	if err != nil {
		return nil, fmt.Errorf("inline policy of %s: %w", psARN, err)
	}
	return doc, nil
}

func (p *PortalDeny) chainingRecentlySeen(psARN string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.chainingSeen[psARN]
	return ok && p.now().Sub(at) < chainingCheckTTL
}

func (p *PortalDeny) sawChaining(psARN string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chainingSeen == nil {
		p.chainingSeen = map[string]time.Time{}
	}
	p.chainingSeen[psARN] = p.now()
}

// provisionTarget is the account to provision to after a write: every
// account ("") when the write put JIT's chaining deny back.
func provisionTarget(accountID string, addedChainingDeny bool) string {
	if addedChainingDeny {
		return ""
	}
	return accountID
}

// provision pushes the permission set's current policy to its role in
// the account ("": in every account it is provisioned to) and waits
// until that is done.
func (p *PortalDeny) provision(ctx context.Context, psARN, accountID string) error {
	pc := p.pace()
	in := &ssoadmin.ProvisionPermissionSetInput{
		InstanceArn:      aws.String(p.InstanceARN),
		PermissionSetArn: aws.String(psARN),
		TargetType:       ssotypes.ProvisionTargetTypeAwsAccount,
		TargetId:         aws.String(accountID),
	}
	if accountID == "" {
		in.TargetType, in.TargetId, accountID = ssotypes.ProvisionTargetTypeAllProvisionedAccounts, nil, "every account"
	}
	var out *ssoadmin.ProvisionPermissionSetOutput
	err := pc.call(ctx, func() (err error) {
		out, err = p.SSOAdmin.ProvisionPermissionSet(ctx, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("provision to %s: %w", accountID, err)
	}
	st := out.PermissionSetProvisioningStatus
	if st == nil || aws.ToString(st.RequestId) == "" {
		return errors.New("no request id in the answer of Identity Center")
	}
	id := st.RequestId
	st, err = poll(ctx, pc, st, func(st *ssotypes.PermissionSetProvisioningStatus) bool {
		return st.Status == ssotypes.StatusValuesSucceeded || st.Status == ssotypes.StatusValuesFailed
	}, func() (*ssotypes.PermissionSetProvisioningStatus, error) {
		o, err := p.SSOAdmin.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: aws.String(p.InstanceARN), ProvisionPermissionSetRequestId: id,
		})
		if err != nil {
			return nil, err
		}
		if o.PermissionSetProvisioningStatus == nil {
			return nil, errors.New("no provisioning status in the answer of Identity Center")
		}
		return o.PermissionSetProvisioningStatus, nil
	})
	if err != nil {
		return fmt.Errorf("provision to %s: %w", accountID, err)
	}
	if st.Status == ssotypes.StatusValuesFailed {
		return broker.Errorf(broker.EINVALID, "Identity Center could not provision permission set %s to account %s: %s", psARN, accountID, failureReason(st.FailureReason))
	}
	return nil
}

func (p *PortalDeny) check() error {
	if p.SSOAdmin == nil || p.Users == nil || p.InstanceARN == "" {
		return errors.New("federation: PortalDeny needs SSOAdmin, Users and InstanceARN")
	}
	return nil
}

func (p *PortalDeny) pace() pace { return newPace(p.Limiter, p.PollInterval) }

func (p *PortalDeny) now() time.Time {
	if p.Clock == nil {
		return time.Now()
	}
	return p.Clock.Now()
}

func (p *PortalDeny) timeout() time.Duration {
	if p.Timeout <= 0 {
		return defaultAssignTimeout
	}
	return p.Timeout
}

// inlinePolicy is a permission set's inline policy split into what
// administrators wrote, kept byte for byte (but compacted), and JIT's
// deny entries.
type inlinePolicy struct {
	top    map[string]json.RawMessage // every top-level member but Statement
	others []json.RawMessage          // statements that are not JIT's, in order
	denies []*portalDenyEntry
	// noChaining: JIT's statement denying ChainingActions is present.
	noChaining bool
	// chainingAdded: this change put the chaining deny in (it was not
	// there when read).
	chainingAdded bool
}

// portalDenyEntry is one JIT statement.
type portalDenyEntry struct {
	account string
	before  time.Time // sessions issued before it are denied
	until   time.Time // whole hour from which the statement may go
	users   []string  // Identity Store user ids
}

func (e *portalDenyEntry) sid() string {
	return PortalDenySidPrefix + e.until.Format("2006010215") + "T" + e.before.Format("20060102150405") + "A" + e.account
}

func (e *portalDenyEntry) statement() map[string]any {
	return map[string]any{
		"Sid":      e.sid(),
		"Effect":   "Deny",
		"Action":   "*",
		"Resource": "*",
		"Condition": map[string]map[string]any{
			"StringEquals": {"identitystore:userId": e.users, "aws:PrincipalAccount": e.account},
			"DateLessThan": {"aws:TokenIssueTime": e.before.Format(time.RFC3339)},
		},
	}
}

// parseInlinePolicy reads a permission set's inline policy ("" for none).
func parseInlinePolicy(text string) (*inlinePolicy, error) {
	doc := &inlinePolicy{top: map[string]json.RawMessage{}}
	text = strings.TrimSpace(text)
	if text == "" {
		return doc, nil
	}
	if strings.HasPrefix(text, "%") {
		// IAM returns documents URL-encoded; accept that here too.
		if t, err := url.QueryUnescape(text); err == nil {
			text = t
		}
	}
	if err := json.Unmarshal([]byte(text), &doc.top); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	raw := doc.top["Statement"]
	delete(doc.top, "Statement")
	var stmts []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		stmts = []json.RawMessage{t} // a single statement need not be in a list
	} else if len(t) > 0 {
		if err := json.Unmarshal(t, &stmts); err != nil {
			return nil, fmt.Errorf("parse statements: %w", err)
		}
	}
	for _, st := range stmts {
		if isNoChaining(st) {
			doc.noChaining = true
			continue
		}
		if e := parseDenyEntry(st); e != nil {
			doc.denies = append(doc.denies, e)
		} else {
			doc.others = append(doc.others, st)
		}
	}
	return doc, nil
}

// isNoChaining reports whether st is JIT's statement denying
// ChainingActions. One with that Sid in another shape is rewritten.
func isNoChaining(st json.RawMessage) bool {
	var s struct{ Sid string }
	return json.Unmarshal(st, &s) == nil && s.Sid == NoChainingSid
}

// parseDenyEntry returns the JIT entry st holds, or nil when st is not
// one of JIT's (or not in a shape JIT wrote, which is then left alone).
func parseDenyEntry(st json.RawMessage) *portalDenyEntry {
	var s struct {
		Sid       string
		Condition struct {
			StringEquals struct {
				UserID  json.RawMessage `json:"identitystore:userId"`
				Account string          `json:"aws:PrincipalAccount"`
			}
		}
	}
	if json.Unmarshal(st, &s) != nil {
		return nil
	}
	m := portalSidRe().FindStringSubmatch(s.Sid)
	if m == nil || s.Condition.StringEquals.Account != m[3] {
		return nil
	}
	until, err1 := time.Parse("2006010215", m[1])
	before, err2 := time.Parse("20060102150405", m[2])
	var users []string
	if json.Unmarshal(s.Condition.StringEquals.UserID, &users) != nil {
		var one string
		if json.Unmarshal(s.Condition.StringEquals.UserID, &one) != nil || one == "" {
			return nil
		}
		users = []string{one}
	}
	if err1 != nil || err2 != nil || len(users) == 0 {
		return nil
	}
	return &portalDenyEntry{account: m[3], before: before, until: until, users: users}
}

// deny makes the user's sessions in the account issued before "before"
// denied until "until" (a whole hour). A user already denied there keeps
// one entry, with the later bound and expiry of the two: denying older
// sessions again adds nothing.
func (doc *inlinePolicy) deny(account, userID string, before, until time.Time) {
	for _, e := range doc.denies {
		if e.account != account || !slices.Contains(e.users, userID) {
			continue
		}
		if e.before.After(before) {
			before = e.before
		}
		if e.until.After(until) {
			until = e.until
		}
		e.users = slices.DeleteFunc(e.users, func(u string) bool { return u == userID })
	}
	doc.denies = slices.DeleteFunc(doc.denies, func(e *portalDenyEntry) bool { return len(e.users) == 0 })
	for _, e := range doc.denies {
		if e.account == account && e.before.Equal(before) && e.until.Equal(until) {
			e.users = append(e.users, userID)
			sort.Strings(e.users)
			return
		}
	}
	doc.denies = append(doc.denies, &portalDenyEntry{account: account, before: before, until: until, users: []string{userID}})
}

// shrink steps (denyDoc): each keeps every user denied at least as far
// back and as long as before, and leaves the provisional entries of cuts
// in progress (bound ahead of now) alone. Step 0 gives entries of one
// account and bound one expiry, the latest: it cuts nothing new. Steps 1
// to 3 merge the settled entries of an account whose bounds fall in the
// same minute, ten minutes, hour, and 4 all of an account's settled
// entries: each merged user's bound moves to the group's latest, so a
// user who got access again between the two bounds must sign in to the
// portal again (fail closed). A storm of cuts at distinct seconds makes
// one entry each, so the finest grouping that fits is taken. Step 5, the
// last, leaves out JIT's chaining deny when this change was to put it
// back (DenyChaining then reports it and JIT grants nothing through the
// permission set): a cut must not fail for it.
func (doc *inlinePolicy) shrink(step int, now time.Time) bool {
	switch step {
	case 0:
		doc.merge(now, -1)
	case 1:
		doc.merge(now, time.Minute)
	case 2:
		doc.merge(now, 10*time.Minute)
	case 3:
		doc.merge(now, time.Hour)
	case 4:
		doc.merge(now, 0)
	case 5:
		if !doc.chainingAdded {
			return false
		}
		doc.noChaining, doc.chainingAdded = false, false
	default:
		return false
	}
	return true
}

// merge merges the settled entries (bound not after now) of each account
// into one per group, with every user of the group, the group's latest
// bound and latest expiry. Groups: entries of the same bound (window
// < 0), of bounds in the same window (> 0), or all of them (0).
func (doc *inlinePolicy) merge(now time.Time, window time.Duration) {
	type group struct {
		account string
		at      time.Time
	}
	merged := map[group]*portalDenyEntry{}
	var out []*portalDenyEntry
	for _, e := range doc.denies {
		if e.before.After(now) {
			out = append(out, e)
			continue
		}
		g := group{account: e.account}
		switch {
		case window < 0:
			g.at = e.before
		case window > 0:
			g.at = e.before.Truncate(window)
		}
		m := merged[g]
		if m == nil {
			m = &portalDenyEntry{account: e.account, before: e.before, until: e.until}
			merged[g] = m
			out = append(out, m)
		}
		if e.before.After(m.before) {
			m.before = e.before
		}
		if e.until.After(m.until) {
			m.until = e.until
		}
		for _, u := range e.users {
			if !slices.Contains(m.users, u) {
				m.users = append(m.users, u)
			}
		}
	}
	for _, m := range merged {
		sort.Strings(m.users)
	}
	doc.denies = out
}

// forget drops the user from the JIT entries of the account.
func (doc *inlinePolicy) forget(account, userID string) {
	for _, e := range doc.denies {
		if e.account == account {
			e.users = slices.DeleteFunc(e.users, func(u string) bool { return u == userID })
		}
	}
	doc.denies = slices.DeleteFunc(doc.denies, func(e *portalDenyEntry) bool { return len(e.users) == 0 })
}

// prune drops JIT entries whose bucket has expired and returns how many.
func (doc *inlinePolicy) prune(now time.Time) int {
	n := len(doc.denies)
	doc.denies = slices.DeleteFunc(doc.denies, func(e *portalDenyEntry) bool { return bucketExpired(e.until, now) })
	return n - len(doc.denies)
}

func (doc *inlinePolicy) empty() bool {
	return len(doc.others) == 0 && len(doc.denies) == 0 && !doc.noChaining
}

// marshal writes the policy: the administrators' statements first, in
// their order, then JIT's: the chaining deny, then the cuts ordered by Sid. HTML characters are not
// escaped, so administrators' strings keep their length.
func (doc *inlinePolicy) marshal() (string, error) {
	stmts := make([]any, 0, len(doc.others)+len(doc.denies))
	for _, st := range doc.others {
		stmts = append(stmts, st)
	}
	if doc.noChaining {
		stmts = append(stmts, NoChainingStatement())
	}
	denies := slices.Clone(doc.denies)
	slices.SortFunc(denies, func(a, b *portalDenyEntry) int { return strings.Compare(a.sid(), b.sid()) })
	for _, e := range denies {
		stmts = append(stmts, e.statement())
	}
	top := map[string]any{}
	for k, v := range doc.top {
		top[k] = v
	}
	if _, ok := top["Version"]; !ok {
		top["Version"] = "2012-10-17"
	}
	top["Statement"] = stmts
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(top); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
