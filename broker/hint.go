package broker

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HintSettle is how long after a ticket's access ended its
// least-privilege hint is final: CloudTrail delivers events about 5
// minutes after the call on average, and up to about 15. A hint computed
// later than that is stored on the ticket and never recomputed; one
// computed earlier (or while the ticket is active) is shown and not kept.
const HintSettle = 15 * time.Minute

// hintComputeMax bounds how many hints one Usage call computes from
// CloudTrail (which answers 2 lookups a second per account); the other
// ended tickets without a stored hint are counted as pending.
const hintComputeMax = 10

// TaskHint computes and stores an ended ticket's least-privilege hint
// once it has settled (HintSettle after its access ended), so the usage
// report finds it without anyone asking for it first.
const TaskHint TaskKind = "ticket:hint"

// scheduleHint schedules TaskHint for a ticket whose access just ended
// (an added event from active to a final state). A failure is logged: the
// hint is then computed when someone asks for it.
func (s *Service) scheduleHint(ctx context.Context, t *Ticket, added []Event) {
	if s.cfg.Activity == nil {
		return
	}
	for _, e := range added {
		if e.From == StateActive && e.To.Final() {
			if err := s.cfg.Scheduler.Schedule(ctx, TaskHint, t.ID, e.At.Add(HintSettle)); err != nil {
				s.cfg.Logger.Warn("schedule hint", "ticket", t.ID, "err", err)
			}
		}
	}
}

// SettleHint computes and stores ticket id's hint if its access ended at
// least HintSettle ago and it has no settled hint yet; run by the
// scheduler (TaskHint), safe to repeat, with no caller to check. A ticket
// gone, still active or never active is left alone. Errors: EUNAVAILABLE
// (CloudTrail cannot be read now: retried).
func (s *Service) SettleHint(ctx context.Context, id string) error {
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return ignoreNotFound(err)
	}
	if s.cfg.Activity == nil || !t.State.Final() || !wasActive(t) || (t.Hint != nil && t.Hint.Settled) {
		return nil
	}
	_, err = s.hintOf(ctx, t)
	return err
}

// GrantQuery names the policies a ticket's permission set grants through
// in one account: the IAM role of the role path, the Identity Center
// permission set of that path, or both.
type GrantQuery struct {
	AccountID        string
	RoleName         string
	PermissionSetARN string
}

// Granted is what a permission set's policies allow, counted over an
// action catalogue (the AWS API operations of each service): an
// approximation, since IAM actions and API operations are not one to one.
// Only Allow statements count; Deny statements and conditions are not
// subtracted, so the count is what the allows name.
type Granted struct {
	// Policies names the policies read: AWS or customer managed policy
	// ARNs, "inline:<name>" for a role's inline policy, "inline" for a
	// permission set's.
	Policies []string `json:"policies"`
	// Actions is how many catalogue actions the Allow statements name.
	Actions int `json:"actions"`
	// Services is how many service prefixes those actions span.
	Services int `json:"services"`
	// All says an Allow statement allows every action ("Action": "*").
	All bool `json:"all"`
}

// GrantReader reads what a permission set grants from AWS.
type GrantReader interface {
	// Granted reads the policies of q's role in q's account and of q's
	// Identity Center permission set, and counts the actions they allow.
	// ENOTFOUND when the role or permission set does not exist,
	// EUNAVAILABLE when AWS cannot be read now.
	Granted(ctx context.Context, q GrantQuery) (Granted, error)
}

// Hint compares what a ticket's sessions did with what its permission
// set grants.
type Hint struct {
	TicketID      string    `json:"ticket_id"`
	AccountID     string    `json:"account_id"`
	PermissionSet string    `json:"permission_set"`
	ComputedAt    time.Time `json:"computed_at"`
	// Settled says the hint was computed HintSettle or more after the
	// ticket's access ended: it is stored and final.
	Settled bool `json:"settled"`
	// Events is how many CloudTrail events of the ticket's sessions were read.
	Events int `json:"events"`
	// Actions are the IAM actions the sessions used ("s3:ListBuckets"),
	// sorted: every event that was not refused for lack of permission.
	Actions []string `json:"actions"`
	// Services are the service prefixes of Actions, sorted.
	Services []string `json:"services"`
	// Denied are the actions tried and refused for lack of permission; the
	// policy leaves them out.
	Denied []string `json:"denied"`
	// Granted is what the permission set grants; nil when it could not be
	// read (GrantError says why).
	Granted    *Granted `json:"granted,omitempty"`
	GrantError string   `json:"grant_error,omitempty"`
	// Policy is an IAM policy document allowing exactly Actions on any
	// resource, indented, ready to copy; "" when nothing was used.
	Policy string `json:"policy"`
	// Summary says it in one sentence.
	Summary string `json:"summary"`
}

// Hint returns the least-privilege hint of ticket id: the actions its
// sessions used (CloudTrail, as Activity finds them), what its permission
// set grants, and a policy with just those actions. Who may see the
// ticket's activity may see its hint (else EFORBIDDEN or ENOTFOUND, as
// Activity). A ticket that was never active has none (EINVALID). The
// hint is stored on the ticket once it is settled (HintSettle after the
// access ended) and read from there afterwards. Errors: EUNAUTHENTICATED,
// ENOTFOUND, EFORBIDDEN, EINVALID, EUNAVAILABLE.
func (s *Service) Hint(ctx context.Context, id string) (*Hint, error) {
	u, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.cfg.Store.Ticket(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayAudit(ctx, t, u); err != nil {
		return nil, err
	}
	if !wasActive(t) {
		return nil, Errorf(EINVALID, "ticket %s was never active: it has no activity to compare with its permission set", t.ID)
	}
	return s.hintOf(ctx, t)
}

// hintOf returns t's stored hint, or computes it (and stores it once
// settled).
func (s *Service) hintOf(ctx context.Context, t *Ticket) (*Hint, error) {
	if t.Hint != nil && t.Hint.Settled {
		return t.Hint, nil
	}
	if s.cfg.Activity == nil {
		return nil, Errorf(EUNAVAILABLE, "activity lookup is not configured")
	}
	evs, err := s.ticketActivity(ctx, t)
	if err != nil {
		return nil, err
	}
	h := &Hint{TicketID: t.ID, AccountID: t.AccountID, PermissionSet: t.PermissionSet, ComputedAt: s.now()}
	_, end := activeWindow(t)
	h.Settled = t.State.Final() && !h.ComputedAt.Before(end.Add(HintSettle))
	usedFrom(h, evs)
	if g, err := s.granted(ctx, t); err != nil {
		h.GrantError = ErrorMessage(err)
		h.Settled = false // read the grant again next time
	} else {
		h.Granted = g
	}
	h.Summary = hintSummary(h)
	if h.Settled {
		_, err := s.transition(ctx, t.ID, func(st *Ticket) error {
			st.Hint = h
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

// granted reads what t's permission set grants in t's account, by the
// path it was granted through.
func (s *Service) granted(ctx context.Context, t *Ticket) (*Granted, error) {
	if s.cfg.Grants == nil {
		return nil, Errorf(EUNAVAILABLE, "reading permission sets' policies is not configured")
	}
	q := GrantQuery{AccountID: t.AccountID, PermissionSetARN: assignedSet(t)}
	ps, err := s.cfg.Registry.PermissionSet(ctx, t.PermissionSet)
	if err == nil {
		if usesRole(ps) {
			q.RoleName = ps.RoleName
		}
		if usesIdentityCenter(ps) && q.PermissionSetARN == "" {
			q.PermissionSetARN = ps.ARN
		}
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	if q.RoleName == "" && q.PermissionSetARN == "" {
		return nil, Errorf(ENOTFOUND, "permission set %s is no longer registered", t.PermissionSet)
	}
	g, err := s.cfg.Grants.Granted(ctx, q)
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// deniedCodes are the error codes AWS answers a call its policies refuse.
var deniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "Client.UnauthorizedOperation", "UnauthorizedAccess"}

// eventSourcePrefixes are the event sources whose IAM service prefix is
// not the first label of the source.
var eventSourcePrefixes = map[string]string{"monitoring": "cloudwatch"}

// datedName matches event names that carry an API version (Lambda's
// "ListFunctions20150331", "GetFunctionConfiguration20150331v2").
var datedName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([A-Z][A-Za-z]*?)20[0-9]{6}(v[0-9]+)?$`) })

var operationName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`) })

// EventAction returns the IAM action ("s3:ListBuckets") of a CloudTrail
// event, or "" for an event that is not an API call (a console sign-in).
func EventAction(e ActivityEvent) string {
	src, ok := strings.CutSuffix(e.EventSource, ".amazonaws.com")
	if !ok || src == "" || src == "signin" || strings.Contains(src, ".") {
		return ""
	}
	if p, ok := eventSourcePrefixes[src]; ok {
		src = p
	}
	name := e.EventName
	if m := datedName().FindStringSubmatch(name); m != nil {
		name = m[1]
	}
	if !operationName().MatchString(name) {
		return ""
	}
	a := src + ":" + name
	if b, ok := eventActions[a]; ok {
		return b
	}
	return a
}

// eventActions are the calls IAM authorizes by an action of another name
// than the operation's.
var eventActions = map[string]string{
	"s3:ListBuckets":        "s3:ListAllMyBuckets",
	"s3:ListObjects":        "s3:ListBucket",
	"s3:ListObjectsV2":      "s3:ListBucket",
	"s3:HeadBucket":         "s3:ListBucket",
	"s3:HeadObject":         "s3:GetObject",
	"s3:ListObjectVersions": "s3:ListBucketVersions",
}

// usedFrom fills h's actions, services, denied actions and policy from evs.
func usedFrom(h *Hint, evs []ActivityEvent) {
	h.Events = len(evs)
	used, denied := map[string]bool{}, map[string]bool{}
	for _, e := range evs {
		a := EventAction(e)
		if a == "" {
			continue
		}
		if slices.Contains(deniedCodes, e.ErrorCode) {
			denied[a] = true
		} else {
			used[a] = true
		}
	}
	h.Actions, h.Denied = sortedKeys(used), []string{}
	for a := range denied {
		if !used[a] {
			h.Denied = append(h.Denied, a)
		}
	}
	slices.Sort(h.Denied)
	h.Services = servicesOf(h.Actions)
	h.Policy = MinimalPolicy(h.Actions)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func servicesOf(actions []string) []string {
	out := []string{}
	for _, a := range actions {
		p, _, _ := strings.Cut(a, ":")
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// MinimalPolicy returns an IAM policy document, indented, that allows
// exactly actions on any resource; "" when there are none.
func MinimalPolicy(actions []string) string {
	if len(actions) == 0 {
		return ""
	}
	type statement struct {
		Effect   string   `json:"Effect"`
		Action   []string `json:"Action"`
		Resource string   `json:"Resource"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		Statement []statement `json:"Statement"`
	}{"2012-10-17", []statement{{Effect: "Allow", Action: actions, Resource: "*"}}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// hintSummary says h in one sentence: "used 7 actions of 3 services;
// ReadOnlyAccess grants about 2,000 actions; a permission set with these
// actions would have been enough".
func hintSummary(h *Hint) string {
	used := fmt.Sprintf("used %s of %s", countOf(len(h.Actions), "action"), countOf(len(h.Services), "service"))
	if len(h.Actions) == 0 {
		used = "used no actions"
	}
	var b strings.Builder
	b.WriteString(used)
	if g := h.Granted; g != nil {
		fmt.Fprintf(&b, "; %s grants %s", h.PermissionSet, grantedText(*g))
		if len(h.Actions) > 0 && g.Actions > len(h.Actions) {
			b.WriteString("; a permission set with these actions would have been enough")
		}
	} else if h.GrantError != "" {
		fmt.Fprintf(&b, "; what %s grants could not be read", h.PermissionSet)
	}
	if len(h.Denied) > 0 {
		fmt.Fprintf(&b, " (%s refused)", countOf(len(h.Denied), "action"))
	}
	if !h.Settled {
		b.WriteString(" (so far: CloudTrail may still deliver events)")
	}
	return b.String()
}

func grantedText(g Granted) string {
	if g.All {
		return "every action (" + thousands(g.Actions) + " counted)"
	}
	return thousands(g.Actions) + " actions of " + countOf(g.Services, "service")
}

func countOf(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return thousands(n) + " " + word + "s"
}

// thousands writes n with comma separators: 2,013.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// PermissionSetUsage is how much of what one permission set grants its
// ended tickets used.
type PermissionSetUsage struct {
	PermissionSet string `json:"permission_set"`
	// Tickets is how many ended tickets' hints are counted.
	Tickets int `json:"tickets"`
	// Pending is how many ended tickets' hints are not computed yet.
	Pending int `json:"pending"`
	// Actions is the union of the actions those tickets used, sorted.
	Actions  []string `json:"actions"`
	Services []string `json:"services"`
	// Granted is the largest count of granted actions among the hints
	// (0 when none could be read); All says one grants every action.
	Granted int  `json:"granted"`
	All     bool `json:"all"`
	// Ratio is len(Actions)/Granted (0 when Granted is 0).
	Ratio float64 `json:"ratio"`
	// Policy allows exactly Actions, ready to copy.
	Policy string `json:"policy"`
}

// Usage is the least-privilege report across ended tickets.
type Usage struct {
	ComputedAt     time.Time            `json:"computed_at"`
	PermissionSets []PermissionSetUsage `json:"permission_sets"`
}

// Usage returns, per permission set, how many of its granted actions its
// ended (expired or terminated) tickets used, lowest ratio first: the sets
// used far below what they grant. It reads the newest ended tickets the
// store lists per state, uses their stored hints and computes up to
// hintComputeMax missing ones per call (counting the rest as Pending).
// Administrators only. Errors: EUNAUTHENTICATED, EFORBIDDEN, EUNAVAILABLE.
func (s *Service) Usage(ctx context.Context) (*Usage, error) {
	if _, err := s.admin(ctx); err != nil {
		return nil, err
	}
	by := map[string]*PermissionSetUsage{}
	used := map[string]map[string]bool{}
	computed := 0
	for _, st := range []State{StateExpired, StateTerminated} {
		ts, err := s.cfg.Store.Tickets(ctx, TicketFilter{State: st})
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !wasActive(t) {
				continue
			}
			u := by[t.PermissionSet]
			if u == nil {
				u = &PermissionSetUsage{PermissionSet: t.PermissionSet}
				by[t.PermissionSet], used[t.PermissionSet] = u, map[string]bool{}
			}
			h := t.Hint
			if h == nil || !h.Settled {
				if computed >= hintComputeMax || s.cfg.Activity == nil {
					u.Pending++
					continue
				}
				computed++
				if h, err = s.hintOf(ctx, t); err != nil {
					if ErrorCode(err) == EINTERNAL {
						return nil, err
					}
					u.Pending++
					continue
				}
			}
			u.Tickets++
			for _, a := range h.Actions {
				used[t.PermissionSet][a] = true
			}
			if g := h.Granted; g != nil {
				u.Granted, u.All = max(u.Granted, g.Actions), u.All || g.All
			}
		}
	}
	out := &Usage{ComputedAt: s.now(), PermissionSets: []PermissionSetUsage{}}
	for name, u := range by {
		u.Actions = sortedKeys(used[name])
		u.Services = servicesOf(u.Actions)
		u.Policy = MinimalPolicy(u.Actions)
		if u.Granted > 0 {
			u.Ratio = float64(len(u.Actions)) / float64(u.Granted)
		}
		out.PermissionSets = append(out.PermissionSets, *u)
	}
	slices.SortFunc(out.PermissionSets, func(a, b PermissionSetUsage) int {
		return cmp.Or(cmp.Compare(a.Ratio, b.Ratio), strings.Compare(a.PermissionSet, b.PermissionSet))
	})
	return out, nil
}
