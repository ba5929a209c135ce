package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// jit --help, jit COMMAND --help, and bad command lines: help on stdout
// and a zero exit; one line on stderr and a non-zero exit, no stack trace.
func TestHelpTree(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // in stdout
		stderr string // in stderr
	}{
		{[]string{"--help"}, 0, "jit request --account ID", ""},
		{[]string{"help"}, 0, "jit tickets watch", ""},
		{[]string{"tickets", "--help"}, 0, "jit tickets get ID", ""},
		{[]string{"help", "approve"}, 0, "jit approve ID [--revision N]", ""},
		{[]string{"request", "--help"}, 0, "", "-permission-set"},
		{[]string{"frobnicate"}, 1, "", `jit: unknown command "frobnicate": see jit --help`},
		{[]string{"--frobnicate"}, 1, "", "jit: unknown flag: --frobnicate: see jit --help"},
		{[]string{"approve", "--frobnicate"}, 1, "", "jit: flag provided but not defined: -frobnicate"},
		{[]string{"tickets", "frobnicate"}, 1, "", `unknown tickets command "frobnicate"`},
		{[]string{"completion", "tcsh"}, 1, "", `jit: unknown shell "tcsh": use bash, zsh or fish`},
		{[]string{"completion"}, 1, "", "jit: give a shell: jit completion bash|zsh|fish"},
		{[]string{"completion", "bash", "--help"}, 0, "jit completion bash", ""},
	} {
		name := strings.Join(tc.args, " ")
		cmd := exec.Command(jitBin, tc.args...)
		cmd.Env = append(os.Environ(), "JIT_URL=http://127.0.0.1:1", "JIT_TOKEN=x")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != tc.code {
			t.Errorf("jit %s: exit %d, want %d\n%s%s", name, code, tc.code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("jit %s: stdout %q, stderr %q; want %q and %q", name, out.String(), errb.String(), tc.stdout, tc.stderr)
		}
		if tc.code != 0 && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
			t.Errorf("jit %s: stderr is more than one line: %q", name, errb.String())
		}
		if strings.Contains(errb.String(), "goroutine ") || strings.Contains(errb.String(), "panic") {
			t.Errorf("jit %s: a stack trace: %s", name, errb.String())
		}
	}
}

// jit completion writes a script for each shell, and the script's hidden
// __complete answers with the server's ticket ids, accounts and permission
// sets; without a server it answers nothing, quietly.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, err := exec.Command(jitBin, "completion", shell).Output()
		if err != nil || len(out) < 500 || !strings.Contains(string(out), "__complete") {
			t.Errorf("jit completion %s: %v, %d bytes", shell, err, len(out))
		}
	}
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "completion")
	complete := func(user string, words ...string) string {
		t.Helper()
		out, errOut, err := h.jit(user, append([]string{"__complete"}, words...)...)
		if err != nil {
			t.Fatalf("jit __complete %q: %v\n%s", words, err, errOut)
		}
		return out
	}
	for _, tc := range []struct {
		user  string
		words []string
		want  []string
		not   []string
	}{
		{"bob@example.com", []string{"approve", ""}, []string{tk.ID + "\tpending ReadOnlyAccess in 111111111111"}, nil},
		{"alice@example.com", []string{"approve", ""}, nil, []string{tk.ID}}, // not alice's to decide
		{"alice@example.com", []string{"tickets", "get", ""}, []string{tk.ID}, nil},
		{"alice@example.com", []string{"credentials", "--ticket", ""}, nil, []string{tk.ID}}, // not approved yet
		{"alice@example.com", []string{"cancel", tk.ID[:3]}, []string{tk.ID}, nil},
		{"alice@example.com", []string{"request", "--account", ""}, []string{"111111111111\tdev", "prod\t333333333333"}, nil},
		{"alice@example.com", []string{"request", "--account", "st"}, []string{"staging\t222222222222"}, []string{"dev"}},
		{"alice@example.com", []string{"request", "--account", "dev", "--permission-set", ""}, []string{"ReadOnlyAccess", "PowerUserAccess"}, nil},
		{"alice@example.com", []string{"request", "--re"}, []string{"--reason"}, nil},
		{"alice@example.com", []string{"configure", "--account", ""}, []string{"111111111111\tdev"}, []string{"prod\t"}}, // ids only
		{"alice@example.com", []string{"tickets", ""}, []string{"list", "get", "watch"}, nil},
		{"alice@example.com", []string{"tickets", "list", "--mi"}, []string{"--mine"}, nil},
	} {
		got := complete(tc.user, tc.words...)
		for _, w := range tc.want {
			if !strings.Contains("\n"+got, "\n"+w+"\n") && !strings.Contains("\n"+got, "\n"+w+"\t") {
				t.Errorf("jit __complete %q as %s:\n%s\nlacks %q", tc.words, tc.user, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("jit __complete %q as %s:\n%s\noffers %q", tc.words, tc.user, got, w)
			}
		}
	}
	if out, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatalf("approve: %v %s%s", err, out, errOut)
	}
	for _, words := range [][]string{{"credentials", "--ticket", ""}, {"exec", "--ticket", ""}, {"terminate", ""}} {
		if got := complete("alice@example.com", words...); !strings.HasPrefix(got, tk.ID+"\t") {
			t.Errorf("jit __complete %q after approval:\n%s", words, got)
		}
	}
	if got := complete("bob@example.com", "credentials", "--ticket", ""); strings.Contains(got, tk.ID) {
		t.Errorf("bob is offered alice's ticket for credentials:\n%s", got)
	}

	// No server: nothing, no error.
	cmd := exec.Command(jitBin, "__complete", "approve", "")
	cmd.Env = append(os.Environ(), "JIT_URL=http://127.0.0.1:1", "JIT_TOKEN=x")
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) != ":4" {
		t.Errorf("jit __complete approve without a server: %v %q, want only the directive", err, out)
	}
}
