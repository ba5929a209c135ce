package policies

import (
	"errors"
	"slices"

	"github.com/casbin/casbin/v2/log"
	"github.com/casbin/casbin/v2/rbac"
)

// linkGraph is the Casbin role manager behind each of the model's g types.
// Casbin's default role manager keeps six sync.Maps per node, takes one
// global mutex on every HasLink and walks a node's roles level by level even
// for a direct link; at design.md's scale that meant about 100 MiB and
// seconds per compile. Our link graphs are built once and then only read,
// and most are one level deep, so linkGraph keeps plain maps: a set of
// links for O(1) direct lookups, and adjacency lists for GetRoles, GetUsers
// and deeper walks.
//
// It is not safe to change a linkGraph while it is being read; the Enforcer
// never does (a reload builds new graphs).
type linkGraph struct {
	links    map[link]struct{}
	roles    map[string][]string // name1 -> name2s
	users    map[string][]string // name2 -> name1s
	maxLevel int
	hint     int // expected number of links, to size the maps
	// deep is set when some node has both roles and users, so that
	// HasLink must look past direct links.
	deep bool
}

type link struct{ from, to string }

var errDomains = errors.New("policies: link graphs have no domains")

var _ rbac.RoleManager = (*linkGraph)(nil)

// newLinkGraph returns an empty graph sized for about hint links.
func newLinkGraph(hint int) *linkGraph {
	g := &linkGraph{maxLevel: 10, hint: hint}
	_ = g.Clear()
	return g
}

// Clear removes every link.
func (g *linkGraph) Clear() error {
	g.links = make(map[link]struct{}, g.hint)
	g.roles = map[string][]string{}
	g.users = map[string][]string{}
	g.deep = false
	return nil
}

// AddLink adds name1 -> name2. Domains are not supported.
func (g *linkGraph) AddLink(name1, name2 string, domains ...string) error {
	if len(domains) > 0 {
		return errDomains
	}
	l := link{name1, name2}
	if _, ok := g.links[l]; ok {
		return nil
	}
	g.links[l] = struct{}{}
	g.roles[name1] = append(g.roles[name1], name2)
	g.users[name2] = append(g.users[name2], name1)
	if len(g.users[name1]) > 0 || len(g.roles[name2]) > 0 {
		g.deep = true
	}
	return nil
}

// BuildRelationship is AddLink (Casbin deprecated it).
func (g *linkGraph) BuildRelationship(name1, name2 string, domains ...string) error {
	return g.AddLink(name1, name2, domains...)
}

// DeleteLink removes name1 -> name2.
func (g *linkGraph) DeleteLink(name1, name2 string, domains ...string) error {
	if len(domains) > 0 {
		return errDomains
	}
	l := link{name1, name2}
	if _, ok := g.links[l]; !ok {
		return nil
	}
	delete(g.links, l)
	g.roles[name1] = slices.DeleteFunc(g.roles[name1], func(s string) bool { return s == name2 })
	g.users[name2] = slices.DeleteFunc(g.users[name2], func(s string) bool { return s == name1 })
	return nil
}

// HasLink reports whether name1 reaches name2 within maxLevel links.
func (g *linkGraph) HasLink(name1, name2 string, domains ...string) (bool, error) {
	if len(domains) > 0 {
		return false, errDomains
	}
	if name1 == name2 {
		return true, nil
	}
	if _, ok := g.links[link{name1, name2}]; ok {
		return true, nil
	}
	if !g.deep {
		return false, nil
	}
	seen := map[string]bool{name1: true}
	level := []string{name1}
	for range g.maxLevel {
		var next []string
		for _, n := range level {
			for _, r := range g.roles[n] {
				if r == name2 {
					return true, nil
				}
				if !seen[r] {
					seen[r] = true
					next = append(next, r)
				}
			}
		}
		if len(next) == 0 {
			break
		}
		level = next
	}
	return false, nil
}

// GetRoles returns the direct roles of name (a copy).
func (g *linkGraph) GetRoles(name string, domains ...string) ([]string, error) {
	return slices.Clone(g.roles[name]), nil
}

// GetUsers returns the direct users of name (a copy).
func (g *linkGraph) GetUsers(name string, domains ...string) ([]string, error) {
	return slices.Clone(g.users[name]), nil
}

// GetImplicitRoles returns every role name reaches.
func (g *linkGraph) GetImplicitRoles(name string, domains ...string) ([]string, error) {
	return g.walk(g.roles, name), nil
}

// GetImplicitUsers returns every user that reaches name.
func (g *linkGraph) GetImplicitUsers(name string, domains ...string) ([]string, error) {
	return g.walk(g.users, name), nil
}

func (g *linkGraph) walk(adj map[string][]string, name string) []string {
	var out []string
	seen := map[string]bool{name: true}
	level := []string{name}
	for range g.maxLevel {
		var next []string
		for _, n := range level {
			for _, r := range adj[n] {
				if !seen[r] {
					seen[r] = true
					out = append(out, r)
					next = append(next, r)
				}
			}
		}
		level = next
	}
	return out
}

// GetDomains returns nothing: there are no domains.
func (g *linkGraph) GetDomains(string) ([]string, error) { return nil, nil }

// GetAllDomains returns nothing: there are no domains.
func (g *linkGraph) GetAllDomains() ([]string, error) { return nil, nil }

// PrintRoles does nothing.
func (g *linkGraph) PrintRoles() error { return nil }

// SetLogger does nothing: the graph does not log.
func (g *linkGraph) SetLogger(log.Logger) {}

// Match is plain equality: names are never patterns.
func (g *linkGraph) Match(str, pattern string) bool { return str == pattern }

// AddMatchingFunc is ignored: names are never patterns.
func (g *linkGraph) AddMatchingFunc(string, rbac.MatchingFunc) {}

// AddDomainMatchingFunc is ignored: there are no domains.
func (g *linkGraph) AddDomainMatchingFunc(string, rbac.MatchingFunc) {}

// DeleteDomain does nothing: there are no domains.
func (g *linkGraph) DeleteDomain(string) error { return nil }
