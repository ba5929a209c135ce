package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// completionTimeout bounds what completion asks the server: a shell waits
// for the answer at every Tab.
const completionTimeout = 3 * time.Second

// takesTicketID are the commands (and subcommands) whose first positional
// argument is a ticket id.
var takesTicketID = map[string]bool{
	"approve": true, "reject": true, "terminate": true, "review": true, "cancel": true, "done": true,
	"extend": true, "edit": true, "activity": true, "tickets get": true, "audit timeline": true,
}

// completer completes one command's words: its subcommands, flag names
// (from its flag set), and from the server ticket ids, accounts (ids and
// names) and permission sets. Without a sign-in or a server it completes
// nothing, quietly.
func completer(c command) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		const none = cobra.ShellCompDirectiveNoFileComp
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		var words []string // the subcommand words
		if len(c.subs) > 0 {
			if len(args) == 0 {
				return prefixed(c.subs, toComplete), none
			}
			words, args = args[:1], args[1:]
		}
		if strings.HasPrefix(toComplete, "-") {
			return prefixed(flagNames(ctx, c, words), toComplete), none
		}
		prev := ""
		if len(args) > 0 {
			prev = strings.TrimLeft(args[len(args)-1], "-")
		}
		key := strings.Join(append([]string{c.name}, words...), " ")
		switch prev {
		case "ticket":
			// --ticket of credentials, configure, exec, console: a ticket
			// that gives access; of audit list: any.
			return completeTickets(ctx, args, c.name, toComplete), none
		case "account":
			// Only jit request takes an account by name.
			return completeAccounts(ctx, args, toComplete, c.name == "request"), none
		case "permission-set":
			return completePermissionSets(ctx, args, toComplete), none
		case "f", "o", "config", "fixture":
			return nil, cobra.ShellCompDirectiveDefault // files
		}
		if takesTicketID[key] && positionals(args) == 0 {
			return completeTickets(ctx, args, c.name, toComplete), none
		}
		return nil, none
	}
}

// positionals counts the arguments that are neither flags nor their values
// (a guess without the flag set: "--flag value" pairs unless --flag=value).
func positionals(args []string) int {
	n := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return n + len(args) - i - 1
		case strings.HasPrefix(a, "-") && !strings.Contains(a, "="):
			i++ // its value
		case strings.HasPrefix(a, "-"):
		default:
			n++
		}
	}
	return n
}

// flagValue is the value of --name in args ("" if absent).
func flagValue(args []string, name string) string {
	for i, a := range args {
		n, v, eq := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || n != name {
			continue
		}
		if eq {
			return v
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// completionClient is the server's client for completion: --url and
// --token from the words typed, else JIT_URL, JIT_TOKEN and `jit login`.
func completionClient(args []string) (*client.Client, bool) {
	c := clientFlags{url: flagValue(args, "url"), token: flagValue(args, "token")}
	if c.url == "" {
		c.url = serverURLDefault()
	}
	if c.check() != nil {
		return nil, false
	}
	return c.api(), true
}

// completeTickets offers the tickets the user sees that verb can act on
// (approve and reject: those waiting for their decision; credentials:
// their approved or active ones...), ids with state, permission set and
// account as the description.
func completeTickets(ctx context.Context, args []string, verb, toComplete string) []cobra.Completion {
	api, ok := completionClient(args)
	if !ok {
		return nil
	}
	q := url.Values{}
	switch verb {
	case "approve", "reject":
		q.Set("pending_for_me", "true")
	case "credentials", "configure", "exec", "console", "done":
		q.Set("mine", "true")
		q.Set("state", "approved,active")
	case "cancel":
		q.Set("mine", "true")
		q.Set("state", "pending,approved")
	case "terminate", "extend":
		q.Set("state", "approved,active")
	}
	list, err := api.Tickets(ctx, q)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, t := range list.Tickets {
		if strings.HasPrefix(t.ID, toComplete) {
			out = append(out, cobra.CompletionWithDesc(oneLine(t.ID), oneLine(string(t.State)+" "+t.PermissionSet+" in "+t.AccountID)))
		}
	}
	return out
}

// completeAccounts offers the accounts the user may request in, by id
// (the name as description) and, withNames, by name too.
func completeAccounts(ctx context.Context, args []string, toComplete string, withNames bool) []cobra.Completion {
	api, ok := completionClient(args)
	if !ok {
		return nil
	}
	me, err := api.Me(ctx)
	if err != nil || me.Access == nil {
		return nil
	}
	accounts, _ := api.Accounts(ctx)
	names := accountNames(accounts)
	var out []cobra.Completion
	for _, id := range requestableAccounts(me, "") {
		if strings.HasPrefix(id, toComplete) {
			out = append(out, cobra.CompletionWithDesc(oneLine(id), oneLine(names[id])))
		}
		if n := names[id]; withNames && n != "" && strings.HasPrefix(n, toComplete) {
			out = append(out, cobra.CompletionWithDesc(oneLine(n), oneLine(id)))
		}
	}
	return out
}

// completePermissionSets offers the permission sets the user may request
// (in the --account typed, when there is one).
func completePermissionSets(ctx context.Context, args []string, toComplete string) []cobra.Completion {
	api, ok := completionClient(args)
	if !ok {
		return nil
	}
	me, err := api.Me(ctx)
	if err != nil || me.Access == nil {
		return nil
	}
	account := flagValue(args, "account")
	if account != "" {
		if accounts, err := api.Accounts(ctx); err == nil {
			if id, ok := resolveAccount(accounts, account); ok {
				account = id
			}
		}
	}
	var out []cobra.Completion
	for _, p := range requestablePermissionSets(me, account) {
		if strings.HasPrefix(p, toComplete) {
			out = append(out, oneLine(p))
		}
	}
	return out
}

// requestableAccounts are the account ids the user may request in (with
// permissionSet, when not ""), in order, once each.
func requestableAccounts(me wire.Me, permissionSet string) []string {
	var out []string
	if me.Access == nil {
		return nil
	}
	for _, r := range me.MayRequest {
		if permissionSet != "" && r.PermissionSet != permissionSet {
			continue
		}
		for _, a := range r.Accounts {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// requestablePermissionSets are the permission sets the user may request
// (in account, when not "").
func requestablePermissionSets(me wire.Me, account string) []string {
	var out []string
	if me.Access == nil {
		return nil
	}
	for _, r := range me.MayRequest {
		if (account == "" || slices.Contains(r.Accounts, account) || slices.Contains(r.Accounts, "*")) && !slices.Contains(out, r.PermissionSet) {
			out = append(out, r.PermissionSet)
		}
	}
	return out
}

// accountNames maps account ids to names.
func accountNames(a wire.Accounts) map[string]string {
	out := map[string]string{}
	for _, x := range a.Accounts {
		out[x.ID] = x.Name
	}
	return out
}

// resolveAccount finds an account by id or name.
func resolveAccount(a wire.Accounts, idOrName string) (string, bool) {
	for _, x := range a.Accounts {
		if x.ID == idOrName {
			return x.ID, true
		}
	}
	var found []string
	for _, x := range a.Accounts {
		if strings.EqualFold(x.Name, idOrName) {
			found = append(found, x.ID)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

// prefixed are the words starting with prefix.
func prefixed(words []string, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// oneLine makes server text safe for a completion line (no tabs, newlines
// or control characters: the shell script splits on them, and a terminal
// would obey them).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
