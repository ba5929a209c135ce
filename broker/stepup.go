package broker

import (
	"context"
	"slices"
	"strings"
	"time"
)

// StepUp is a requirement on the sign-in a decision is made with: an
// approval under a rule, or a request for a permission set. The zero value
// requires nothing.
type StepUp struct {
	// MaxAge: the sign-in at the identity provider (the ID token's
	// auth_time) must be at most this old.
	MaxAge time.Duration
	// ACR: when set, the ID token's acr must be one of these.
	ACR []string
	// AMR: when set, one of the ID token's amr values must be one of these.
	AMR []string
}

// Required reports whether s requires anything.
func (s StepUp) Required() bool { return s.MaxAge > 0 || len(s.ACR) > 0 || len(s.AMR) > 0 }

// Check is the one home of step-up: it refuses u's sign-in with ESTEPUP
// (Error.MaxAge set to s.MaxAge) when s requires a more recent or stronger
// one than u made the request with, saying what is missing; what to do
// is to sign in again at the identity provider (OIDC max_age or
// prompt=login: the page does it, the CLI's `jit login --step-up`) and
// retry. what names the decision ("approving ticket x").
func (s StepUp) Check(u User, now time.Time, what string) error {
	if !s.Required() {
		return nil
	}
	refuse := func(why string) error {
		return &Error{Code: ESTEPUP, MaxAge: s.MaxAge,
			Message: what + " needs a recent strong sign-in: " + why + "; sign in again at the identity provider (jit login --step-up) and retry"}
	}
	if s.MaxAge > 0 {
		switch age := now.Sub(u.AuthTime); {
		case u.AuthTime.IsZero():
			return refuse("your sign-in does not say when you authenticated (no auth_time)")
		case age > s.MaxAge:
			return refuse("you authenticated " + age.Truncate(time.Second).String() + " ago, more than " + s.MaxAge.String())
		}
	}
	if len(s.ACR) > 0 && !slices.Contains(s.ACR, u.ACR) {
		return refuse("your sign-in's authentication context (acr) is not one of " + strings.Join(s.ACR, ", "))
	}
	if len(s.AMR) > 0 && !slices.ContainsFunc(u.AMR, func(m string) bool { return slices.Contains(s.AMR, m) }) {
		return refuse("your sign-in used none of the methods (amr) " + strings.Join(s.AMR, ", "))
	}
	return nil
}

// approvalStepUp checks u's sign-in against the step-up of the rule in
// force for t's open round (extension says which). Called once the
// decision itself is allowed, so that only an approver learns of it.
func (s *Service) approvalStepUp(ctx context.Context, t *Ticket, extension bool, u User, now time.Time) error {
	p, err := s.cfg.Approvals.Plan(ctx, t, extension)
	if err != nil {
		return err
	}
	return p.StepUp.Check(u, now, "approving ticket "+t.ID)
}
