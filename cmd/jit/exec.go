package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// exitCodeError makes main exit with the code of the command jit exec ran,
// printing nothing.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// awsCredentialEnv are the variables jit exec sets, and clears from its
// own environment so no other credentials leak into the command.
var awsCredentialEnv = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
	"AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
}

// runExec runs one command with a ticket's credentials in its environment
// (like `aws-vault exec`): AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN and AWS_CREDENTIAL_EXPIRATION. The credentials are
// never printed; jit exits with the command's exit code.
func runExec(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("exec", stderr)
	c.bind(fs, false)
	var sel ticketSelector
	sel.bind(fs)
	dash := -1
	for i, a := range args {
		if a == "--" {
			dash = i
			break
		}
	}
	if dash < 0 {
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
	}
	if dash < 0 || dash == len(args)-1 {
		return errors.New("usage: jit exec --ticket ID -- COMMAND [ARG]...")
	}
	if pos, err := parseFlags(fs, args[:dash]); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q before --", pos[0])
	}
	if err := sel.check(); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	argv := args[dash+1:]
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	doc, err := sessionFor(ctx, c, sel, false)
	if err != nil {
		return err
	}
	env := make([]string, 0, len(os.Environ())+5)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !containsFold(awsCredentialEnv, k) && k != "JIT_TOKEN" {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID="+doc.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+doc.SecretAccessKey,
		"AWS_SESSION_TOKEN="+doc.SessionToken, "AWS_CREDENTIAL_EXPIRATION="+doc.Expiration)
	cmd := exec.Command(path, argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	// jit outlives the command: main catches SIGINT and SIGTERM (caught,
	// not ignored, so the command starts with the default handlers). The
	// terminal's Ctrl-C reaches the command by itself (same process group);
	// a SIGTERM or SIGHUP sent to jit alone is passed on.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot run %s: %w", argv[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
wait:
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case err = <-waited:
			break wait
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if code < 0 { // killed by a signal
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
		return exitCodeError{code}
	}
	return err
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
