package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxBreakGlassDuration caps a break-glass rule's max_duration: break-glass
// access is short by design; longer needs go through approval.
const MaxBreakGlassDuration = 12 * time.Hour

// BreakGlassRule lets a configured set of people grant themselves access
// at once, without approval, in an emergency (Service.CreateTicket with
// CreateTicketInput.BreakGlass). Everyone it names is told at once; the
// ticket must then be reviewed by someone other than its requester
// within ReviewWithin of its filing, or it is escalated to EscalateTo.
type BreakGlassRule struct {
	// People may break glass: emails or "group:<name>".
	People []string `json:"people" yaml:"people"`
	// Accounts it covers: account ids, or "*" for every registered account.
	Accounts []string `json:"accounts" yaml:"accounts"`
	// PermissionSets it covers: names, "group:<permission set group>", or
	// "*" for every registered permission set.
	PermissionSets []string `json:"permission_sets" yaml:"permission_sets"`
	// MaxDuration is the longest a break-glass ticket may last (at most
	// MaxBreakGlassDuration; the permission set's own maximum holds too).
	MaxDuration time.Duration `json:"max_duration" yaml:"max_duration"`
	// Notify are told of every break-glass ticket, with People: emails or
	// "group:<name>" (groups have no address for mail; a chat channel is
	// told too).
	Notify []string `json:"notify,omitempty" yaml:"notify,omitempty"`
	// ReviewWithin is how long after filing a second person must have
	// reviewed the ticket.
	ReviewWithin time.Duration `json:"review_within" yaml:"review_within"`
	// EscalateTo are told when the review is overdue.
	EscalateTo []string `json:"escalate_to" yaml:"escalate_to"`
}

// Covers reports whether the rule covers permissionSet in accountID;
// groupsOf names the permission set groups that hold permissionSet.
func (b BreakGlassRule) Covers(accountID, permissionSet string, groupsOf []string) bool {
	if !slices.Contains(b.Accounts, "*") && !slices.Contains(b.Accounts, accountID) {
		return false
	}
	return slices.ContainsFunc(b.PermissionSets, func(p string) bool {
		if g, ok := strings.CutPrefix(p, GroupPrefix); ok {
			return slices.Contains(groupsOf, g)
		}
		return p == "*" || p == permissionSet
	})
}

// BreakGlassRules decides who may break glass (the authorizer compiled
// from the registry in force).
type BreakGlassRules interface {
	// BreakGlass returns the first break-glass rule, in registry order,
	// that names u (by email or through one of u's groups) and covers
	// permissionSet in accountID; ok is false when none does.
	// EUNAVAILABLE when the registry in force cannot be confirmed.
	BreakGlass(ctx context.Context, u User, accountID, permissionSet string) (rule BreakGlassRule, ok bool, err error)
}

// MarshalJSON writes the rule with its durations as duration strings.
func (b BreakGlassRule) MarshalJSON() ([]byte, error) {
	type plain BreakGlassRule
	return json.Marshal(struct {
		plain
		MaxDuration  jsonDuration `json:"max_duration"`
		ReviewWithin jsonDuration `json:"review_within"`
	}{plain(b), jsonDuration(b.MaxDuration), jsonDuration(b.ReviewWithin)})
}

// UnmarshalJSON reads a rule strictly, durations as duration strings.
func (b *BreakGlassRule) UnmarshalJSON(data []byte) error {
	type plain BreakGlassRule
	var v struct {
		*plain
		MaxDuration  jsonDuration `json:"max_duration"`
		ReviewWithin jsonDuration `json:"review_within"`
	}
	var out BreakGlassRule
	v.plain = (*plain)(&out)
	if err := strictDecode(data, &v); err != nil {
		return err
	}
	out.MaxDuration, out.ReviewWithin = time.Duration(v.MaxDuration), time.Duration(v.ReviewWithin)
	*b = out
	return nil
}

func (b BreakGlassRule) clone() BreakGlassRule {
	b.People, b.Accounts, b.PermissionSets = slices.Clone(b.People), slices.Clone(b.Accounts), slices.Clone(b.PermissionSets)
	b.Notify, b.EscalateTo = slices.Clone(b.Notify), slices.Clone(b.EscalateTo)
	return b
}

// normalizeBreakGlass is NormalizeRegistry's part for break_glass.
func normalizeBreakGlass(r *RegistryData) {
	r.BreakGlass = nilIfEmpty(r.BreakGlass)
	for i := range r.BreakGlass {
		b := &r.BreakGlass[i]
		for j := range b.Accounts {
			b.Accounts[j] = strings.TrimSpace(b.Accounts[j])
		}
		for j := range b.PermissionSets {
			b.PermissionSets[j] = strings.TrimSpace(b.PermissionSets[j])
		}
		normalizePrincipals(b.People)
		normalizePrincipals(b.Notify)
		normalizePrincipals(b.EscalateTo)
		b.People, b.Accounts, b.PermissionSets = nilIfEmpty(b.People), nilIfEmpty(b.Accounts), nilIfEmpty(b.PermissionSets)
		b.Notify, b.EscalateTo = nilIfEmpty(b.Notify), nilIfEmpty(b.EscalateTo)
	}
}

// checkBreakGlass is CheckRegistry's part for break_glass: accounts,
// sets and groups are those the registry defines.
func checkBreakGlass(r RegistryData, accounts, sets, groups map[string]bool) error {
	for i, b := range r.BreakGlass {
		path := fmt.Sprintf("break_glass[%d]", i)
		bad := func(field, format string, args ...any) error {
			return Errorf(EINVALID, "%s.%s: %s", path, field, fmt.Sprintf(format, args...))
		}
		if len(b.People) == 0 {
			return bad("people", "at least one person or group who may break glass is required")
		}
		if err := checkPrincipals(path+".people", b.People); err != nil {
			return err
		}
		if len(b.Accounts) == 0 {
			return bad("accounts", "at least one account (or \"*\") is required")
		}
		for j, a := range b.Accounts {
			if a != "*" && !accounts[a] {
				return bad(fmt.Sprintf("accounts[%d]", j), "account %q is not registered (use \"*\" for every account)", a)
			}
			if slices.Index(b.Accounts, a) != j {
				return bad(fmt.Sprintf("accounts[%d]", j), "account %s is listed twice", a)
			}
		}
		if len(b.PermissionSets) == 0 {
			return bad("permission_sets", "at least one permission set (or \"*\") is required")
		}
		for j, p := range b.PermissionSets {
			if g, ok := strings.CutPrefix(p, GroupPrefix); ok {
				if !groups[g] {
					return bad(fmt.Sprintf("permission_sets[%d]", j), "permission set group %q is not defined", g)
				}
			} else if p != "*" && !sets[p] {
				return bad(fmt.Sprintf("permission_sets[%d]", j), "permission set %q is not registered (use \"*\" for every set)", p)
			}
			if slices.Index(b.PermissionSets, p) != j {
				return bad(fmt.Sprintf("permission_sets[%d]", j), "%s is listed twice", p)
			}
		}
		switch {
		case b.MaxDuration <= 0:
			return bad("max_duration", "is required: how long a break-glass ticket may last at most (a duration such as 1h)")
		case b.MaxDuration < minMaxDuration:
			return bad("max_duration", "%s is less than a minute; write a duration such as 1h", b.MaxDuration)
		case b.MaxDuration > MaxBreakGlassDuration:
			return bad("max_duration", "%s is longer than break-glass access may last (at most %s); longer access needs approval", FormatDuration(b.MaxDuration), FormatDuration(MaxBreakGlassDuration))
		case b.ReviewWithin <= 0:
			return bad("review_within", "is required: how soon a second person must review a break-glass ticket (a duration such as 24h)")
		case len(b.EscalateTo) == 0:
			return bad("escalate_to", "at least one person or group to tell when a review is overdue is required")
		}
		if err := checkPrincipals(path+".notify", b.Notify); err != nil {
			return err
		}
		if err := checkPrincipals(path+".escalate_to", b.EscalateTo); err != nil {
			return err
		}
	}
	return nil
}

// diffBreakGlass compares break-glass rules by position (they have no
// other name): "break_glass[1]".
func diffBreakGlass(old, new []BreakGlassRule) Changes {
	var c Changes
	for i := range max(len(old), len(new)) {
		k := fmt.Sprintf("break_glass[%d]", i)
		switch {
		case i >= len(old):
			c.Added = append(c.Added, k)
		case i >= len(new):
			c.Removed = append(c.Removed, k)
		default:
			if fields := changedFields(old[i], new[i]); len(fields) > 0 {
				c.Changed = append(c.Changed, k+": "+strings.Join(fields, ", "))
			}
		}
	}
	return c
}
