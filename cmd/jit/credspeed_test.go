package main

import (
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
// time of `jit credentials` served from its cache, against `jit version`
// (process start and package initialisation only), and the package
// initialisation itself (GODEBUG=inittrace=1). Numbers: docs/benchmarks.md.
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
	cmd := exec.Command(jitBin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, _ := cmd.CombinedOutput()
	var total float64
	type pkg struct {
		name string
		ms   float64
	}
	var pkgs []pkg
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && f[0] == "init" {
			ms, _ := strconv.ParseFloat(f[4], 64)
			total += ms
			pkgs = append(pkgs, pkg{f[1], ms})
		}
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return int((b.ms - a.ms) * 1000) })
	t.Logf("package initialisation: %.1f ms in %d packages; the slowest: %v", total, len(pkgs), pkgs[:min(5, len(pkgs))])
}

// profileVsStatic measures what `jit credentials` adds to an AWS CLI call:
// /usr/bin/aws sts get-caller-identity through a credential_process profile
// (cache filled) against the same call with the same credentials given
// statically, interleaved so that load on the machine falls on both alike.
func profileVsStatic(t *testing.T, h *harness, id string) {
	needAWSCLI(t)
	creds := h.credentials("alice@example.com", id)
	config := filepath.Join(t.TempDir(), "config")
	profile := "[profile speed]\nregion = us-east-1\ncredential_process = " + jitBin + " credentials --ticket " + id + "\n"
	if err := os.WriteFile(config, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	viaJit := append(h.jitCmd("alice@example.com").Env, "AWS_CONFIG_FILE="+config, "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	static := awsEnv(creds)
	const runs = 60
	var withJit, without, diff []time.Duration
	call := func(env []string, args ...string) time.Duration {
		t0 := time.Now()
		if out, err := h.awsCLI(env, append(args, "sts", "get-caller-identity")...); err != nil {
			t.Fatalf("aws: %v %s", err, out)
		}
		return time.Since(t0)
	}
	for range runs {
		a, b := call(viaJit, "--profile", "speed"), call(static)
		withJit, without, diff = append(withJit, a), append(without, b), append(diff, a-b)
	}
	for _, d := range [][]time.Duration{withJit, without, diff} {
		slices.Sort(d)
	}
	p, s, d := withJit[runs/2], without[runs/2], diff[runs/2]
	t.Logf("aws sts get-caller-identity p50: %s through jit credentials, %s with static credentials; "+
		"median paired difference %s: overhead %.1f %%", p, s, d, 100*float64(d)/float64(s))
}
