package sandbox

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	cloudTrailTarget      = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	cloudTrailShortTarget = "CloudTrail_20131101"
	// lookupWindow is how far back LookupEvents sees.
	lookupWindow = 90 * 24 * time.Hour
	// lookupRate is LookupEvents' limit per account and region, per second.
	lookupRate = 2
)

// The CloudTrail slice serves LookupEvents over the trail (trail.go).
func (s *Sandbox) cloudTrailService() *service {
	ops := map[string]jsonHandler{"LookupEvents": s.lookupEvents}
	return &service{
		name:  "cloudtrail",
		proto: jsonProtocol{},
		serve: func(c *call) *apiError {
			// botocore sends the model's full target prefix, the Smithy
			// clients (aws-sdk-go-v2) its short form; AWS takes both.
			if t := c.r.Header.Get("X-Amz-Target"); strings.HasPrefix(t, cloudTrailShortTarget+".") {
				c.r.Header.Set("X-Amz-Target", cloudTrailTarget+t[len(cloudTrailShortTarget):])
			}
			return c.dispatchJSON(cloudTrailTarget, ops)
		},
	}
}

type lookupAttribute struct {
	AttributeKey   *string
	AttributeValue *string
}

type lookupEventsInput struct {
	LookupAttributes []lookupAttribute
	StartTime        json.RawMessage
	EndTime          json.RawMessage
	EventCategory    *string
	MaxResults       *int
	NextToken        *string
}

type lookupEvent struct {
	EventId         string
	EventName       string
	ReadOnly        string
	AccessKeyId     string
	EventTime       float64
	EventSource     string
	Username        string
	Resources       []trailResource
	CloudTrailEvent string
}

type lookupEventsOutput struct {
	Events    []lookupEvent
	NextToken string `json:",omitempty"`
}

// lookupKeys are the attributes LookupEvents filters on.
var lookupKeys = map[string]func(e *trailEvent, v string) bool{
	"EventId":     func(e *trailEvent, v string) bool { return e.id == v },
	"EventName":   func(e *trailEvent, v string) bool { return e.name == v },
	"ReadOnly":    func(e *trailEvent, v string) bool { return strconv.FormatBool(e.readOnly) == v },
	"Username":    func(e *trailEvent, v string) bool { return e.username == v },
	"EventSource": func(e *trailEvent, v string) bool { return e.source == v },
	"AccessKeyId": func(e *trailEvent, v string) bool { return e.accessKeyID == v },
	"ResourceType": func(e *trailEvent, v string) bool {
		for _, r := range e.resources {
			if r.ResourceType == v {
				return true
			}
		}
		return false
	},
	"ResourceName": func(e *trailEvent, v string) bool {
		for _, r := range e.resources {
			if r.ResourceName == v {
				return true
			}
		}
		return false
	},
}

// lookupEvents answers from the caller's account and the request's
// region, newest first, within 90 days, 2 calls a second.
func (s *Sandbox) lookupEvents(c *call) (any, *apiError) {
	if e := s.lookupThrottle(c); e != nil {
		return nil, e
	}
	const action = "cloudtrail:LookupEvents"
	if d := c.authorize(action, "*"); !d.allowed {
		return nil, errorf(400, "AccessDeniedException", "User: %s is not authorized to perform: %s %s", c.caller.arn, action, d.reason(action))
	}
	var in lookupEventsInput
	if e := c.decodeJSON(&in); e != nil {
		return nil, e
	}
	if len(in.LookupAttributes) > 1 {
		return nil, errorf(400, "InvalidLookupAttributesException", "You cannot specify more than one lookup attribute per request.")
	}
	var match func(*trailEvent) bool
	for _, a := range in.LookupAttributes {
		key, val := deref(a.AttributeKey), deref(a.AttributeValue)
		f, ok := lookupKeys[key]
		if !ok {
			return nil, errorf(400, "InvalidLookupAttributesException", "Invalid attribute key: %s", key)
		}
		// The model counts some characters double toward the 2000
		// limit; the sandbox counts them once (documented as a hint).
		if a.AttributeValue == nil || val == "" || utf8.RuneCountInString(val) > 2000 {
			return nil, errorf(400, "InvalidLookupAttributesException", "The attribute value for %s must be 1 to 2000 characters.", key)
		}
		if key == "ReadOnly" && val != "true" && val != "false" {
			// Stricter reading (UNCONFIRMED): AWS's error for other
			// values is not documented.
			return nil, errorf(400, "InvalidLookupAttributesException", "The attribute value for ReadOnly must be true or false.")
		}
		match = func(e *trailEvent) bool { return f(e, val) }
	}
	end, endSet, err := epochTime(in.EndTime)
	if err != nil {
		return nil, errorf(400, "SerializationException", "EndTime: %v", err)
	}
	start, startSet, err := epochTime(in.StartTime)
	if err != nil {
		return nil, errorf(400, "SerializationException", "StartTime: %v", err)
	}
	if startSet && endSet && start.After(end) {
		return nil, errorf(400, "InvalidTimeRangeException", "Start time must be before end time.")
	}
	if !endSet || end.After(c.now) {
		end = c.now
	}
	if floor := c.now.Add(-lookupWindow); !startSet || start.Before(floor) {
		start = floor
	}
	maxResults := 50
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 50 {
			return nil, errorf(400, "InvalidMaxResultsException", "MaxResults must be between 1 and 50, got %d.", *in.MaxResults)
		}
		maxResults = *in.MaxResults
	}
	if in.EventCategory != nil && *in.EventCategory != "insight" {
		return nil, errorf(400, "InvalidEventCategoryException", "Invalid event category: %s", *in.EventCategory)
	}
	region := c.auth.region
	params := lookupParams(c.caller.account, region, in)
	var after *pageCursor
	if in.NextToken != nil {
		pos, ok := s.readPageToken(params, *in.NextToken, 2)
		if !ok {
			return nil, errorf(400, "InvalidNextTokenException", "Invalid NextToken: it does not belong to a call with these parameters.")
		}
		after = &pageCursor{unixNano: pos[0], seq: pos[1]}
	}
	out := lookupEventsOutput{Events: []lookupEvent{}}
	if in.EventCategory != nil {
		return out, nil // the sandbox records no Insights events
	}
	evs := slices.Clone(s.trail.events[c.caller.account])
	slices.SortStableFunc(evs, func(a, b *trailEvent) int { // newest first
		return cmp.Or(b.time.Compare(a.time), cmp.Compare(b.seq, a.seq))
	})
	var last *trailEvent
	for _, e := range evs {
		if after != nil && !after.before(e) {
			continue
		}
		if e.region != region || e.deliverAt.After(c.now) || e.time.Before(start) || e.time.After(end) || (match != nil && !match(e)) {
			continue
		}
		if len(out.Events) == maxResults {
			out.NextToken = s.pageToken(params, last.time.UnixNano(), last.seq)
			break
		}
		last = e
		out.Events = append(out.Events, lookupEvent{
			EventId: e.id, EventName: e.name, ReadOnly: strconv.FormatBool(e.readOnly), AccessKeyId: e.accessKeyID,
			EventTime: float64(e.time.Unix()), EventSource: e.source, Username: e.username,
			Resources: e.resources, CloudTrailEvent: e.doc,
		})
	}
	return out, nil
}

// lookupThrottle admits at most lookupRate calls per second per account
// and region, on the sandbox clock. Throttled calls do not count.
func (s *Sandbox) lookupThrottle(c *call) *apiError {
	key := c.caller.account + "|" + c.auth.region
	var recent []time.Time
	for _, t := range s.trail.lookups[key] {
		if c.now.Sub(t) < time.Second && !t.After(c.now) {
			recent = append(recent, t)
		}
	}
	if len(recent) >= lookupRate {
		s.trail.lookups[key] = recent
		return errorf(400, "ThrottlingException", "Rate exceeded")
	}
	s.trail.lookups[key] = append(recent, c.now)
	return nil
}

// pageCursor is the last event of a page: the next page starts below it.
type pageCursor struct {
	unixNano int64
	seq      int64
}

// before reports whether e comes after the cursor in newest-first order.
func (p pageCursor) before(e *trailEvent) bool {
	t := e.time.UnixNano()
	return t < p.unixNano || (t == p.unixNano && e.seq < p.seq)
}

// lookupParams binds a page token to everything but NextToken (MaxResults
// too: CloudTrail refuses a token "used in a request with different
// parameters"), the account and the region (pagetoken.go).
func lookupParams(account, region string, in lookupEventsInput) string {
	in.NextToken = nil
	b, _ := json.Marshal(in)
	return pageBinding("cloudtrail:LookupEvents", account, region, string(b))
}

// epochTime reads a JSON 1.1 timestamp: epoch seconds, possibly
// fractional (the SDKs), or an ISO 8601 string (accepted leniently).
func epochTime(raw json.RawMessage) (time.Time, bool, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, false, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		if t, ok := parseDate(str); ok {
			return t.UTC(), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("not a timestamp: %s", raw)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
