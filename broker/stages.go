package broker

import (
	"fmt"
	"slices"
	"strings"
)

// CheckStages reports a plan that could leave a stage waiting for ever:
// a person approves at most once per ticket, so an approver that a stage
// names by email and an earlier stage names too may have used their one
// approval there. A stage j is refused when, after the most approvals its
// approvers could have given in earlier stages (each earlier stage i takes
// at most Required of its approvers), fewer distinct entries than its
// Required remain. Stages that name a group are not checked: a group
// supplies approvers the plan cannot count. The error is EINVALID and
// names both stages and the approvers ("stage 2 needs 1 approval, but
// bob@example.com may already have approved stage 1 ...").
func CheckStages(stages []Stage) error {
	for j, st := range stages {
		if slices.ContainsFunc(st.Approvers, isGroupPrincipal) {
			continue
		}
		entries := distinct(st.Approvers)
		var taken []string // approvers of j that earlier stages may have used
		var first []int    // the earlier stage each was first named in
		budget := 0
		for i, prev := range stages[:j] {
			var here []string
			for _, a := range distinct(prev.Approvers) {
				if slices.Contains(entries, a) && !slices.Contains(taken, a) {
					here = append(here, a)
				}
			}
			used := min(prev.Required, len(here))
			for _, a := range here[:used] {
				taken, first = append(taken, a), append(first, i)
			}
			budget += used
		}
		if len(entries)-budget >= st.Required {
			continue
		}
		where := make([]string, len(first))
		for k, i := range first {
			where[k] = fmt.Sprintf("stage %d", i+1)
		}
		return Errorf(EINVALID, "stage %d needs %d approval%s, but %s may already have approved %s, and a person approves at most once per ticket: the ticket could wait for ever; name other approvers in stage %d, or leave them out of the earlier stages",
			j+1, st.Required, plural(st.Required), strings.Join(taken, ", "), strings.Join(slices.Compact(where), " and "), j+1)
	}
	return nil
}

// ruleStages returns a rule's stages as a plan's.
func ruleStages(in []RuleStage) []Stage {
	out := make([]Stage, len(in))
	for i, s := range in {
		out[i] = Stage(s)
	}
	return out
}

func isGroupPrincipal(p string) bool { return strings.HasPrefix(p, GroupPrefix) }

// distinct returns xs without repeats, in order.
func distinct(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
