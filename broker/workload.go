package broker

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// WorkloadPrefix marks a workload principal: "workload:<name>". It is the
// Email of the User a workload's token authenticates, so it is carried as
// requester and beneficiary on the workload's tickets and in its sessions'
// tags. No email can collide with it: an address's local part cannot hold
// an unquoted ':', and the console refuses ID tokens whose email starts
// with it; the registry refuses it wherever people are named.
const WorkloadPrefix = "workload:"

// Workload is an automated caller (a CI job) that authenticates with an
// OIDC token from its own platform and may file tickets for itself, which
// people approve under the approval rules as any other ticket.
type Workload struct {
	// Name identifies the workload; it acts as "workload:<name>".
	Name string `json:"name" yaml:"name"`
	// Issuer is the token issuer (https; http only on a loopback host).
	Issuer string `json:"issuer" yaml:"issuer"`
	// Audience is the one audience the token must carry.
	Audience string `json:"audience" yaml:"audience"`
	// Claims the token must carry, each a string equal to the value given
	// here, exactly (no patterns). At least one.
	Claims map[string]string `json:"claims" yaml:"claims"`
	// Accounts and PermissionSets bound what the workload may request;
	// the permission set's own scope must list the account too.
	Accounts       []string `json:"accounts" yaml:"accounts"`
	PermissionSets []string `json:"permission_sets" yaml:"permission_sets"`
	// MaxDuration bounds its tickets (the permission set's bound applies too).
	MaxDuration time.Duration `json:"max_duration" yaml:"max_duration"`
}

var workloadNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) })

// reservedClaims are checked by the verifier itself and may not be
// configured as claims.
var reservedClaims = []string{"iss", "aud", "exp", "nbf", "iat", "azp"}

// WorkloadPrincipal returns the principal a workload acts as.
func WorkloadPrincipal(name string) string { return WorkloadPrefix + name }

// Workload returns the name of the workload u is, if u is one.
func (u User) Workload() (string, bool) {
	return strings.CutPrefix(u.Email, WorkloadPrefix)
}

// IsWorkload reports whether email names a workload principal.
func IsWorkload(email string) bool { return strings.HasPrefix(email, WorkloadPrefix) }

// MatchesClaims reports whether every claim w names is in claims as a
// string equal to w's value. A claim of another JSON type never matches.
func (w Workload) MatchesClaims(claims map[string]any) bool {
	if len(w.Claims) == 0 {
		return false
	}
	for k, want := range w.Claims {
		got, ok := claims[k].(string)
		if !ok || got != want {
			return false
		}
	}
	return true
}

// FindWorkload returns the workload with the given name.
func (r RegistryData) FindWorkload(name string) (Workload, bool) {
	i := slices.IndexFunc(r.Workloads, func(w Workload) bool { return w.Name == name })
	if i < 0 {
		return Workload{}, false
	}
	return r.Workloads[i], true
}

func cloneWorkloads(in []Workload) []Workload {
	if in == nil {
		return nil
	}
	out := make([]Workload, len(in))
	for i, w := range in {
		w.Claims = maps.Clone(w.Claims)
		w.Accounts = slices.Clone(w.Accounts)
		w.PermissionSets = slices.Clone(w.PermissionSets)
		out[i] = w
	}
	return out
}

func normalizeWorkloads(ws []Workload) {
	for i := range ws {
		w := &ws[i]
		w.Name = strings.TrimSpace(w.Name)
		w.Issuer = strings.TrimSpace(w.Issuer)
		w.Audience = strings.TrimSpace(w.Audience)
		for j := range w.Accounts {
			w.Accounts[j] = strings.TrimSpace(w.Accounts[j])
		}
		for j := range w.PermissionSets {
			w.PermissionSets[j] = strings.TrimSpace(w.PermissionSets[j])
		}
		if len(w.Claims) == 0 {
			w.Claims = nil
		}
		w.Accounts, w.PermissionSets = nilIfEmpty(w.Accounts), nilIfEmpty(w.PermissionSets)
	}
}

// checkWorkloads checks the registry's workloads against its accounts and
// permission sets (part of CheckRegistry).
func checkWorkloads(r RegistryData) error {
	seen := map[string]int{}
	for i, w := range r.Workloads {
		path := fmt.Sprintf("workloads[%d]", i)
		bad := func(field, format string, args ...any) error {
			return Errorf(EINVALID, "%s.%s: %s", path, field, fmt.Sprintf(format, args...))
		}
		if !workloadNamePattern().MatchString(w.Name) {
			return bad("name", "%q must be 1 to 63 lower-case letters, digits or '-', starting with a letter or digit", w.Name)
		}
		if j, dup := seen[w.Name]; dup {
			return bad("name", "%q is also the name of workloads[%d]", w.Name, j)
		}
		seen[w.Name] = i
		if err := CheckIssuerURL(w.Issuer); err != nil {
			return bad("issuer", "%s", ErrorMessage(err))
		}
		if w.Audience == "" {
			return bad("audience", "is required: the audience the platform puts in the workload's tokens (for example jit)")
		} else if err := textError(path+".audience", w.Audience); err != nil {
			return err
		}
		if len(w.Claims) == 0 {
			return bad("claims", "at least one claim is required (for GitHub Actions, repository and ref): anyone on the platform can ask for a token with any audience, so the claims are what names this workload")
		}
		for _, k := range slices.Sorted(maps.Keys(w.Claims)) {
			switch v := w.Claims[k]; {
			case k == "" || textError("claim", k) != nil:
				return bad("claims", "%q is not a claim name", k)
			case slices.Contains(reservedClaims, k):
				return bad("claims."+k, "is checked by JIT itself (issuer, audience, times); it cannot be a claim to match")
			case v == "":
				return bad("claims."+k, "must not be empty")
			case textError("claim", v) != nil:
				return bad("claims."+k, "%s", ErrorMessage(textError("value", v)))
			}
		}
		if len(w.Accounts) == 0 {
			return bad("accounts", "at least one account is required")
		}
		for j, a := range w.Accounts {
			if _, ok := r.FindAccount(a); !ok {
				return bad(fmt.Sprintf("accounts[%d]", j), "account %q is not registered (a workload names its accounts one by one)", a)
			}
			if slices.Index(w.Accounts, a) != j {
				return bad(fmt.Sprintf("accounts[%d]", j), "%s is listed twice", a)
			}
		}
		if len(w.PermissionSets) == 0 {
			return bad("permission_sets", "at least one permission set is required")
		}
		for j, name := range w.PermissionSets {
			p, ok := r.FindPermissionSet(name)
			switch {
			case !ok:
				return bad(fmt.Sprintf("permission_sets[%d]", j), "permission set %q is not registered", name)
			case usesIdentityCenter(p):
				return bad(fmt.Sprintf("permission_sets[%d]", j), "permission set %s grants through Identity Center (grant_path %s), which has no user for a workload; only grant_path %s sets can be requested by a workload", name, p.GrantPath, GrantRole)
			case !p.ApprovalRequired:
				return bad(fmt.Sprintf("permission_sets[%d]", j), "permission set %s needs no approval; a workload's tickets are always approved by a person, so it may name only sets with approval_required: true", name)
			case slices.Index(w.PermissionSets, name) != j:
				return bad(fmt.Sprintf("permission_sets[%d]", j), "%s is listed twice", name)
			}
		}
		switch {
		case w.MaxDuration <= 0:
			return bad("max_duration", "must be positive (a duration such as 1h)")
		case w.MaxDuration < minMaxDuration:
			return bad("max_duration", "%s is less than a minute; write a duration such as 1h", w.MaxDuration)
		}
	}
	return nil
}

// CheckIssuerURL checks a workload token issuer: an absolute https URL
// without user info, query or fragment; http is accepted only on a
// loopback host (tests and development). EINVALID otherwise.
func CheckIssuerURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return Errorf(EINVALID, "is required: the token issuer URL (for example https://token.actions.githubusercontent.com)")
	case err != nil || u.Host == "" || u.Opaque != "":
		return Errorf(EINVALID, "%q is not an absolute URL", s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "#") || strings.HasSuffix(s, "?"):
		return Errorf(EINVALID, "%q must not carry user info, a query or a fragment", s)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return Errorf(EINVALID, "%q must use https (http only on a loopback host, for tests)", s)
	}
	return Errorf(EINVALID, "%q must be an https URL", s)
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// workloadTicket applies the rules a workload's ticket follows beyond
// those of every ticket: for itself only, a permission set granted through
// a role (Identity Center has no user for it), and within its own
// max_duration in the registry in force. Errors: EFORBIDDEN (the workload
// is no longer registered, or asks for someone else), EINVALID.
func (s *Service) workloadTicket(ctx context.Context, name string, t *Ticket, ps PermissionSet) error {
	me := WorkloadPrincipal(name)
	if len(t.Beneficiaries) != 1 || t.Beneficiaries[0] != me {
		return Errorf(EFORBIDDEN, "%s may file tickets only for itself", me)
	}
	if err := workloadGrant(me, ps); err != nil {
		return err
	}
	w, err := s.workload(ctx, name)
	if err != nil {
		return err
	}
	if d := t.End.Sub(t.Start); d > w.MaxDuration {
		return Errorf(EINVALID, "duration %s exceeds the maximum of %s for workload %s", d.Round(time.Second), FormatDuration(w.MaxDuration), name)
	}
	return nil
}

// workloadGrant refuses a permission set granted through Identity Center
// for a workload.
func workloadGrant(me string, ps PermissionSet) error {
	if usesIdentityCenter(ps) {
		return Errorf(EINVALID, "permission set %s grants through Identity Center (grant_path %s), which has no user for %s; a workload can use only permission sets granted through a role", ps.Name, ps.GrantPath, me)
	}
	return nil
}

// workload returns the named workload of the registry in force. EFORBIDDEN
// when it is not there.
func (s *Service) workload(ctx context.Context, name string) (Workload, error) {
	if s.cfg.RegistryStore == nil {
		return Workload{}, Errorf(EFORBIDDEN, "workloads need the registry, which this server does not keep")
	}
	r, _, err := s.cfg.RegistryStore.Registry(ctx)
	if err != nil {
		return Workload{}, err
	}
	w, ok := r.FindWorkload(name)
	if !ok {
		return Workload{}, Errorf(EFORBIDDEN, "workload %s is not in the registry", name)
	}
	return w, nil
}

// notWorkload refuses a workload the people's actions (approving,
// rejecting, terminating, extending, delegating, reviewing); the
// authorizer never makes a workload an administrator.
func notWorkload(u User, what string) error {
	if name, ok := u.Workload(); ok {
		return Errorf(EFORBIDDEN, "workload %s may not %s: a workload only files, reads and uses its own tickets", name, what)
	}
	return nil
}
