package sandbox

import "strings"

// Pattern matching for Action, Resource and condition values, with IAM's
// policy variables (IAM User Guide, "IAM policy elements: Variables and
// tags").

// ptok is one element of a compiled pattern: a literal rune, or the
// wildcard '*' (any run of characters) or '?' (any one character).
// fromValue marks runes a policy variable put there: they never split an
// ARN into components.
type ptok struct {
	r         rune
	wild      bool
	fromValue bool
}

// literal compiles s with every rune literal.
func literal(s string) []ptok {
	out := make([]ptok, 0, len(s))
	for _, r := range s {
		out = append(out, ptok{r: r})
	}
	return out
}

// compile compiles a pattern without policy variables: '*' and '?' are
// wildcards.
func compile(s string) []ptok {
	out := literal(s)
	for i := range out {
		out[i].wild = out[i].r == '*' || out[i].r == '?'
	}
	return out
}

// expand compiles pattern with its policy variables resolved from ctx
// when vars is set (Version 2012-10-17). ${*}, ${?} and ${$} stand for
// the literal characters; ${key} is the key's value, taken literally;
// ${key, 'default'} falls back to default when the key has no value. ok
// is false when a variable has no value and no default: AWS then matches
// nothing with that entry. Anything not of this form is literal text.
func expand(pattern string, ctx map[string][]string, vars bool) (toks []ptok, ok bool) {
	if !vars || !strings.Contains(pattern, "${") {
		return compile(pattern), true
	}
	rest := pattern
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			return append(toks, compile(rest)...), true
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return append(toks, compile(rest)...), true
		}
		toks = append(toks, compile(rest[:i])...)
		body := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		switch body {
		case "*", "?", "$":
			toks = append(toks, ptok{r: rune(body[0]), fromValue: true})
			continue
		}
		key, def, hasDef := strings.Cut(body, ",")
		if hasDef {
			def = strings.TrimSpace(def)
			if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
				return nil, false // not a default AWS can read
			}
			def = def[1 : len(def)-1]
		}
		v := ctx[strings.ToLower(strings.TrimSpace(key))]
		switch {
		case len(v) == 1 && v[0] != "":
			toks = append(toks, valueToks(v[0])...)
		case hasDef:
			toks = append(toks, valueToks(def)...)
		default:
			// Unset, or multivalued: a multivalued key cannot be a
			// policy variable.
			return nil, false
		}
	}
}

func valueToks(s string) []ptok {
	out := literal(s)
	for i := range out {
		out[i].fromValue = true
	}
	return out
}

// tokEqual compares a compiled pattern to s with wildcards taken
// literally (the Equals operators have no wildcards).
func tokEqual(p []ptok, s string, fold bool) bool {
	var b strings.Builder
	for _, t := range p {
		b.WriteRune(t.r)
	}
	if fold {
		return strings.EqualFold(b.String(), s)
	}
	return b.String() == s
}

// tokMatch matches s against p, where the wildcard '*' matches any run of
// characters and '?' any single character.
func tokMatch(p []ptok, s []rune, fold bool) bool {
	eq := func(a, b rune) bool {
		if fold {
			return a == b || strings.EqualFold(string(a), string(b))
		}
		return a == b
	}
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi].wild && p[pi].r == '*': // before the literal case: a '*' in s must not use it up
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi].wild && p[pi].r == '?' || !p[pi].wild && eq(p[pi].r, s[si])):
			pi++
			si++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].wild && p[pi].r == '*' {
		pi++
	}
	return pi == len(p)
}

// wildMatch matches s against pattern, where * matches any run of
// characters and ? any single character.
func wildMatch(pattern, s string, fold bool) bool {
	return tokMatch(compile(pattern), []rune(s), fold)
}

// arnMatch matches an ARN against a compiled ARN pattern component by
// component: arn:partition:service:region:account:resource, the last
// component taking the rest (it may hold colons). A wildcard matches
// within a component, never across the colon between two (IAM User
// Guide, "Amazon Resource Name (ARN) condition operators": "Each of the
// six colon-delimited components of the ARN is checked separately").
// Values that are not six-component ARNs match nothing.
func arnMatch(p []ptok, arn string) bool {
	got := strings.SplitN(arn, ":", 6)
	if len(got) != 6 {
		return false
	}
	var segs [][]ptok
	start := 0
	for i, t := range p {
		if len(segs) == 5 {
			break
		}
		if t.r == ':' && !t.wild && !t.fromValue {
			segs = append(segs, p[start:i])
			start = i + 1
		}
	}
	if len(segs) != 5 {
		return false
	}
	segs = append(segs, p[start:])
	for i := range segs {
		if !tokMatch(segs[i], []rune(got[i]), false) {
			return false
		}
	}
	return true
}
