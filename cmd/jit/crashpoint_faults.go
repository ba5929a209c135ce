//go:build faults

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// In a binary built with `-tags faults` (the crash suite, `make
// test-faults`), JIT_CRASH_POINT names one or more crash points
// (broker.CrashPoints, comma-separated): the first time the server reaches
// one of them it kills itself with SIGKILL, as a crash would: no deferred
// function, no drain, no flush.
func init() {
	armed := map[string]bool{}
	for p := range strings.SplitSeq(os.Getenv("JIT_CRASH_POINT"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			armed[p] = true
		}
	}
	if len(armed) == 0 {
		return
	}
	crashHook = func(point string) {
		if armed[point] {
			fmt.Fprintf(os.Stderr, "JIT_CRASH_POINT %s reached: killing the process\n", point)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never returns: the signal is on its way
		}
	}
}
