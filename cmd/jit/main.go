// Command jit is JIT's server and command-line client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

const usage = `jit: just-in-time access to AWS accounts

Server commands:
  jit serve     --config FILE [--no-worker]   run the API (and the worker)
  jit worker    --config FILE                 run only the worker
  jit dev       [--addr HOST:PORT] [--sandbox-addr HOST:PORT]
                                              the whole system on this machine, for development
  jit dev token --user alice                  print a token for a demo user (dev mode only)
  jit sandbox   [--fixture FILE] [--addr HOST:PORT]
                                              the AWS sandbox on its own

Signing in (once; later commands need no --url or token):
  jit login [--url URL] [--no-browser]     sign in with your identity provider
  jit logout [--url URL]
  jit whoami                               who I am, what I may request and approve

Client commands (server from --url, JIT_URL or jit login; token from
--token, JIT_TOKEN or jit login):
  jit request --account ID --permission-set NAME [--for EMAIL]... [--start now|RFC3339]
              (--duration 1h | --end RFC3339) --reason TEXT [--wait]
                                           account by ID or name; on a terminal, prompts for
                                           what is missing; --wait waits for the decision
  jit request --break-glass --account ID --permission-set NAME --duration 1h --reason TEXT
                                           emergency: access now, no approval (a break-glass rule; reviewed after)
  jit tickets list [--state S[,S]] [--mine] [--pending-for-me] [--unreviewed] [--break-glass] [--requester E] [--beneficiary E] [--account ID] [--permission-set P] [--from T] [--to T] [--search TEXT] [--sort created|start|end|account] [--order asc|desc]
  jit tickets get ID                       a ticket; a group's id: each member, one line each
  jit tickets watch [--mine]               follow ticket changes, one line each
  jit approve ID [--revision N] [--comment TEXT]
  jit reject ID [--revision N] --comment TEXT
  jit terminate ID [--comment TEXT]        ID: a ticket, or a group (several accounts in one request):
                                           then each member, one line each, non-zero if one failed
  jit review ID [--comment TEXT]           mark what an ended (or break-glass) ticket did as reviewed (a second person)
  jit cancel ID [--comment TEXT]           withdraw my pending or approved ticket
  jit done ID [--comment TEXT]             end my active ticket now ("I'm done")
                                           (review, cancel, done: ID may be a group's, as for terminate)
  jit extend ID (--end RFC3339 | --duration D) --reason TEXT
  jit edit ID [--start T] [--end T | --duration D] [--reason TEXT] [--for EMAIL]... [--permission-set NAME]
                                           change a rejected ticket and resend it
  jit delegate --to EMAIL [--start now|RFC3339] (--end RFC3339 | --duration D)
  jit delegations list | delete ID | decline ID
  jit preapprove --for EMAIL --account ID --permission-set NAME (--duration 7d | --until RFC3339) --reason TEXT
                                           approve that person's own tickets inside the window at once
  jit preapprovals list [--all] [--person EMAIL] [--account A] [--permission-set P] [--ended true|false] | revoke ID
                                           mine (made by or for me); --all: everyone's (admins)
  jit credentials (--ticket ID | --ticket GROUP --account A | --account A --permission-set NAME)
                                           credential_process for the AWS CLI (A: account id or name)
  jit configure (--ticket ID | --ticket GROUP --account A | --account A --permission-set NAME) [--profile NAME]
                                           write an AWS CLI profile that uses jit credentials
  jit exec --ticket ID [--account A] -- COMMAND [ARG]...
                                           run a command with the ticket's credentials
  jit console --ticket ID [--account A] [--url-only] [--region R] [--destination URL]
                                           open (or print) an AWS console sign-in link
  jit activity ID                          what was done in AWS during the ticket (CloudTrail)
  jit hint ID [--policy]                   least privilege: the actions the ticket used vs what its permission set grants
  jit reconcile                            run the reconciler now (admins)
  jit audit list [--ticket ID] [--user E] [--type T] [--since T]...   the audit log (others' tickets: admins)
  jit audit timeline ID                    a ticket's audit events
  jit audit verify|checkpoint|export|trim --config FILE   check, export or trim the signed audit chain (server side)
  jit version                              print the version
  jit completion bash|zsh|fish             shell completion (ticket IDs, accounts, permission sets)

Administration (administrators only; see docs/registry.md):
  jit admin apply -f FILE [--dry-run]      check, show the diff, apply a registry file atomically
  jit admin export [-o FILE]               print the registry as a file apply accepts
  jit admin accounts import [--account ID]... [--dry-run]
  jit admin permission-sets import [--name NAME]... [--max-duration D] [--dry-run]
  jit admin usage                          per permission set, how much of what it grants its tickets used

Commands that print data take --output json. jit COMMAND --help shows a
command's flags.
`

func main() {
	// `jit credentials` may have been answered before main, from the init
	// of package fastcred (imported by credentials.go).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	var exit exitCodeError
	if errors.As(err, &exit) { // jit exec: the command's own exit code
		os.Exit(exit.code)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "jit:", withLoginHint(err))
		os.Exit(1)
	}
}

// run dispatches a command line through the cobra tree (newRoot); it is
// what main does, callable from tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return cliError(err)
	}
	return err
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("jit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Flags of %s:\n", fs.Name())
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args allowing flags after positional arguments
// ("jit approve ID --comment x"), and returns the positional ones.
// A bad flag is one line on stderr (main prints the error); the flag
// list is printed only for -h.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	if !slices.ContainsFunc(args, isHelpFlag) {
		out := fs.Output()
		fs.SetOutput(io.Discard)
		defer fs.SetOutput(out)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// isHelpFlag reports whether arg asks for a command's flags.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}
