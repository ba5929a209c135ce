package broker

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Changes lists what changed in one section of the registry, by key.
type Changes struct {
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
	// Changed items read "key: field (old -> new), field" (values of
	// scalar fields only).
	Changed []string `json:"changed,omitempty"`
}

func (c Changes) empty() bool { return len(c.Added)+len(c.Removed)+len(c.Changed) == 0 }

// RegistryDiff is what applying a new registry changes, section by section.
type RegistryDiff struct {
	Accounts            Changes `json:"accounts"`
	PermissionSets      Changes `json:"permission_sets"`
	PermissionSetGroups Changes `json:"permission_set_groups"`
	ApprovalRules       Changes `json:"approval_rules"`
	Admins              Changes `json:"admins"`
	RequestForOthers    Changes `json:"request_for_others"`
	Workloads           Changes `json:"workloads"`
	// BreakGlass names rules by position: "break_glass[0]".
	BreakGlass Changes `json:"break_glass"`
	Limits     Changes `json:"limits"`
	// Reordered names the sections whose entries only moved.
	Reordered []string `json:"reordered,omitempty"`
}

// Empty reports whether nothing changes.
func (d RegistryDiff) Empty() bool {
	return d.Accounts.empty() && d.PermissionSets.empty() && d.PermissionSetGroups.empty() &&
		d.ApprovalRules.empty() && d.Admins.empty() && d.RequestForOthers.empty() && d.Workloads.empty() && d.BreakGlass.empty() && d.Limits.empty() && len(d.Reordered) == 0
}

// RuleKey names an approval rule by what it covers: "<account>/<permission
// set>", with "*" for any permission set, and "/<requester group>" after
// it when the rule names one.
func RuleKey(r ApprovalRule) string {
	ps := r.PermissionSet
	if ps == "" {
		ps = "*"
	}
	if r.RequesterGroup != "" {
		return r.Account + "/" + ps + "/" + r.RequesterGroup
	}
	return r.Account + "/" + ps
}

// DiffRegistry compares two registries. Both should be normalized.
func DiffRegistry(old, new RegistryData) RegistryDiff {
	var d RegistryDiff
	var reordered bool
	d.Accounts, reordered = diffKeyed(old.Accounts, new.Accounts, func(a Account) string { return a.ID })
	if reordered {
		d.Reordered = append(d.Reordered, "accounts")
	}
	d.PermissionSets, reordered = diffKeyed(old.PermissionSets, new.PermissionSets, func(p PermissionSet) string { return p.Name })
	if reordered {
		d.Reordered = append(d.Reordered, "permission_sets")
	}
	d.PermissionSetGroups, reordered = diffKeyed(old.PermissionSetGroups, new.PermissionSetGroups, func(g PermissionSetGroup) string { return g.Name })
	if reordered {
		d.Reordered = append(d.Reordered, "permission_set_groups")
	}
	d.ApprovalRules, reordered = diffKeyed(old.ApprovalRules, new.ApprovalRules, RuleKey)
	if reordered {
		d.Reordered = append(d.Reordered, "approval_rules")
	}
	d.Admins, reordered = diffKeyed(old.Admins, new.Admins, func(s string) string { return s })
	if reordered {
		d.Reordered = append(d.Reordered, "admins")
	}
	d.RequestForOthers, reordered = diffKeyed(old.RequestForOthers, new.RequestForOthers, func(s string) string { return s })
	if reordered {
		d.Reordered = append(d.Reordered, "request_for_others")
	}
	d.Workloads, reordered = diffKeyed(old.Workloads, new.Workloads, func(w Workload) string { return w.Name })
	if reordered {
		d.Reordered = append(d.Reordered, "workloads")
	}
	d.BreakGlass = diffBreakGlass(old.BreakGlass, new.BreakGlass)
	d.Limits, _ = diffKeyed([]Limits{old.Limits}, []Limits{new.Limits}, func(Limits) string { return "limits" })
	return d
}

// diffKeyed compares two lists of items identified by key, and reports
// whether the common items are in another order.
func diffKeyed[T any](old, new []T, key func(T) string) (Changes, bool) {
	var c Changes
	oldBy := map[string]T{}
	var oldOrder, newOrder []string
	for _, o := range old {
		oldBy[key(o)] = o
	}
	newBy := map[string]bool{}
	for _, n := range new {
		k := key(n)
		newBy[k] = true
		o, ok := oldBy[k]
		if !ok {
			c.Added = append(c.Added, k)
			continue
		}
		newOrder = append(newOrder, k)
		if fields := changedFields(o, n); len(fields) > 0 {
			c.Changed = append(c.Changed, k+": "+strings.Join(fields, ", "))
		}
	}
	for _, o := range old {
		k := key(o)
		if !newBy[k] {
			c.Removed = append(c.Removed, k)
		} else {
			oldOrder = append(oldOrder, k)
		}
	}
	return c, !slices.Equal(oldOrder, newOrder)
}

// changedFields names the JSON fields that differ between a and b; for
// values that are not objects it returns "value" when they differ.
func changedFields(a, b any) []string {
	if reflect.DeepEqual(a, b) {
		return nil
	}
	am, bm := toMap(a), toMap(b)
	if am == nil || bm == nil {
		return []string{"value"}
	}
	var keys []string
	for k, av := range am {
		if !reflect.DeepEqual(av, bm[k]) {
			keys = append(keys, k)
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k
		if from, ok := scalar(am[k]); ok {
			if to, ok := scalar(bm[k]); ok {
				out[i] = fmt.Sprintf("%s (%s -> %s)", k, from, to)
			}
		}
	}
	return out
}

// scalar renders a JSON scalar for a diff line; absent values read "none".
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "none", true
	case string:
		if v == "" {
			return `""`, true
		}
		return v, true
	case bool, float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

func toMap(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// Lines renders the diff for people, one change a line ("+ account
// 444444444444", "~ permission set ReadOnlyAccess: max_duration"); none
// when nothing changes.
func (d RegistryDiff) Lines() []string {
	var out []string
	for _, s := range []struct {
		what string
		c    Changes
	}{
		{"account", d.Accounts}, {"permission set", d.PermissionSets}, {"permission set group", d.PermissionSetGroups},
		{"approval rule", d.ApprovalRules}, {"admin", d.Admins}, {"may request for others", d.RequestForOthers},
		{"workload", d.Workloads},
		{"break-glass rule", d.BreakGlass},
		{"limits", d.Limits},
	} {
		for _, k := range s.c.Added {
			out = append(out, fmt.Sprintf("+ %s %s", s.what, k))
		}
		for _, k := range s.c.Removed {
			out = append(out, fmt.Sprintf("- %s %s", s.what, k))
		}
		for _, k := range s.c.Changed {
			out = append(out, fmt.Sprintf("~ %s %s", s.what, k))
		}
	}
	for _, s := range d.Reordered {
		out = append(out, fmt.Sprintf("~ order of %s", s))
	}
	return out
}
