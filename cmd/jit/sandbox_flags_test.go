package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestSandboxTrailDelayFlag: a delay outside 0..1h is refused before
// anything listens.
func TestSandboxTrailDelayFlag(t *testing.T) {
	for _, bad := range []string{"-1s", "2h"} {
		err := runSandbox(context.Background(), []string{"--trail-delay", bad, "--addr", "127.0.0.1:0"}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--trail-delay") {
			t.Errorf("--trail-delay %s: %v, want a refusal naming the flag", bad, err)
		}
	}
}
