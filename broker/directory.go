package broker

import (
	"context"
	"slices"
	"strings"
)

// ListDirectory is a Directory for servers without Identity Center: the
// users JIT knows are listed by email, or by their email domain. The zero
// value knows nobody.
type ListDirectory struct {
	// Users are known users' emails.
	Users []string
	// Domains are email domains ("example.com") whose every address is a
	// known user.
	Domains []string
}

var _ Directory = ListDirectory{}

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
