package main

import (
	"context"
	"io"
)

// runDone runs `jit done ID`: the requester or a beneficiary ends the
// ticket now ("I'm done"), cutting its sessions.
func runDone(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runDecide(ctx, "done", args, stdout, stderr)
}
