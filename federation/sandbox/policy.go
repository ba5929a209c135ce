package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// policy is a parsed IAM policy document (role inline or session policy).
type policy struct {
	statements []statement
}

type statement struct {
	sid string
	// vars is set for policies of Version 2012-10-17, the only version in
	// which ${...} is a policy variable (in 2008-10-17 it is literal text).
	vars        bool
	deny        bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
	conditions  []condition
}

// condition is one operator/key pair of a Condition block: the values are
// ORed, and the conditions of a statement are ANDed.
type condition struct {
	op       string // base operator, e.g. "StringEquals"
	ifExists bool
	set      string // "", "ForAllValues" or "ForAnyValue"
	key      string // lower case: condition keys are case-insensitive
	values   []string
}

// operators are the condition operators the sandbox evaluates, mapped to
// whether they are negated (a missing key then makes them true).
var operators = map[string]bool{
	"StringEquals": false, "StringNotEquals": true,
	"StringEqualsIgnoreCase": false, "StringNotEqualsIgnoreCase": true,
	"StringLike": false, "StringNotLike": true,
	"NumericEquals": false, "NumericNotEquals": true,
	"NumericLessThan": false, "NumericLessThanEquals": false,
	"NumericGreaterThan": false, "NumericGreaterThanEquals": false,
	"DateEquals": false, "DateNotEquals": true,
	"DateLessThan": false, "DateLessThanEquals": false,
	"DateGreaterThan": false, "DateGreaterThanEquals": false,
	"Bool": false, "BinaryEquals": false,
	"IpAddress": false, "NotIpAddress": true,
	"ArnEquals": false, "ArnLike": false, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": false,
}

var actionRe = lazy(`^([a-zA-Z0-9-]+:[a-zA-Z0-9*?]+|\*)$`)

// maxRolePolicyBytes is IAM's budget for all inline policies of a role
// together, whitespace not counted.
const maxRolePolicyBytes = 10240

// policySize counts doc's characters the way IAM's inline policy quota
// does: whitespace is not counted.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// parsePolicy parses and validates an identity-based or session policy.
// Errors carry the MalformedPolicyDocument message. allowPrincipal is
// false for every policy the sandbox takes today (identity and session
// policies may not name a principal).
func parsePolicy(doc string, allowPrincipal bool) (*policy, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var top map[string]any
	if err := dec.Decode(&top); err != nil || dec.More() {
		return nil, errors.New("Syntax errors in policy.")
	}
	for k := range top {
		if k != "Version" && k != "Id" && k != "Statement" {
			return nil, fmt.Errorf("Syntax errors in policy. Unknown field %s", k)
		}
	}
	if v, ok := top["Version"]; ok && v != "2012-10-17" && v != "2008-10-17" {
		return nil, errors.New("The policy failed legacy parsing")
	}
	vars := top["Version"] == "2012-10-17"
	raw, ok := top["Statement"]
	if !ok {
		return nil, errors.New("Missing required field Statement")
	}
	var list []any
	switch v := raw.(type) {
	case []any:
		list = v
	case map[string]any:
		list = []any{v}
	default:
		return nil, errors.New("Syntax errors in policy.")
	}
	if len(list) == 0 {
		return nil, errors.New("Missing required field Statement")
	}
	p := &policy{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, errors.New("Syntax errors in policy.")
		}
		st, err := parseStatement(m, allowPrincipal)
		if err != nil {
			return nil, err
		}
		st.vars = vars
		p.statements = append(p.statements, st)
	}
	return p, nil
}

func parseStatement(m map[string]any, allowPrincipal bool) (statement, error) {
	var st statement
	for k := range m {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition":
		case "Principal", "NotPrincipal":
			if !allowPrincipal {
				return st, errors.New("Policy document should not specify a principal.")
			}
		default:
			return st, fmt.Errorf("Syntax errors in policy. Unknown field %s", k)
		}
	}
	if sid, ok := m["Sid"]; ok {
		s, ok := sid.(string)
		if !ok {
			return st, errors.New("Syntax errors in policy.")
		}
		st.sid = s
	}
	switch m["Effect"] {
	case "Allow":
	case "Deny":
		st.deny = true
	case nil:
		return st, errors.New("Missing required field Effect")
	default:
		return st, fmt.Errorf("Invalid effect: %v", m["Effect"])
	}
	var err error
	if st.actions, st.notAction, err = exactlyOne(m, "Action", "NotAction"); err != nil {
		return st, err
	}
	for _, a := range st.actions {
		if !actionRe.MatchString(a) {
			return st, errors.New("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
		}
	}
	if st.resources, st.notResource, err = exactlyOne(m, "Resource", "NotResource"); err != nil {
		return st, err
	}
	for _, r := range st.resources {
		if r != "*" && !strings.HasPrefix(r, "arn:") {
			return st, fmt.Errorf("Resource %s must be in ARN format or \"*\".", r)
		}
	}
	if c, ok := m["Condition"]; ok {
		if st.conditions, err = parseConditions(c); err != nil {
			return st, err
		}
	}
	return st, nil
}

// exactlyOne reads the field named pos or neg (never both) as a list of
// strings; negated reports that neg was the one present.
func exactlyOne(m map[string]any, pos, neg string) (vals []string, negated bool, err error) {
	pv, hasPos := m[pos]
	nv, hasNeg := m[neg]
	switch {
	case hasPos && hasNeg:
		return nil, false, fmt.Errorf("Syntax errors in policy. A statement may not have both %s and %s.", pos, neg)
	case !hasPos && !hasNeg:
		return nil, false, fmt.Errorf("Missing required field %s", pos)
	case hasNeg:
		pv, negated = nv, true
	}
	vals, ok := stringList(pv, false)
	if !ok || len(vals) == 0 {
		return nil, false, errors.New("Syntax errors in policy.")
	}
	return vals, negated, nil
}

// stringList reads a string or a list of strings; scalars (numbers and
// booleans, as condition values may be) are allowed when scalars is set.
func stringList(v any, scalars bool) ([]string, bool) {
	one := func(x any) (string, bool) {
		switch t := x.(type) {
		case string:
			return t, true
		case json.Number:
			return t.String(), scalars
		case bool:
			return strconv.FormatBool(t), scalars
		}
		return "", false
	}
	if l, ok := v.([]any); ok {
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := one(x)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	s, ok := one(v)
	return []string{s}, ok
}

func parseConditions(v any) ([]condition, error) {
	block, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("Syntax errors in policy.")
	}
	var out []condition
	ops := make([]string, 0, len(block))
	for op := range block {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, full := range ops {
		c := condition{op: full}
		if set, rest, ok := strings.Cut(c.op, ":"); ok {
			if set != "ForAllValues" && set != "ForAnyValue" {
				return nil, fmt.Errorf("Invalid Condition type : %s.", full)
			}
			c.set, c.op = set, rest
		}
		if base, ok := strings.CutSuffix(c.op, "IfExists"); ok && c.op != "Null" {
			c.op, c.ifExists = base, true
		}
		if _, known := operators[c.op]; !known || (c.ifExists && c.op == "Null") {
			return nil, fmt.Errorf("Invalid Condition type : %s.", full)
		}
		keys, ok := block[full].(map[string]any)
		if !ok || len(keys) == 0 {
			return nil, errors.New("Syntax errors in policy.")
		}
		for key, raw := range keys {
			vals, ok := stringList(raw, true)
			if !ok || len(vals) == 0 || !strings.Contains(key, ":") {
				return nil, fmt.Errorf("Syntax errors in policy. Invalid value for condition key %s", key)
			}
			for _, val := range vals {
				if err := checkConditionValue(c.op, val); err != nil {
					return nil, err
				}
			}
			cc := c
			cc.key, cc.values = strings.ToLower(key), vals
			out = append(out, cc)
		}
	}
	return out, nil
}

// checkConditionValue rejects values the operator can never match, e.g.
// a date that does not parse. (AWS may accept these and never match;
// the sandbox is stricter so that a typo in a deny entry is caught.)
func checkConditionValue(op, v string) error {
	switch {
	case strings.HasPrefix(op, "Date"):
		if _, ok := parseDate(v); !ok {
			return fmt.Errorf("Invalid date value %q for condition operator %s.", v, op)
		}
	case strings.HasPrefix(op, "Numeric"):
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return fmt.Errorf("Invalid numeric value %q for condition operator %s.", v, op)
		}
	case op == "Bool", op == "Null":
		if v != "true" && v != "false" {
			return fmt.Errorf("Invalid boolean value %q for condition operator %s.", v, op)
		}
	case strings.HasSuffix(op, "IpAddress"):
		if _, err := parseIPPrefix(v); err != nil {
			return fmt.Errorf("Invalid IP address %q for condition operator %s.", v, op)
		}
	}
	return nil
}
