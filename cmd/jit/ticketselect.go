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
	switch {
	case s.ticket != "" && s.account == "":
		return s.ticket, nil // a group's id is found out by use
	case s.ticket != "":
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

// member is the ticket --ticket names in --account: the ticket itself,
// which must be in that account, or the group's member there
// (group.pick).
func (s *ticketSelector) member(ctx context.Context, api *client.Client) (string, error) {
	t, err := api.Ticket(ctx, s.ticket)
	if g := notFoundGroup(ctx, api, s.ticket, err); g != nil {
		return g.pick(ctx, api, s.account)
	} else if err != nil {
		return "", err
	}
	want, err := accountIDOf(ctx, api, s.account)
	if err != nil {
		return "", err
	}
	if t.AccountID != want {
		return "", fmt.Errorf("ticket %s is for account %s, not %s", shown(t.ID), shown(t.AccountID), shown(s.account))
	}
	return s.ticket, nil
}

// use runs fn with the ticket the selection names (resolve). --ticket
// without --account is tried as a ticket first: only when the server does
// not know it is it asked about as a group, and fn runs again with the
// group's member the caller sees (several: the error lists their
// accounts, group.pick).
func (s *ticketSelector) use(ctx context.Context, c clientFlags, fn func(id string) error) error {
	id, err := s.resolve(ctx, c)
	if err != nil {
		return err
	}
	err = fn(id)
	if s.ticket == "" || s.account != "" {
		return err
	}
	api := c.api()
	g := notFoundGroup(ctx, api, s.ticket, err)
	if g == nil {
		return err
	}
	if id, err = g.pick(ctx, api, ""); err != nil {
		return err
	}
	return fn(id)
}
