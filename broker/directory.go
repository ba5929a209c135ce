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
// otherwise.
func (d ListDirectory) ResolveUser(_ context.Context, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if slices.ContainsFunc(d.Users, func(u string) bool { return strings.EqualFold(u, email) }) {
		return email, nil
	}
	if at := strings.LastIndexByte(email, '@'); at > 0 {
		domain := email[at+1:]
		if slices.ContainsFunc(d.Domains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return email, nil
		}
	}
	return "", Errorf(ENOTFOUND, "user %s is not in the directory", email)
}
