package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// profileName is what `jit configure` accepts as an AWS CLI profile name.
var profileName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+@-]{0,127}$`) })

// runConfigure writes an AWS CLI profile whose credential_process is
// `jit credentials` for a ticket, or for the caller's active ticket of an
// account and permission set, into the AWS config file (AWS_CONFIG_FILE,
// else ~/.aws/config). Only that profile's credential_process (and
// region, with --region) lines are written; the rest of the file is kept
// byte for byte, and a second run changes nothing.
func runConfigure(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	flags := newFlagSet("configure", stderr)
	c.bind(flags, false)
	var sel ticketSelector
	sel.bind(flags)
	profile := flags.String("profile", "", "AWS CLI profile name (default: jit-<ticket> or jit-<account>-<permission set>)")
	region := flags.String("region", "", "also set the profile's region")
	if pos, err := parseFlags(flags, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := sel.check(); err != nil {
		return err
	}
	if *profile != "" && !profileName().MatchString(*profile) {
		return fmt.Errorf("--profile %q: use letters, digits and _ . + @ - only", *profile)
	}
	if *region != "" && !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`).MatchString(*region) {
		return fmt.Errorf("--region %q is not an AWS region name", *region)
	}
	if err := c.check(); err != nil {
		return err
	}
	if err := sel.exists(ctx, c); err != nil {
		return err
	}
	if *profile == "" {
		if sel.ticket != "" {
			*profile = "jit-" + sel.ticket
		} else {
			*profile = "jit-" + sel.account + "-" + sel.permissionSet
		}
		if !profileName().MatchString(*profile) {
			return fmt.Errorf("cannot name a profile %q: give --profile", *profile)
		}
	}
	self, err := selfPath()
	if err != nil {
		return err
	}
	cmd := []string{self, "credentials"}
	if uc, _ := loadUserConfig(); normServer(uc.URL) != normServer(c.url) {
		cmd = append(cmd, "--url", c.url) // not the server jit login remembers
	}
	if sel.ticket != "" {
		cmd = append(cmd, "--ticket", sel.ticket)
	} else {
		cmd = append(cmd, "--account", sel.account, "--permission-set", sel.permissionSet)
	}
	keys := []string{"credential_process"}
	vals := map[string]string{"credential_process": shellJoin(cmd)}
	if *region != "" {
		keys = append(keys, "region")
		vals["region"] = *region
	}
	path, err := awsConfigPath()
	if err != nil {
		return err
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real // a linked dotfile stays linked
	}
	old, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	if errors.Is(err, fs.ErrNotExist) {
		old = nil
	} else if err != nil {
		return fmt.Errorf("cannot read the AWS config file: %w", err)
	} else if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	text, changed, err := setProfile(string(old), *profile, keys, vals, isJitCredentialProcess)
	if err != nil {
		return err
	}
	if changed {
		if err := writeFileMode(path, []byte(text), mode); err != nil {
			return fmt.Errorf("cannot write the AWS config file: %w", err)
		}
		fmt.Fprintf(stderr, "Wrote profile %s to %s.\n", *profile, path)
	} else {
		fmt.Fprintf(stderr, "Profile %s in %s is already up to date.\n", *profile, path)
	}
	fmt.Fprintf(stderr, "Use it with: aws --profile %s sts get-caller-identity\n", *profile)
	return nil
}

// exists checks with the server that the selection names something the
// caller can use, so a typo fails here rather than later inside the AWS
// CLI: the ticket can be read (--ticket GROUP --account A becomes the
// member's ticket id), or the pair is one the caller may request.
func (s *ticketSelector) exists(ctx context.Context, c clientFlags) error {
	if s.ticket != "" {
		// A group's member is written as its own ticket id. With
		// --account, resolve has read the ticket (or the group) already.
		var member string
		err := s.use(ctx, c, func(id string) error {
			member = id
			if s.account != "" {
				return nil
			}
			_, err := c.api().Ticket(ctx, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("ticket %s: %w", s.ticket, err)
		}
		s.ticket, s.account = member, ""
		return nil
	}
	account, err := accountIDOf(ctx, c.api(), s.account)
	if err != nil {
		return err
	}
	me, err := whoami(ctx, c)
	if err != nil {
		return err
	}
	if me.Truncated {
		return nil
	}
	for _, r := range me.MayRequest {
		if strings.EqualFold(r.PermissionSet, s.permissionSet) && slices.Contains(r.Accounts, account) {
			return nil
		}
	}
	return fmt.Errorf("you may not request %s in account %s (see `jit whoami`)", shown(s.permissionSet), shown(s.account))
}

// awsConfigPath is the AWS CLI's config file: AWS_CONFIG_FILE, else
// ~/.aws/config.
func awsConfigPath() (string, error) {
	if p := os.Getenv("AWS_CONFIG_FILE"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home directory for ~/.aws/config: %w", err)
	}
	return filepath.Join(home, ".aws", "config"), nil
}

// selfPath is the absolute path of this jit as the user invoked it (a
// symlink stays a symlink, so an upgrade behind it keeps the profile
// working).
func selfPath() (string, error) {
	arg0 := os.Args[0]
	if !strings.ContainsRune(arg0, filepath.Separator) {
		if p, err := exec.LookPath(arg0); err == nil {
			arg0 = p
		}
	}
	if strings.ContainsRune(arg0, filepath.Separator) {
		if p, err := filepath.Abs(arg0); err == nil {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot tell where this jit is: %w", err)
	}
	return p, nil
}

// isJitCredentialProcess reports whether a credential_process line is one
// `jit configure` wrote.
func isJitCredentialProcess(v string) bool {
	return strings.Contains(v, " credentials --ticket ") || strings.Contains(v, " credentials --account ") ||
		(strings.Contains(v, " credentials --url ") && strings.Contains(v, "jit"))
}

// shellJoin quotes the words the way the AWS CLI splits credential_process
// (POSIX shell words).
func shellJoin(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w != "" && !strings.ContainsAny(w, " \t\n\"'\\$`;&|<>()*?[]#~%") {
			out[i] = w
			continue
		}
		out[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// writeFileMode replaces path atomically with data and the given mode,
// creating its directory (0700) when needed.
func writeFileMode(path string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
