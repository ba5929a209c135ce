package sandbox

import (
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The trail records a CloudTrail management event for every authenticated
// call (IAM users and minted sessions, succeeded or failed), in the
// caller's account and region, and for AssumeRole also in the role's
// account when that differs. LookupEvents (cloudtrail.go) reads it back.

// trail is the sandbox's event history, guarded by s.mu.
type trail struct {
	delay   time.Duration // delivery delay of new events
	seq     int64
	events  map[string][]*trailEvent // by account, in recording order
	lookups map[string][]time.Time   // LookupEvents calls by account|region, last second
}

// trailEvent is one recorded event with the fields LookupEvents filters on.
type trailEvent struct {
	seq         int64
	region      string
	id          string
	name        string
	readOnly    bool
	accessKeyID string
	time        time.Time
	deliverAt   time.Time
	source      string
	username    string
	resources   []trailResource
	doc         string // the CloudTrailEvent JSON
}

type trailResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

// cloudTrailEvent is the CloudTrailEvent document, in AWS's field order.
type cloudTrailEvent struct {
	EventVersion       string          `json:"eventVersion"`
	UserIdentity       userIdentity    `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestParameters  any             `json:"requestParameters"`
	ResponseElements   any             `json:"responseElements"`
	AdditionalData     any             `json:"additionalEventData,omitempty"`
	RequestID          string          `json:"requestID"`
	EventID            string          `json:"eventID"`
	ReadOnly           bool            `json:"readOnly"`
	Resources          []eventResource `json:"resources,omitempty"`
	EventType          string          `json:"eventType"`
	ManagementEvent    bool            `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
}

type userIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *sessionContext `json:"sessionContext,omitempty"`
}

type sessionContext struct {
	SourceIdentity string `json:"sourceIdentity,omitempty"`
	SessionIssuer  struct {
		Type        string `json:"type"`
		PrincipalID string `json:"principalId"`
		ARN         string `json:"arn"`
		AccountID   string `json:"accountId"`
		UserName    string `json:"userName"`
	} `json:"sessionIssuer"`
	Attributes struct {
		CreationDate     string `json:"creationDate"`
		MFAAuthenticated string `json:"mfaAuthenticated"`
	} `json:"attributes"`
}

type eventResource struct {
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type"`
	ARN       string `json:"ARN"`
}

func newTrail(delay time.Duration) *trail {
	return &trail{delay: delay, events: map[string][]*trailEvent{}, lookups: map[string][]time.Time{}}
}

// SetTrailDelay sets how long new CloudTrail events take to become
// visible to LookupEvents (AWS: about 5 minutes on average, no SLA).
func (s *Sandbox) SetTrailDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trail.delay = max(d, 0)
}

// recordCall records the event of an authenticated call (s.mu held),
// whatever its outcome. Requests that name no operation are not events.
func (s *Sandbox) recordCall(c *call, apiErr *apiError) {
	if c.minted != nil && c.caller.session != nil {
		s.consoles.chained[c.minted.accessKeyID] = true
	}
	if c.action == "" || strings.ContainsAny(c.action, " /") {
		return
	}
	p := c.caller
	region := c.auth.region
	ev := cloudTrailEvent{
		EventVersion:      "1.08",
		UserIdentity:      s.identityOf(p, c.auth.accessKeyID),
		EventTime:         c.now.Format(time.RFC3339),
		EventSource:       c.svc.name + ".amazonaws.com",
		EventName:         c.action,
		AWSRegion:         region,
		SourceIPAddress:   sourceIP(c),
		UserAgent:         c.r.UserAgent(),
		RequestParameters: requestParameters(c),
		RequestID:         c.reqID,
		ReadOnly:          readOnlyAction(c.action),
		EventType:         "AwsApiCall",
		ManagementEvent:   true,
		EventCategory:     "Management",
	}
	if apiErr != nil {
		ev.ErrorCode, ev.ErrorMessage = apiErr.Code, apiErr.Message
		if _, ok := c.svc.proto.(ec2Protocol); ok {
			// EC2 records its codes with the fault side as a prefix.
			side := "Client."
			if apiErr.Status >= 500 {
				side = "Server."
			}
			ev.ErrorCode = side + apiErr.Code
		}
	}
	var resources []trailResource
	target := ""
	switch {
	case c.svc.name == "sts" && c.action == "AssumeRole":
		roleARN := c.form.Get("RoleArn")
		if parts := strings.SplitN(roleARN, ":", 6); len(parts) == 6 && s.accounts[parts[4]].ID != "" {
			target = parts[4]
		}
		if se := c.minted; se != nil {
			resources = append(resources,
				trailResource{"AWS::IAM::AccessKey", se.accessKeyID},
				trailResource{"AWS::STS::AssumedRole", se.sessionName})
			ev.ResponseElements = map[string]any{
				// AWS also records the session token here; the sandbox
				// leaves it out: secrets never reach audit records.
				"credentials":     map[string]string{"accessKeyId": se.accessKeyID, "expiration": se.expires.UTC().Format(time.RFC3339)},
				"assumedRoleUser": map[string]string{"assumedRoleId": se.userID, "arn": se.arn},
				"sourceIdentity":  se.sourceIdentity,
			}
			ev.Resources = []eventResource{{AccountID: se.account, Type: "AWS::IAM::Role", ARN: se.roleARN}}
		}
		if roleARN != "" {
			resources = append(resources, trailResource{"AWS::IAM::Role", roleARN})
		}
	case c.svc.name == "iam":
		if v := c.form.Get("RoleName"); v != "" {
			resources = append(resources, trailResource{"AWS::IAM::Role", v})
		}
		if v := c.form.Get("PolicyName"); v != "" {
			resources = append(resources, trailResource{"AWS::IAM::Policy", v})
		}
	}
	username := p.userID
	if p.user != nil {
		username = p.user.Name
	} else if p.session != nil {
		username = p.session.sessionName
	}
	s.appendEvent(p.account, region, c.now, c.auth.accessKeyID, ev, resources, username)
	if target != "" && target != p.account {
		// The role's account sees the caller as another AWS account.
		cross := ev
		cross.UserIdentity = userIdentity{Type: "AWSAccount", PrincipalID: p.userID, AccountID: p.account, AccessKeyID: c.auth.accessKeyID}
		if p.session != nil && p.session.sourceIdentity != "" {
			cross.UserIdentity.SessionContext = &sessionContext{SourceIdentity: p.session.sourceIdentity}
		}
		s.appendEvent(target, region, c.now, c.auth.accessKeyID, cross, resources, username)
	}
}

// appendEvent stores one event in account's history.
func (s *Sandbox) appendEvent(account, region string, now time.Time, accessKeyID string, ev cloudTrailEvent, resources []trailResource, username string) {
	t := s.trail
	t.seq++
	ev.EventID = newRequestID()
	ev.RecipientAccountID = account
	doc, _ := json.Marshal(ev)
	evs := t.events[account]
	for len(evs) > 0 && now.Sub(evs[0].time) > lookupWindow {
		evs = evs[1:] // past what LookupEvents can see
	}
	t.events[account] = append(evs, &trailEvent{
		seq: t.seq, region: region, id: ev.EventID, name: ev.EventName, readOnly: ev.ReadOnly,
		accessKeyID: accessKeyID, time: now, deliverAt: now.Add(t.delay),
		source: ev.EventSource, username: username, resources: resources, doc: string(doc),
	})
}

// recordConsoleLogin records a federated console sign-in with se as
// CloudTrail does (s.mu held): a ConsoleLogin event of the session's
// identity, without an access key (the console session has its own), in
// the session's account. Its Username is the session name, so that the
// sign-in shows among the session's activity.
func (s *Sandbox) recordConsoleLogin(se *session, r *http.Request, now time.Time) {
	p := &principal{arn: se.arn, account: se.account, userID: se.userID, session: se}
	id := s.identityOf(p, "")
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	ev := cloudTrailEvent{
		EventVersion: "1.08", UserIdentity: id, EventTime: now.Format(time.RFC3339),
		EventSource: "signin.amazonaws.com", EventName: "ConsoleLogin", AWSRegion: s.region,
		SourceIPAddress: ip, UserAgent: r.UserAgent(),
		ResponseElements: map[string]string{"ConsoleLogin": "Success"},
		AdditionalData:   map[string]string{"MobileVersion": "No", "MFAUsed": "No"},
		RequestID:        newRequestID(), EventType: "AwsConsoleSignIn", ManagementEvent: true, EventCategory: "Management",
	}
	s.appendEvent(se.account, s.region, now, "", ev, nil, se.sessionName)
}

// identityOf is the userIdentity block of an event made by p with key.
func (s *Sandbox) identityOf(p *principal, key string) userIdentity {
	if u := p.user; u != nil {
		return userIdentity{Type: "IAMUser", PrincipalID: u.id, ARN: u.arn, AccountID: u.Account, AccessKeyID: key, UserName: u.Name}
	}
	se := p.session
	id := userIdentity{Type: "AssumedRole", PrincipalID: se.userID, ARN: se.arn, AccountID: se.account, AccessKeyID: key}
	sc := &sessionContext{SourceIdentity: se.sourceIdentity}
	sc.SessionIssuer.Type = "Role"
	sc.SessionIssuer.PrincipalID, _, _ = strings.Cut(se.userID, ":")
	sc.SessionIssuer.ARN = se.roleARN
	sc.SessionIssuer.AccountID = se.account
	if rs := s.roles[se.roleKey]; rs != nil {
		sc.SessionIssuer.UserName = rs.Name
	}
	sc.Attributes.CreationDate = se.issued.UTC().Format(time.RFC3339)
	sc.Attributes.MFAAuthenticated = "false"
	id.SessionContext = sc
	return id
}

// readOnlyAction classifies an operation as CloudTrail's readOnly does.
// AssumeRole and GetCallerIdentity are recorded as read-only by AWS.
func readOnlyAction(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Lookup", "Head", "AssumeRole"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func sourceIP(c *call) string {
	if host, _, err := net.SplitHostPort(c.r.RemoteAddr); err == nil {
		return host
	}
	return c.r.RemoteAddr
}

// requestParameters renders the request's members as CloudTrail does:
// lower camel case names, lists as arrays. Nothing secret is sent in
// request members of the operations the sandbox serves.
func requestParameters(c *call) any {
	switch c.svc.proto.(type) {
	case jsonProtocol:
		var v any
		if err := json.Unmarshal(c.body, &v); err != nil {
			return nil
		}
		if m, ok := lowerCamel(v).(map[string]any); ok && len(m) > 0 {
			return m
		}
		return nil
	case s3Protocol:
		return map[string]any{"Host": c.r.Host}
	}
	root := map[string]any{}
	for k, vals := range c.form {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") || len(vals) == 0 {
			continue
		}
		var path []string
		for _, seg := range strings.Split(k, ".") {
			if seg != "member" {
				path = append(path, seg)
			}
		}
		var val any = vals[0]
		switch path[len(path)-1] {
		case "DurationSeconds", "MaxItems", "MaxResults":
			if n, err := strconv.Atoi(vals[0]); err == nil {
				val = n
			}
		}
		setPath(root, path, val)
	}
	if len(root) == 0 {
		return nil
	}
	return lowerCamel(listify(root))
}

func setPath(m map[string]any, path []string, val any) {
	for _, seg := range path[:len(path)-1] {
		next, ok := m[seg].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
	m[path[len(path)-1]] = val
}

// listify turns maps keyed only by list indexes ("1", "2", ...) into
// arrays in index order.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	idx := make([]int, 0, len(m))
	for k, x := range m {
		m[k] = listify(x)
		if n, err := strconv.Atoi(k); err == nil {
			idx = append(idx, n)
		}
	}
	if len(idx) == 0 || len(idx) != len(m) {
		return m
	}
	sort.Ints(idx)
	out := make([]any, len(idx))
	for i, n := range idx {
		out[i] = m[strconv.Itoa(n)]
	}
	return out
}

func lowerCamel(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if k != "" {
				k = strings.ToLower(k[:1]) + k[1:]
			}
			out[k] = lowerCamel(x)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = lowerCamel(x)
		}
	}
	return v
}
