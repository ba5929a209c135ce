package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
)

// TestCredentialsCachedSpeed measures (with JIT_BENCH_CLI=1, -v) the wall
// time of `jit credentials` served from its cache (the fast path of
// package fastcred), against `jit version` (process start and package
// initialisation only), and the package initialisation itself
// (GODEBUG=inittrace=1). Numbers: docs/benchmarks.md.
func TestCredentialsCachedSpeed(t *testing.T) {
	if os.Getenv("JIT_BENCH_CLI") == "" {
		t.Skip("set JIT_BENCH_CLI=1 to measure")
	}
	h := newHarness(t)
	tk := h.request("alice@example.com", "--account", "111111111111", "--permission-set", "ReadOnlyAccess", "--duration", "1h", "--reason", "speed")
	if _, errOut, err := h.jit("bob@example.com", "approve", tk.ID); err != nil {
		t.Fatal(errOut)
	}
	h.waitState(tk.ID, broker.StateActive, 15*time.Second)
	h.credentials("alice@example.com", tk.ID) // fills the cache
	const runs = 100
	measure := func(args ...string) (p50, p90 time.Duration) {
		var d []time.Duration
		for range runs {
			cmd := h.jitCmd("alice@example.com", args...)
			t0 := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("jit %s: %v %s", args, err, out)
			}
			d = append(d, time.Since(t0))
		}
		slices.Sort(d)
		return d[runs/2], d[runs*9/10]
	}
	c50, c90 := measure("credentials", "--ticket", tk.ID)
	v50, v90 := measure("version")
	t.Logf("jit credentials (cached): p50 %s, p90 %s; jit version: p50 %s, p90 %s", c50, c90, v50, v90)
	profileVsStatic(t, h, tk.ID)
	type pkg struct {
		name string
		ms   float64
	}
	inits := func(cmd *exec.Cmd) (total float64, pkgs []pkg) {
		cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
		out, _ := cmd.CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			f := strings.Fields(l)
			if len(f) > 5 && f[0] == "init" {
				ms, _ := strconv.ParseFloat(f[4], 64)
				total += ms
				pkgs = append(pkgs, pkg{f[1], ms})
			}
		}
		return total, pkgs
	}
	total, pkgs := inits(exec.Command(jitBin, "version"))
	slices.SortFunc(pkgs, func(a, b pkg) int { return int((b.ms - a.ms) * 1000) })
	t.Logf("package initialisation: %.1f ms in %d packages; the slowest: %v", total, len(pkgs), pkgs[:min(5, len(pkgs))])
	total, pkgs = inits(h.jitCmd("alice@example.com", "credentials", "--ticket", tk.ID))
	t.Logf("the fast path (package fastcred's init) runs after %.1f ms of initialisation in %d packages", total, len(pkgs))
}

// profileVsStatic measures what `jit credentials` adds to an AWS CLI call:
// /usr/bin/aws sts get-caller-identity through a credential_process profile
// (cache filled) against the same call with the same credentials given
// statically, interleaved so that load on the machine falls on both alike.
// A third profile whose credential_process is /bin/cat of the same
// document gives what any credential_process costs the AWS CLI.
func profileVsStatic(t *testing.T, h *harness, id string) {
	needAWSCLI(t)
	creds := h.credentials("alice@example.com", id)
	dir := t.TempDir()
	doc, _ := json.Marshal(creds)
	if err := os.WriteFile(filepath.Join(dir, "doc.json"), doc, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	profile := "[profile speed]\nregion = us-east-1\ncredential_process = " + jitBin + " credentials --ticket " + id + "\n" +
		"[profile cat]\nregion = us-east-1\ncredential_process = /bin/cat " + filepath.Join(dir, "doc.json") + "\n"
	if err := os.WriteFile(config, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	viaJit := append(h.jitCmd("alice@example.com").Env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	static := awsEnv(creds)
	call := func(env []string, args ...string) time.Duration {
		t0 := time.Now()
		if out, err := h.awsCLI(env, append(args, "sts", "get-caller-identity")...); err != nil {
			t.Fatalf("aws: %v %s", err, out)
		}
		return time.Since(t0)
	}
	const runs = 60
	// Each round calls the three in turn, starting with another each time.
	arms := []func() time.Duration{
		func() time.Duration { return call(viaJit, "--profile", "speed") },
		func() time.Duration { return call(viaJit, "--profile", "cat") },
		func() time.Duration { return call(static) },
	}
	var took [3][]time.Duration
	var diff, diffCat, jitVsCat []time.Duration
	for i := range runs {
		var d [3]time.Duration
		for k := range 3 {
			arm := (i + k) % 3
			d[arm] = arms[arm]()
		}
		for arm := range 3 {
			took[arm] = append(took[arm], d[arm])
		}
		diff, diffCat, jitVsCat = append(diff, d[0]-d[2]), append(diffCat, d[1]-d[2]), append(jitVsCat, d[0]-d[1])
	}
	for _, d := range [][]time.Duration{took[0], took[1], took[2], diff, diffCat, jitVsCat} {
		slices.Sort(d)
	}
	s := took[2][runs/2]
	pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(s) }
	t.Logf("aws sts get-caller-identity p50: %s through jit credentials, %s through /bin/cat, %s with static credentials; "+
		"median paired differences: jit credentials - static %s (%.1f %%), /bin/cat - static %s (%.1f %%), jit credentials - /bin/cat %s (%.1f %%)",
		took[0][runs/2], took[1][runs/2], s, diff[runs/2], pct(diff[runs/2]), diffCat[runs/2], pct(diffCat[runs/2]), jitVsCat[runs/2], pct(jitVsCat[runs/2]))
}
