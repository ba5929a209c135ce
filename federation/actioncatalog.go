package federation

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// actionCatalogGz is the action catalogue: per IAM service prefix, the API
// operation names of botocore's service models (actioncatalog_gen.py, which
// says where operations and IAM actions differ). It is what "grants N
// actions" counts over: an approximation of IAM's action list.
//
//go:embed actioncatalog.txt.gz
var actionCatalogGz []byte

var catalog struct {
	once sync.Once
	// ops maps a lowercase service prefix to its operation names.
	ops   map[string][]string
	total int
}

func loadCatalog() {
	catalog.ops = map[string][]string{}
	zr, err := gzip.NewReader(bytes.NewReader(actionCatalogGz))
	if err != nil {
		panic("federation: action catalogue: " + err.Error())
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		catalog.ops[strings.ToLower(f[0])] = f[1:]
		catalog.total += len(f) - 1
	}
	if err := sc.Err(); err != nil {
		panic("federation: action catalogue: " + err.Error())
	}
}

// CatalogSize returns how many actions the catalogue holds.
func CatalogSize() int {
	catalog.once.Do(loadCatalog)
	return catalog.total
}

// ActionSet is a set of catalogue actions, "prefix:Operation" with the
// prefix lowercase.
type ActionSet map[string]bool

// Services returns how many service prefixes the set spans.
func (a ActionSet) Services() int {
	seen := map[string]bool{}
	for k := range a {
		p, _, _ := strings.Cut(k, ":")
		seen[p] = true
	}
	return len(seen)
}

// addMatching adds the catalogue actions that pattern names (IAM's
// "service:Action" with * and ? wildcards, case-insensitive; "*" alone is
// every action).
func (a ActionSet) addMatching(pattern string) {
	catalog.once.Do(loadCatalog)
	for prefix, ops := range catalog.ops {
		for _, op := range ops {
			if action := prefix + ":" + op; actionMatches(pattern, action) {
				a[action] = true
			}
		}
	}
}

// addNotMatching adds the catalogue actions that none of patterns names
// (a NotAction statement).
func (a ActionSet) addNotMatching(patterns []string) {
	catalog.once.Do(loadCatalog)
	for prefix, ops := range catalog.ops {
		for _, op := range ops {
			action := prefix + ":" + op
			if !slices.ContainsFunc(patterns, func(p string) bool { return actionMatches(p, action) }) {
				a[action] = true
			}
		}
	}
}

// actionMatches reports whether the IAM action pattern names action, case-insensitively.
func actionMatches(pattern, action string) bool {
	if pattern == "*" {
		return true
	}
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// wildcardMatch matches s against p, where * is any run and ? one character.
func wildcardMatch(p, s string) bool {
	px, sx, star, mark := 0, 0, -1, 0
	for sx < len(s) {
		switch {
		case px < len(p) && (p[px] == '?' || p[px] == s[sx]):
			px++
			sx++
		case px < len(p) && p[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}
