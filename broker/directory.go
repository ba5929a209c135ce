package broker

import (
	"context"
	"slices"
	"strings"
)

// GroupDirectory tells which groups a person is a member of now. The
// broker asks it for a delegator's groups at every decision a delegate
// makes, so delegated rights are the delegator's rights at that moment
// (see Delegation).
type GroupDirectory interface {
	// GroupsOf returns the groups email is a member of now, exactly as the
	// identity provider names them; none for a person it does not know.
	// Errors: EUNAVAILABLE when the directory cannot be read.
	GroupsOf(ctx context.Context, email string) ([]string, error)
}

// ListDirectory is a Directory for servers without Identity Center: the
// users JIT knows are listed by email, or by their email domain. The zero
// value knows nobody. It is also a GroupDirectory over Groups.
type ListDirectory struct {
	// Users are known users' emails.
	Users []string
	// Domains are email domains ("example.com") whose every address is a
	// known user.
	Domains []string
	// Groups maps a group name (as the identity provider sends it) to its
	// members' emails.
	Groups map[string][]string
}

var (
	_ Directory      = ListDirectory{}
	_ GroupDirectory = ListDirectory{}
)

// GroupsOf returns the groups whose members include email (compared after
// NormalizeEmail, exactly), sorted.
func (d ListDirectory) GroupsOf(_ context.Context, email string) ([]string, error) {
	email = NormalizeEmail(email)
	var out []string
	for g, members := range d.Groups {
		if slices.ContainsFunc(members, func(m string) bool { return NormalizeEmail(m) == email }) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ResolveUser returns email itself when the list knows it. ENOTFOUND
// otherwise. Emails and domains are compared after NormalizeEmail, exactly
// (no Unicode case folding: a look-alike is another user).
func (d ListDirectory) ResolveUser(_ context.Context, email string) (string, error) {
	email = NormalizeEmail(email)
	same := func(want string) func(string) bool {
		return func(s string) bool { return NormalizeEmail(s) == want }
	}
	if slices.ContainsFunc(d.Users, same(email)) {
		return email, nil
	}
	if at := strings.LastIndexByte(email, '@'); at > 0 && slices.ContainsFunc(d.Domains, same(email[at+1:])) {
		return email, nil
	}
	return "", Errorf(ENOTFOUND, "user %s is not in the directory", email)
}
