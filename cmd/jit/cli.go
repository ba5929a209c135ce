package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
)

// runFunc is one command's own implementation: it parses its own Go flag
// set from args (cobra's DisableFlagParsing), so every command keeps the
// flags, defaults and messages it had before the cobra tree.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// command is one entry of the tree: jit NAME.
type command struct {
	name, short string
	run         runFunc
	// subs are the words after NAME that select a subcommand (jit tickets
	// list), completed and listed in help; the run function dispatches.
	subs []string
	// ownHelp: the run function answers a lone -h/--help/help itself.
	ownHelp bool
}

// commands is the command tree under jit, in the order of the usage text.
func commands() []command {
	decide := func(verb string) runFunc {
		return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			return runDecide(ctx, verb, args, stdout, stderr)
		}
	}
	noCtx := func(f func(context.Context, []string, io.Writer) error) runFunc {
		return func(ctx context.Context, args []string, _, stderr io.Writer) error { return f(ctx, args, stderr) }
	}
	return []command{
		{name: "serve", short: "run the API (and the worker)", run: noCtx(runServe)},
		{name: "worker", short: "run only the worker", run: noCtx(runWorker)},
		{name: "dev", short: "the whole system on this machine, for development (dev token: a demo user's token)", run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			if len(args) > 0 && args[0] == "token" {
				return runDevToken(ctx, args[1:], stdout, stderr)
			}
			return runDev(ctx, args, stdout, stderr)
		}},
		{name: "sandbox", short: "the AWS sandbox on its own", run: runSandbox},
		{name: "login", short: "sign in with your identity provider", run: runLogin},
		{name: "logout", short: "forget the sign-in", run: runLogout},
		{name: "whoami", short: "who I am, what I may request and approve", run: runWhoami},
		{name: "request", short: "ask for access (prompts for what is missing on a terminal; --wait for the decision)", run: runRequest},
		{name: "tickets", short: "list, show or watch tickets", run: runTickets, subs: []string{"list", "get", "watch"}},
		{name: "approve", short: "approve a ticket", run: decide("approve")},
		{name: "reject", short: "reject a ticket", run: decide("reject")},
		{name: "terminate", short: "end a ticket's access now", run: decide("terminate")},
		{name: "review", short: "mark what an ended ticket did as reviewed", run: decide("review")},
		{name: "cancel", short: "withdraw my pending or approved ticket", run: runCancel},
		{name: "done", short: "end my active ticket now", run: runDone},
		{name: "extend", short: "ask for a ticket to last longer", run: runExtend},
		{name: "edit", short: "change a rejected ticket and resend it", run: runEdit},
		{name: "delegate", short: "let someone approve in my place for a while", run: runDelegate},
		{name: "delegations", short: "list, delete or decline delegations", run: runDelegations, subs: []string{"list", "delete", "decline"}},
		{name: "preapprove", short: "pre-approve a person for an account and permission set for a while", run: runPreApprove},
		{name: "preapprovals", short: "list or revoke pre-approvals", run: runPreApprovals, subs: []string{"list", "revoke"}},
		{name: "credentials", short: "credential_process for the AWS CLI", run: runCredentials},
		{name: "configure", short: "write an AWS CLI profile that uses jit credentials", run: runConfigure},
		{name: "exec", short: "run a command with the ticket's credentials", run: runExec},
		{name: "console", short: "open (or print) an AWS console sign-in link", run: runConsole},
		{name: "activity", short: "what was done in AWS during the ticket (CloudTrail)", run: runActivity},
		{name: "hint", short: "least-privilege hint: what the ticket used against what its permission set grants", run: runHint},
		{name: "reconcile", short: "run the reconciler now (admins)", run: runReconcile},
		{name: "audit", short: "the audit log", run: runAudit, subs: []string{"list", "timeline", "verify", "checkpoint", "export", "trim"}},
		{name: "admin", short: "administration (administrators only)", run: runAdmin, subs: []string{"apply", "export", "check", "usage", "accounts", "permission-sets"}, ownHelp: true},
		{name: "version", short: "print the version", run: func(_ context.Context, args []string, stdout, _ io.Writer) error { return runVersion(args, stdout) }},
	}
}

// usageOf returns the lines of the usage text about jit NAME (a command's
// line and the lines continuing it).
func usageOf(name string) string {
	var out []string
	in := false
	for _, l := range strings.Split(usage, "\n") {
		switch {
		case strings.HasPrefix(l, "  jit "+name+" ") || l == "  jit "+name:
			in = true
			out = append(out, l)
		case in && strings.HasPrefix(l, "        "):
			out = append(out, l)
		default:
			in = false
		}
	}
	return strings.Join(out, "\n")
}

// newRoot returns the cobra tree of jit, writing to stdout and stderr.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:                "jit",
		Short:              "just-in-time access to AWS accounts",
		SilenceErrors:      true,
		SilenceUsage:       true,
		DisableSuggestions: true,
		Args:               cobra.NoArgs,
	}
	version := root.Flags().Bool("version", false, "print the version")
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if *version {
			return runVersion(nil, stdout)
		}
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd == root {
			fmt.Fprint(cmd.OutOrStdout(), usage)
			fmt.Fprint(cmd.OutOrStdout(), "\nShell completion: jit completion bash|zsh|fish (see jit completion bash --help).\n")
			return
		}
		fmt.Fprint(cmd.OutOrStdout(), helpText(cmd))
	})
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, c := range commands() {
		root.AddCommand(leafCommand(c, stdout, stderr))
	}
	root.InitDefaultCompletionCmd()
	if cc, _, err := root.Find([]string{"completion"}); err == nil && cc != root {
		// jit completion without a shell, or with one cobra does not
		// know: an error, not the help and success.
		cc.Args = cobra.ArbitraryArgs
		cc.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("give a shell: jit completion bash|zsh|fish")
			}
			return fmt.Errorf("unknown shell %q: use bash, zsh or fish", args[0])
		}
	}
	return root
}

// helpText is a command's help: its lines of the usage text, else cobra's.
func helpText(cmd *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", cmd.CommandPath(), cmd.Short)
	if u := usageOf(cmd.Name()); u != "" {
		fmt.Fprintf(&b, "\nUsage:\n%s\n", u)
	} else {
		b.WriteString("\n" + cmd.UsageString())
	}
	return b.String()
}

// leafCommand wraps one command: cobra finds it, prints its help and
// completes it; its run function parses the rest.
func leafCommand(c command, stdout, stderr io.Writer) *cobra.Command {
	cc := &cobra.Command{
		Use:                c.name,
		Short:              c.short,
		DisableFlagParsing: true,
		ValidArgsFunction:  completer(c),
	}
	cc.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if len(args) > 0 && !c.ownHelp && (isHelpFlag(args[0]) || args[0] == "help") && (len(c.subs) > 0 || args[0] == "help") {
			// jit tickets --help: the group's lines of the usage text.
			fmt.Fprint(stdout, helpText(cmd))
			return nil
		}
		if i := slices.IndexFunc(args, isHelpFlag); i >= 0 && !c.ownHelp && (c.name != "exec" || !slices.Contains(args[:i], "--")) {
			// The command's usage lines, then its flags (the flag set's -h).
			if u := usageOf(c.name); u != "" {
				fmt.Fprintf(stderr, "Usage:\n%s\n\n", u)
			}
		}
		return c.run(ctx, args, stdout, stderr)
	}
	return cc
}

var unknownCommand = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^unknown command "(.*)" for "jit"`) })

// cliError words cobra's own errors as one line that says what to do.
func cliError(err error) error {
	msg := err.Error()
	if m := unknownCommand().FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown command %q: see jit --help", m[1])
	}
	if strings.HasPrefix(msg, "unknown flag") || strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "flag needs an argument") {
		return fmt.Errorf("%s: see jit --help", strings.SplitN(msg, "\n", 2)[0])
	}
	return err
}

// flagNames lists the flags of a command (with its subcommand words) by
// asking its flag set for -h, for completion.
func flagNames(ctx context.Context, c command, words []string) []string {
	var buf bytes.Buffer
	c.run(ctx, append(slices.Clone(words), "-h"), io.Discard, &buf)
	var out []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, "  -") {
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "  -"), " ")
			name, _, _ = strings.Cut(name, "\t")
			out = append(out, "--"+name)
		}
	}
	return out
}
