package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// stdinIsTerminal reports whether jit may ask its questions: standard
// input is a terminal. Off a terminal a missing flag stays an error.
var stdinIsTerminal = func() bool { return isTerminal(os.Stdin) }

// promptRequest asks on w, reading answers from r, for what jit request
// was not given: the account (number, id or name) among those the user may
// request, the permission set among those they may request there, the
// duration and the reason. A wrong answer is asked again; the end of
// input stops with nothing sent.
func promptRequest(ctx context.Context, api *client.Client, in *wire.CreateTicket, r io.Reader, w io.Writer) error {
	br := bufio.NewReader(r)
	ask := func(q string) (string, error) {
		fmt.Fprint(w, q)
		line, err := br.ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(w)
			return "", errors.New("no answer: nothing was requested")
		}
		return strings.TrimSpace(line), nil
	}
	// choose asks for one of options, by number or as typed (match).
	choose := func(q string, options []string, match func(string) (string, bool)) (string, error) {
		for {
			a, err := ask(q)
			if err != nil {
				return "", err
			}
			if n, err := strconv.Atoi(a); err == nil && n >= 1 && n <= len(options) {
				return options[n-1], nil
			}
			if v, ok := match(a); ok && slices.Contains(options, v) {
				return v, nil
			}
			fmt.Fprintf(w, "%q is not one of the above; answer with its number or name.\n", shown(a))
		}
	}
	if in.AccountID == "" || in.PermissionSet == "" {
		me, err := api.Me(ctx)
		if err != nil {
			return err
		}
		accounts, _ := api.Accounts(ctx)
		names := accountNames(accounts)
		if in.AccountID == "" {
			ids := requestableAccounts(me, in.PermissionSet)
			if len(ids) == 0 {
				return errors.New("there is nothing you may request (jit whoami)")
			}
			fmt.Fprintln(w, "Accounts you may request:")
			for i, id := range ids {
				fmt.Fprintf(w, "  %d) %s\n", i+1, accountLabel(id, names))
			}
			if in.AccountID, err = choose("Account (number, ID or name): ", ids, func(a string) (string, bool) {
				return resolveAccount(accounts, a)
			}); err != nil {
				return err
			}
		}
		if in.PermissionSet == "" {
			sets := requestablePermissionSets(me, in.AccountID)
			if len(sets) == 0 {
				return fmt.Errorf("there is nothing you may request in account %s (jit whoami)", shown(in.AccountID))
			}
			fmt.Fprintf(w, "Permission sets you may request in %s:\n", accountLabel(in.AccountID, names))
			for i, p := range sets {
				fmt.Fprintf(w, "  %d) %s\n", i+1, shown(p))
			}
			if in.PermissionSet, err = choose("Permission set (number or name): ", sets, func(a string) (string, bool) {
				for _, p := range sets {
					if strings.EqualFold(p, a) {
						return p, true
					}
				}
				return "", false
			}); err != nil {
				return err
			}
		}
	}
	for in.Duration == "" && in.End == "" {
		a, err := ask("Duration [1h]: ")
		if err != nil {
			return err
		}
		if a == "" {
			a = "1h"
		}
		if d, err := time.ParseDuration(a); err != nil || d <= 0 {
			fmt.Fprintf(w, "%q is not a duration; answer like 30m, 1h or 2h30m.\n", shown(a))
			continue
		}
		in.Duration = a
	}
	for in.Reason == "" {
		a, err := ask("Reason: ")
		if err != nil {
			return err
		}
		if a == "" {
			fmt.Fprintln(w, "A reason is required: say why you need access.")
		}
		in.Reason = a
	}
	return nil
}
