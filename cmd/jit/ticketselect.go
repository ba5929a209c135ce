package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// ticketSelector names the ticket whose credentials a command uses:
// --ticket ID, or --account and --permission-set for "my active ticket
// for this pair, whichever it is now".
type ticketSelector struct {
	ticket, account, permissionSet string
}

func (s *ticketSelector) bind(fs *flag.FlagSet) {
	fs.StringVar(&s.ticket, "ticket", "", "ticket id")
	fs.StringVar(&s.account, "account", "", "with --permission-set: my active ticket for this account")
	fs.StringVar(&s.permissionSet, "permission-set", "", "with --account: my active ticket for this permission set")
}

func (s *ticketSelector) check() error {
	switch {
	case s.ticket != "" && (s.account != "" || s.permissionSet != ""):
		return errors.New("give either --ticket or --account and --permission-set, not both")
	case s.ticket != "":
		return nil
	case s.account == "" && s.permissionSet == "":
		return errors.New("--ticket (or --account and --permission-set) is required")
	case s.account == "" || s.permissionSet == "":
		return errors.New("--account and --permission-set go together")
	}
	return nil
}

// resolve returns the ticket ID: --ticket, or the caller's active ticket
// for the account and permission set that they benefit from and have not
// said they are done with; of several, the one that ends last.
func (s *ticketSelector) resolve(ctx context.Context, c clientFlags) (string, error) {
	if s.ticket != "" {
		return s.ticket, nil
	}
	email := c.identity
	if email == "" {
		me, err := whoami(ctx, c)
		if err != nil {
			return "", err
		}
		email = me.Email
	}
	q := url.Values{"state": {string(broker.StateActive)}, "mine": {"true"}}
	out, err := c.api().Tickets(ctx, q)
	if err != nil {
		return "", err
	}
	var best *wire.Ticket
	for i := range out.Tickets {
		t := &out.Tickets[i]
		if t.State != broker.StateActive || t.AccountID != s.account || !strings.EqualFold(t.PermissionSet, s.permissionSet) {
			continue
		}
		if !slices.ContainsFunc(t.Beneficiaries, func(b string) bool { return strings.EqualFold(b, email) }) {
			continue
		}
		if slices.ContainsFunc(t.Done, func(d broker.Decision) bool { return strings.EqualFold(d.By, email) }) {
			continue
		}
		if best == nil || t.End.After(best.End) {
			best = t
		}
	}
	if best == nil {
		return "", fmt.Errorf("you have no active ticket for %s in account %s: request one with `jit request --account %s --permission-set %s ...`",
			shown(s.permissionSet), shown(s.account), shown(s.account), shown(s.permissionSet))
	}
	return best.ID, nil
}
