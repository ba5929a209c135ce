package main

import (
	"context"
	"fmt"
	"io"
)

// runReconcile runs one reconciler pass now (administrators only).
func runReconcile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("reconcile", stderr)
	c.bind(fs, true)
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := c.api().Reconcile(ctx)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, rep)
	}
	if _, err := fmt.Fprintf(stdout, "Grants finished:        %d\nTickets cleaned up:     %d\nTickets repaired:       %d\nOrphans removed:        %d\nDeny entries pruned:    %d (in %d lists)\n",
		rep.Finished, rep.Cleaned, rep.Repaired, rep.OrphansRemoved, rep.Pruned, rep.PrunedLists); err != nil {
		return err
	}
	for _, a := range rep.Accounts {
		status := "ok"
		if len(a.Errors) > 0 {
			status = fmt.Sprintf("%d not finished", len(a.Errors))
		}
		if _, err := fmt.Fprintf(stdout, "Account %s:   %d orphans removed, %d deny entries pruned (in %d lists), %s\n",
			shown(a.AccountID), a.OrphansRemoved, a.Pruned, a.PrunedLists, status); err != nil {
			return err
		}
	}
	for _, e := range rep.Errors {
		if _, err := fmt.Fprintf(stdout, "Not finished:           %s\n", shown(e)); err != nil {
			return err
		}
	}
	return nil
}
