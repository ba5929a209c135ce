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
	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// ticketSelector names the ticket whose credentials a command uses:
// --ticket ID, --ticket GROUP with --account for that account's member of
// a group, or --account and --permission-set for "my active ticket for
// this pair, whichever it is now".
type ticketSelector struct {
	ticket, account, permissionSet string
}

func (s *ticketSelector) bind(fs *flag.FlagSet) {
	fs.StringVar(&s.ticket, "ticket", "", "ticket id, or the id of a group (several accounts in one request) with --account")
	fs.StringVar(&s.account, "account", "", "account id or name: with --ticket GROUP, that account's ticket; with --permission-set, my active ticket for this account")
	fs.StringVar(&s.permissionSet, "permission-set", "", "with --account: my active ticket for this permission set")
}

func (s *ticketSelector) check() error {
	switch {
	case s.ticket != "" && s.permissionSet != "":
		return errors.New("give either --ticket or --account and --permission-set, not both")
	case s.ticket != "":
		return nil
	case s.account == "" && s.permissionSet == "":
		return errors.New("--ticket (or --account and --permission-set) is required")
	case s.account == "" || s.permissionSet == "":
		return errors.New("--account and --permission-set go together (or --account picks a member of the group --ticket names)")
	}
	return nil
}

// resolve returns the ticket ID: --ticket, or with --ticket naming a
// group, its member in --account (the server says which it is: lookup);
// else the caller's active ticket for the account and permission set that
// they benefit from and have not said they are done with; of several, the
// one that ends last.
func (s *ticketSelector) resolve(ctx context.Context, c clientFlags) (string, error) {
	api := c.api()
	if s.ticket != "" {
		return s.member(ctx, api)
	}
	account, err := accountIDOf(ctx, api, s.account)
	if err != nil {
		return "", err
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
	out, err := api.Tickets(ctx, q)
	if err != nil {
		return "", err
	}
	var best *wire.Ticket
	for i := range out.Tickets {
		t := &out.Tickets[i]
		if t.State != broker.StateActive || t.AccountID != account || !strings.EqualFold(t.PermissionSet, s.permissionSet) {
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

// member is the ticket --ticket names: the ticket itself, or the member
// of the group it names in --account (group.pick). --account with a
// ticket's id must be that ticket's account.
func (s *ticketSelector) member(ctx context.Context, api *client.Client) (string, error) {
	t, g, err := lookup(ctx, api, s.ticket)
	switch {
	case err != nil:
		return "", err
	case g != nil:
		return g.pick(ctx, api, s.account)
	case t != nil && s.account != "":
		want, err := accountIDOf(ctx, api, s.account)
		if err != nil {
			return "", err
		}
		if t.AccountID != want {
			return "", fmt.Errorf("ticket %s is for account %s, not %s", shown(t.ID), shown(t.AccountID), shown(s.account))
		}
	}
	return s.ticket, nil
}
