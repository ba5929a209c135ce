package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

const adminUsage = `usage:
  jit admin apply -f FILE [--dry-run]       check, show the diff, and apply a registry file atomically
  jit admin export [-o FILE]                print the registry as a file apply accepts
  jit admin accounts import [--account ID]... [--dry-run]
  jit admin permission-sets import [--name NAME]... [--max-duration 8h] [--grant-path identity_center|role|both]
                                   [--accounts ID,...] [--requester-groups G,...] [--no-approval] [--dry-run]
  jit admin check [--config FILE] [--output json]
                                            with the server's config and AWS credentials: prove the AWS setup works
  jit admin usage [--output json]           per permission set, how much of what it grants its ended tickets used`

// runAdmin dispatches `jit admin ...`.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, adminUsage)
		return nil
	case "apply":
		return runAdminApply(ctx, args[1:], stdout, stderr)
	case "export":
		return runAdminExport(ctx, args[1:], stdout, stderr)
	case "check":
		return runAdminCheck(ctx, args[1:], stdout, stderr)
	case "usage":
		return runAdminUsage(ctx, args[1:], stdout, stderr)
	case "accounts", "permission-sets":
		if len(args) < 2 || args[1] != "import" {
			return fmt.Errorf("usage: jit admin %s import ...\n%s", args[0], adminUsage)
		}
		if args[0] == "accounts" {
			return runAdminImportAccounts(ctx, args[2:], stdout, stderr)
		}
		return runAdminImportPermissionSets(ctx, args[2:], stdout, stderr)
	}
	return fmt.Errorf("unknown admin command %q\n%s", args[0], adminUsage)
}

// applyInput is what `jit admin apply` takes.
type applyInput struct {
	file   string
	dryRun bool
}

func runAdminApply(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in applyInput
	fs := newFlagSet("admin apply", stderr)
	c.bind(fs, true)
	fs.StringVar(&in.file, "f", "", "registry file (YAML)")
	fs.StringVar(&in.file, "file", "", "registry file (YAML)")
	fs.BoolVar(&in.dryRun, "dry-run", false, "check and show the diff; change nothing")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if in.file == "" {
		return errors.New("usage: jit admin apply -f FILE [--dry-run]")
	}
	if err := c.check(); err != nil {
		return err
	}
	res, err := adminApply(ctx, &c, in, stdout)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, res)
	}
	return nil
}

// adminApply checks the file locally, asks the server for the diff (a dry
// run, which checks it again), prints the diff, and applies exactly that
// diff: the apply names the version the dry run saw, so a change made in
// between is refused rather than overwritten.
func adminApply(ctx context.Context, c *clientFlags, in applyInput, stdout io.Writer) (broker.ApplyResult, error) {
	src, err := os.ReadFile(in.file)
	if err != nil {
		return broker.ApplyResult{}, err
	}
	f, err := parseRegistryYAML(in.file, src)
	if err != nil {
		return broker.ApplyResult{}, err
	}
	local := f.data.Clone()
	broker.NormalizeRegistry(&local)
	if err := broker.CheckRegistry(local); err != nil {
		return broker.ApplyResult{}, f.explain(broker.ErrorMessage(err))
	}
	plan, err := c.api().ApplyRegistry(ctx, wire.Registry{RegistryData: f.data}, true)
	if err != nil {
		return plan, f.serverError(err)
	}
	text := c.output != "json"
	if !plan.Changed {
		if text {
			fmt.Fprintln(stdout, "no changes")
		}
		return plan, nil
	}
	if text {
		for _, l := range plan.Diff.Lines() {
			fmt.Fprintln(stdout, shown(l))
		}
		for _, w := range plan.Warnings {
			fmt.Fprintln(stdout, "warning:", shown(w))
		}
	}
	if in.dryRun {
		if text {
			fmt.Fprintln(stdout, "dry run: nothing applied")
		}
		return plan, nil
	}
	res, err := c.api().ApplyRegistry(ctx, wire.Registry{Version: plan.Version, RegistryData: f.data}, false)
	if err != nil {
		return res, f.serverError(err)
	}
	if text {
		fmt.Fprintf(stdout, "applied: registry version %d\n", res.Version)
	}
	return res, nil
}

// serverError points an invalid-registry answer at the file's lines.
func (f *registryFile) serverError(err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == broker.EINVALID {
		return f.explain(ae.Message)
	}
	return err
}

func runAdminExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("admin export", stderr)
	c.bind(fs, false)
	var out string
	fs.StringVar(&out, "o", "", "write to this file instead of stdout")
	fs.StringVar(&out, "output-file", "", "write to this file instead of stdout")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	r, err := c.api().Registry(ctx)
	if err != nil {
		return err
	}
	data, err := marshalRegistryYAML(r.RegistryData)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = stdout.Write(data)
		return err
	}
	return os.WriteFile(out, data, 0o644)
}

func runAdminImportAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("admin accounts import", stderr)
	c.bind(fs, true)
	var ids adminListFlag
	fs.Var(&ids, "account", "import only this account (repeatable)")
	dry := fs.Bool("dry-run", false, "show what would be registered; change nothing")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	res, err := c.api().ImportAccounts(ctx, wire.ImportAccounts{AccountIDs: ids, DryRun: *dry})
	if err != nil {
		return err
	}
	return printApplyResult(stdout, c.output, res)
}

func runAdminImportPermissionSets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("admin permission-sets import", stderr)
	c.bind(fs, true)
	var names adminListFlag
	fs.Var(&names, "name", "import only this permission set (repeatable)")
	maxDuration := fs.String("max-duration", "", "max_duration of new permission sets (default: their session duration)")
	grantPath := fs.String("grant-path", "", "grant_path of new permission sets (default identity_center)")
	accounts := fs.String("accounts", "", "scope accounts of new permission sets, comma-separated (\"*\" for all)")
	groups := fs.String("requester-groups", "", "scope requester groups of new permission sets, comma-separated (\"*\" for everyone)")
	noApproval := fs.Bool("no-approval", false, "new permission sets need no approval")
	dry := fs.Bool("dry-run", false, "show what would be registered; change nothing")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	in := wire.ImportPermissionSets{
		Names: names, MaxDuration: *maxDuration, GrantPath: broker.GrantPath(*grantPath), NoApproval: *noApproval, DryRun: *dry,
		Scope: broker.Scope{Accounts: adminSplitList(*accounts), RequesterGroups: adminSplitList(*groups)},
	}
	res, err := c.api().ImportPermissionSets(ctx, in)
	if err != nil {
		return err
	}
	return printApplyResult(stdout, c.output, res)
}

// printApplyResult prints a change for people: the diff, warnings, and
// what happened.
func printApplyResult(w io.Writer, output string, res broker.ApplyResult) error {
	if output == "json" {
		return printJSON(w, res)
	}
	if !res.Changed {
		fmt.Fprintln(w, "no changes")
	}
	for _, l := range res.Diff.Lines() {
		fmt.Fprintln(w, shown(l))
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, "warning:", shown(warn))
	}
	switch {
	case res.Changed && res.DryRun:
		fmt.Fprintln(w, "dry run: nothing applied")
	case res.Changed:
		fmt.Fprintf(w, "applied: registry version %d\n", res.Version)
	}
	return nil
}

// adminListFlag is a repeatable string flag.
type adminListFlag []string

func (l *adminListFlag) String() string     { return strings.Join(*l, ",") }
func (l *adminListFlag) Set(v string) error { *l = append(*l, v); return nil }

func adminSplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
