package sandbox

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Policy evaluation: AWS's decision logic for a role session.

// evalRequest is what a policy is evaluated against: the action, the
// resource ARN ("*" for actions without one) and the request context,
// keyed by lower-case condition key.
type evalRequest struct {
	action   string
	resource string
	context  map[string][]string
}

// decision is the outcome of evaluating a request. When denied, explicit
// and where ("identity-based policy", "session policy", ...) say why, in
// the words of AWS's AccessDenied messages.
type decision struct {
	allowed  bool
	explicit bool
	where    string
}

const (
	inIdentityPolicy = "identity-based policy"
	inSessionPolicy  = "session policy"
	inSCP            = "service control policy"
	inBoundary       = "permissions boundary"
)

// policySet is every policy AWS weighs for a request of a principal in a
// member account of an organization (IAM User Guide, "Policy evaluation
// logic", "Determining whether a request is allowed or denied within an
// account").
type policySet struct {
	// scps are the service control policies in force. Like AWS they are
	// allow lists: an action none of them allows is implicitly denied.
	// With fullAccess, AWS's FullAWSAccess SCP is in force too, so only
	// their Deny statements matter.
	scps       []*policy
	fullAccess bool
	identity   []*policy // inline and managed policies of the user or role
	boundary   *policy   // the permissions boundary, nil for none
	// session holds the session policies (inline and PolicyArns); when
	// hasSession, at least one of them must allow.
	session    []*policy
	hasSession bool
}

// evaluate applies AWS's logic: an explicit Deny in any policy wins; then
// an SCP, the identity policies, the permissions boundary (if any) and
// the session policies (if any) must each allow.
func (ps policySet) evaluate(req evalRequest) decision {
	type layer struct {
		where    string
		policies []*policy
		present  bool // false: the layer does not restrict
	}
	layers := []layer{
		{inSCP, ps.scps, !ps.fullAccess},
		{inIdentityPolicy, ps.identity, true},
		{inBoundary, []*policy{ps.boundary}, ps.boundary != nil},
		{inSessionPolicy, ps.session, ps.hasSession},
	}
	allowed := make([]bool, len(layers))
	for i, l := range layers {
		for _, p := range l.policies {
			if p == nil {
				continue
			}
			allow, deny := p.match(req)
			if deny {
				return decision{explicit: true, where: l.where}
			}
			allowed[i] = allowed[i] || allow
		}
	}
	for i, l := range layers {
		if l.present && !allowed[i] {
			return decision{where: l.where}
		}
	}
	return decision{allowed: true}
}

// reason phrases a denial for action as AWS's messages do.
func (d decision) reason(action string) string {
	if d.explicit {
		article := "a"
		if d.where == inIdentityPolicy {
			article = "an"
		}
		return "with an explicit deny in " + article + " " + d.where
	}
	return "because no " + d.where + " allows the " + action + " action"
}

// match reports whether any statement of p allows or denies req.
func (p *policy) match(req evalRequest) (allow, deny bool) {
	for _, st := range p.statements {
		if !st.applies(req) {
			continue
		}
		if st.deny {
			deny = true
		} else {
			allow = true
		}
	}
	return allow, deny
}

func (st statement) applies(req evalRequest) bool {
	if anyMatch(st.actions, req.action, true) == st.notAction {
		return false
	}
	if st.resourceMatch(req) == st.notResource {
		return false
	}
	for _, c := range st.conditions {
		if !c.holds(req.context, st.vars) {
			return false
		}
	}
	return true
}

// resourceMatch reports whether one of the statement's Resource (or
// NotResource) entries names req.resource. "*" matches every resource;
// an ARN matches component by component (IAM User Guide, "IAM JSON
// policy elements: Resource": wildcards match within one of the six
// colon-delimited components, never across them).
func (st statement) resourceMatch(req evalRequest) bool {
	for _, r := range st.resources {
		if r == "*" {
			return true
		}
		pat, ok := expand(r, req.context, st.vars)
		if ok && arnMatch(pat, req.resource) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// holds evaluates one condition (IAM User Guide, "IAM JSON policy
// elements: Condition operators" and "Single-valued vs. multivalued
// context keys"). A missing or empty key makes it false, except for
// IfExists operators, plain negated operators and ForAllValues, which
// are true then; ForAnyValue is false then, negated or not. Null tests
// presence itself.
func (c condition) holds(ctx map[string][]string, vars bool) bool {
	vals, present := ctx[c.key]
	if c.op == "Null" {
		for _, v := range c.values {
			if (v == "true") == (!present || len(vals) == 0) {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		switch {
		case c.ifExists, c.set == "ForAllValues":
			return true
		case c.set == "ForAnyValue":
			return false
		}
		return operators[c.op]
	}
	// Policy variables resolve in string and ARN operators' values; a
	// value whose variable has no value and no default matches nothing.
	type value struct {
		raw string
		pat []ptok
	}
	wants := make([]value, 0, len(c.values))
	for _, raw := range c.values {
		if !variableOp(c.op) {
			wants = append(wants, value{raw, literal(raw)})
			continue
		}
		if t, ok := expand(raw, ctx, vars); ok {
			wants = append(wants, value{raw, t})
		}
	}
	one := func(v string) bool {
		hit := false
		for _, want := range wants {
			if compare(c.op, v, want.raw, want.pat) {
				hit = true
				break
			}
		}
		if operators[c.op] {
			return !hit
		}
		return hit
	}
	if c.set == "ForAllValues" {
		for _, v := range vals {
			if !one(v) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if one(v) {
			return true
		}
	}
	return false
}

// variableOp reports whether op's values may hold policy variables.
func variableOp(op string) bool {
	return strings.HasPrefix(op, "String") || strings.HasPrefix(op, "Arn")
}

// compare applies the positive form of op to a context value and a
// policy value (raw as written, pat after policy variables; negation is
// done by the caller).
func compare(op, got, raw string, pat []ptok) bool {
	switch op {
	case "StringEquals", "StringNotEquals":
		return tokEqual(pat, got, false)
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return tokEqual(pat, got, true)
	case "BinaryEquals":
		return got == raw
	case "StringLike", "StringNotLike":
		return tokMatch(pat, []rune(got), false)
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		return arnMatch(pat, got)
	case "Bool":
		return strings.EqualFold(got, raw)
	case "IpAddress", "NotIpAddress":
		pfx, err1 := parseIPPrefix(raw)
		addr, err2 := netip.ParseAddr(got)
		return err1 == nil && err2 == nil && pfx.Contains(addr)
	}
	if strings.HasPrefix(op, "Numeric") {
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(raw, 64)
		return err1 == nil && err2 == nil && ordered(op[len("Numeric"):], cmpFloat(g, w))
	}
	if strings.HasPrefix(op, "Date") {
		g, ok1 := parseDate(got)
		w, ok2 := parseDate(raw)
		return ok1 && ok2 && ordered(op[len("Date"):], g.Compare(w))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ordered maps a comparison suffix ("Equals", "LessThan", ...) and a
// three-way comparison result to a boolean.
func ordered(suffix string, c int) bool {
	switch suffix {
	case "Equals", "NotEquals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// parseDate accepts the ISO 8601 forms IAM accepts and epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func parseIPPrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
