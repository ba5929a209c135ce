package broker

import "context"

// User is an authenticated caller, identified by email.
type User struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups,omitempty"`
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
