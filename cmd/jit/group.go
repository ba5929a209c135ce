package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// group is a multi-account request as the caller sees it: its members'
// ids in the group's order (group_tickets, which may name members the
// caller may not see) and the members they may see, by id.
type group struct {
	id      string
	members []string
	seen    map[string]wire.Ticket
}

// lookupGroup asks the server whether id names a group with a member the
// caller may see (GET /api/v1/tickets?group=ID), never guessing from the
// string; nil when it does not. Commands ask only after the server did not
// know id as a ticket, so a ticket id costs no extra request.
func lookupGroup(ctx context.Context, api *client.Client, id string) (*group, error) {
	ts, err := api.AllTickets(ctx, url.Values{"group": {id}})
	if err != nil {
		return nil, err
	}
	g := &group{id: id, seen: map[string]wire.Ticket{}}
	for _, t := range ts {
		if t.Group != id { // the server filters; a stray answer is not a member
			continue
		}
		g.seen[t.ID] = t
		if len(g.members) == 0 {
			g.members = t.GroupTickets
		}
	}
	if len(g.seen) == 0 {
		return nil, nil
	}
	return g, nil
}

// notFoundGroup returns the group id names when err is the server's "not
// found" for id as a ticket and id names a group; nil otherwise.
func notFoundGroup(ctx context.Context, api *client.Client, id string, err error) *group {
	if !client.IsCode(err, broker.ENOTFOUND) {
		return nil
	}
	g, gerr := lookupGroup(ctx, api, id)
	if gerr != nil {
		return nil
	}
	return g
}

// memberResult is one member's outcome of a command on a group
// (--output json gives an array of them).
type memberResult struct {
	TicketID  string       `json:"ticket_id"`
	AccountID string       `json:"account_id,omitempty"`
	Ticket    *wire.Ticket `json:"ticket,omitempty"`
	Error     *wire.Error  `json:"error,omitempty"`
	err       error        // what Error says, for the text output
}

// eachMember runs act on every member of g, one after the other: a
// member the caller may not act on (or see: the server answers not
// found) is reported and the others go on. It prints one line per member,
// "111111111111 (dev): terminated (ticket ID)" or the refusal, or with
// --output json the array of results; the error says how many failed.
func eachMember(g *group, output string, names map[string]string, w io.Writer, act func(id string) (wire.Ticket, error)) error {
	out := make([]memberResult, 0, len(g.members))
	failed := 0
	for _, id := range g.members {
		r := memberResult{TicketID: id, AccountID: g.seen[id].AccountID}
		t, err := act(id)
		if err != nil {
			failed++
			r.Error, r.err = errorOf(err), err
		} else {
			r.Ticket, r.AccountID = &t, t.AccountID
		}
		out = append(out, r)
	}
	if output == "json" {
		if err := printJSON(w, out); err != nil {
			return err
		}
	} else {
		for _, r := range out {
			label := "ticket " + shown(r.TicketID)
			if r.AccountID != "" {
				label = accountLabel(r.AccountID, names)
			}
			what := ""
			if r.err != nil {
				what = r.err.Error()
			} else {
				what = shown(string(r.Ticket.State))
			}
			fmt.Fprintf(w, "%s: %s (ticket %s)\n", label, what, shown(r.TicketID))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of the %d tickets of group %s failed", failed, len(out), shown(g.id))
	}
	return nil
}

// errorOf is err as the server's error body; another error (the server
// could not be reached) has no code.
func errorOf(err error) *wire.Error {
	var e *client.Error
	if errors.As(err, &e) {
		return &wire.Error{Code: e.Code, Message: e.Message}
	}
	return &wire.Error{Message: err.Error()}
}

// pick returns the member of g in an account (by id or name, see
// accountIDOf); without one, the one member the caller may see, and an
// error listing the accounts when there are several.
func (g *group) pick(ctx context.Context, api *client.Client, account string) (string, error) {
	var ids []string
	for _, id := range g.members {
		if _, ok := g.seen[id]; ok {
			ids = append(ids, id)
		}
	}
	switch {
	case account == "" && len(ids) == 1:
		return ids[0], nil
	case account == "":
		return "", fmt.Errorf("%s is a group of tickets in %d accounts: %s; pick one with --account ID or NAME",
			shown(g.id), len(ids), g.accounts(ctx, api, ids))
	}
	want, err := accountIDOf(ctx, api, account)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if g.seen[id].AccountID == want {
			return id, nil
		}
	}
	return "", fmt.Errorf("group %s has no ticket you may see in account %s; its accounts: %s",
		shown(g.id), shown(account), g.accounts(ctx, api, ids))
}

// accounts lists the accounts of the members ids: "111111111111 (dev), ...".
func (g *group) accounts(ctx context.Context, api *client.Client, ids []string) string {
	var names map[string]string
	if a, err := api.Accounts(ctx); err == nil {
		names = accountNames(a)
	}
	labels := make([]string, len(ids))
	for i, id := range ids {
		labels[i] = accountLabel(g.seen[id].AccountID, names)
	}
	return strings.Join(labels, ", ")
}

// accountIDOf reads an --account value: a 12-digit id as it is, else an
// account's name in the registry (GET /api/v1/accounts).
func accountIDOf(ctx context.Context, api *client.Client, account string) (string, error) {
	if accountID().MatchString(account) {
		return account, nil
	}
	accounts, err := api.Accounts(ctx)
	if err != nil {
		return "", err
	}
	id, ok := resolveAccount(accounts, account)
	if !ok {
		return "", fmt.Errorf("unknown account %q: give its 12-digit id or its name (jit whoami lists what you may request)", account)
	}
	return id, nil
}
