package broker

import (
	"context"
	"slices"
	"strings"
	"time"
)

// User is an authenticated caller, identified by email.
//
// Identifiers have one normalisation, applied once where they enter JIT
// (the ID token, the registry, a request body) and nowhere else; every
// later comparison is exact:
//   - an email is trimmed of surrounding white space and its ASCII letters
//     A-Z are lowered (NormalizeEmail); nothing else is folded, so "ſ",
//     the Kelvin sign or fullwidth letters stay what they are and never
//     equal an ASCII address;
//   - a group name is kept exactly as the identity provider sends it and
//     as the registry spells it after "group:": case-sensitive, not
//     trimmed, not folded, so "Admins", "admins", " Admins " and "ſecurity"
//     are four groups, none of them "security".
type User struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups,omitempty"`
	// AuthTime, ACR and AMR are the sign-in the request was made with: the
	// ID token's auth_time, acr and amr claims (zero when absent). StepUp
	// checks them.
	AuthTime time.Time `json:"-"`
	ACR      string    `json:"-"`
	AMR      []string  `json:"-"`
}

// NormalizeEmail is the one normalisation of an email (see User): surrounding
// white space removed and ASCII A-Z lowered, nothing else changed.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// NormalizePrincipal normalises a principal as the registry and approval
// rules name it: "group:<name>" keeps the name exactly as written (only
// white space around the whole entry goes); anything else is an email
// (NormalizeEmail).
func NormalizePrincipal(p string) string {
	p = strings.TrimSpace(p)
	if strings.HasPrefix(p, GroupPrefix) {
		return p
	}
	return NormalizeEmail(p)
}

// InGroup reports whether group is exactly one of u's groups.
func (u User) InGroup(group string) bool { return slices.Contains(u.Groups, group) }

// Is reports whether u is principal: the same email, or "group:<name>" with
// name exactly one of u's groups. Both sides must be normalised already.
func (u User) Is(principal string) bool {
	if g, ok := strings.CutPrefix(principal, GroupPrefix); ok {
		return u.InGroup(g)
	}
	return principal != "" && principal == u.Email
}

type userKey struct{}

// WithUser returns a context carrying the authenticated user.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the authenticated user carried by ctx, if any.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok && u.Email != ""
}
