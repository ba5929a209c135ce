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
// and where ("identity-based policy" or "session policy") say why, in the
// words of AWS's AccessDenied messages.
type decision struct {
	allowed  bool
	explicit bool
	where    string
}

const (
	inIdentityPolicy = "identity-based policy"
	inSessionPolicy  = "session policy"
	inSCP            = "service control policy"
)

// orgDenies applies organization-level policies (SCPs) to req: a matching
// Deny statement denies; their Allow statements never grant, so when none
// denies the caller's own policies decide.
func orgDenies(org []*policy, req evalRequest) (decision, bool) {
	for _, p := range org {
		if _, deny := p.match(req); deny {
			return decision{explicit: true, where: inSCP}, true
		}
	}
	return decision{}, false
}

// evaluate applies AWS's logic for a role session: an explicit Deny in any
// policy wins; otherwise the identity policies must allow and, if there is
// a session policy, so must it.
func evaluate(identity []*policy, session *policy, req evalRequest) decision {
	idAllow := false
	for _, p := range identity {
		allow, deny := p.match(req)
		if deny {
			return decision{explicit: true, where: inIdentityPolicy}
		}
		idAllow = idAllow || allow
	}
	sessAllow := true
	if session != nil {
		allow, deny := session.match(req)
		if deny {
			return decision{explicit: true, where: inSessionPolicy}
		}
		sessAllow = allow
	}
	switch {
	case !idAllow:
		return decision{where: inIdentityPolicy}
	case !sessAllow:
		return decision{where: inSessionPolicy}
	}
	return decision{allowed: true}
}

// reason phrases a denial for action as AWS's messages do.
func (d decision) reason(action string) string {
	if d.explicit {
		article := "an"
		if d.where == inSessionPolicy || d.where == inSCP {
			article = "a"
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
	if anyMatch(st.resources, req.resource, false) == st.notResource {
		return false
	}
	for _, c := range st.conditions {
		if !c.holds(req.context) {
			return false
		}
	}
	return true
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// holds evaluates one condition. A missing key makes it false, except for
// IfExists operators, negated operators and ForAllValues, which AWS
// treats as true when the key is absent; Null tests presence itself.
func (c condition) holds(ctx map[string][]string) bool {
	vals, present := ctx[c.key]
	if c.op == "Null" {
		for _, v := range c.values {
			if (v == "true") == !present {
				return true
			}
		}
		return false
	}
	if !present || len(vals) == 0 {
		return c.ifExists || operators[c.op] || c.set == "ForAllValues"
	}
	one := func(v string) bool {
		hit := false
		for _, want := range c.values {
			if compare(c.op, v, want) {
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

// compare applies the positive form of op to a context value and a
// policy value (negation is done by the caller).
func compare(op, got, want string) bool {
	switch op {
	case "StringEquals", "StringNotEquals", "BinaryEquals":
		return got == want
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return strings.EqualFold(got, want)
	case "StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		return wildMatch(want, got, false)
	case "Bool":
		return strings.EqualFold(got, want)
	case "IpAddress", "NotIpAddress":
		pfx, err1 := parseIPPrefix(want)
		addr, err2 := netip.ParseAddr(got)
		return err1 == nil && err2 == nil && pfx.Contains(addr)
	}
	if strings.HasPrefix(op, "Numeric") {
		g, err1 := strconv.ParseFloat(got, 64)
		w, err2 := strconv.ParseFloat(want, 64)
		return err1 == nil && err2 == nil && ordered(op[len("Numeric"):], cmpFloat(g, w))
	}
	if strings.HasPrefix(op, "Date") {
		g, ok1 := parseDate(got)
		w, ok2 := parseDate(want)
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

// wildMatch matches s against pattern, where * matches any run of
// characters and ? any single character.
func wildMatch(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	p, str := []rune(pattern), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case pi < len(p) && p[pi] == '*': // before the literal case: a '*' in s must not use it up
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == str[si]):
			pi++
			si++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
