package sandbox

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// validation collects model-constraint violations the way AWS's Query
// services report them: "N validation error(s) detected: Value '...' at
// 'member' failed to satisfy constraint: ...; ...".
type validation struct {
	errs []string
}

func (v *validation) add(value any, member, constraint string) {
	val := "null"
	if s, ok := value.(string); ok {
		val = "'" + s + "'"
	} else if value != nil {
		val = fmt.Sprintf("'%v'", value)
	}
	v.errs = append(v.errs, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", val, member, constraint))
}

// str checks a string member's length and pattern. present=false with
// required=true reports "must not be null".
func (v *validation) str(s string, present, required bool, member string, min, max int, pattern *lazyRe) {
	if !present {
		if required {
			v.add(nil, member, "Member must not be null")
		}
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < min:
		v.add(s, member, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	case max > 0 && n > max:
		v.add(s, member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	if pattern != nil && !pattern.MatchString(s) {
		v.add(s, member, "Member must satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(pattern.String(), "^(?:"), ")$"))
	}
}

// intRange parses and range-checks an optional integer member; it returns
// def when absent and ok=false on a violation.
func (v *validation) intRange(raw string, present bool, member string, min, max, def int) (int, bool) {
	if !present {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		v.add(raw, member, "Member must be an integer")
		return 0, false
	case n < min:
		v.add(n, member, fmt.Sprintf("Member must have value greater than or equal to %d", min))
		return 0, false
	case n > max:
		v.add(n, member, fmt.Sprintf("Member must have value less than or equal to %d", max))
		return 0, false
	}
	return n, true
}

func (v *validation) err() *apiError {
	switch len(v.errs) {
	case 0:
		return nil
	case 1:
		return errorf(400, "ValidationError", "1 validation error detected: %s", v.errs[0])
	}
	return errorf(400, "ValidationError", "%d validation errors detected: %s", len(v.errs), strings.Join(v.errs, "; "))
}

// modelRe compiles a pattern from the API model, anchored as the model's
// patterns are applied to the whole value.
func modelRe(p string) *lazyRe { return lazy(`^(?:` + p + `)$`) }

// lazyRe is a regular expression compiled on its first use. The sandbox is
// linked into the jit binary, whose client commands (jit credentials, on
// every AWS CLI call) should not pay at start for compiling the sandbox's
// patterns (the models' Unicode classes are most of the package's
// initialisation).
type lazyRe struct {
	src string
	re  func() *regexp.Regexp
}

// lazy returns src, to be compiled on first use.
func lazy(src string) *lazyRe {
	return &lazyRe{src: src, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(src) })}
}

// MatchString is regexp.Regexp's.
func (l *lazyRe) MatchString(s string) bool { return l.re().MatchString(s) }

// String is the expression's source.
func (l *lazyRe) String() string { return l.src }

// formValue returns a form value and whether it was sent at all.
func formValue(f map[string][]string, key string) (string, bool) {
	v, ok := f[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// formList reads a Query list "<name>.member.N[.<field>]": it returns the
// members in N order, each as a map of field -> value ("" for a scalar
// member). present is false when the list was not sent at all; an empty
// list is sent as "<name>=".
func formList(f map[string][]string, name string) (items []map[string]string, present bool) {
	byIndex := map[int]map[string]string{}
	prefix := name + ".member."
	for k, vals := range f {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok || len(vals) == 0 {
			continue
		}
		idx, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(idx)
		if err != nil || n < 1 {
			continue
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]string{}
		}
		byIndex[n][field] = vals[0]
	}
	_, empty := f[name]
	if len(byIndex) == 0 {
		return nil, empty
	}
	keys := make([]int, 0, len(byIndex))
	for n := range byIndex {
		keys = append(keys, n)
	}
	sort.Ints(keys)
	for _, n := range keys {
		items = append(items, byIndex[n])
	}
	return items, true
}
