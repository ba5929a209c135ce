package main

import (
	"context"
	"io"
)

// runCancel runs `jit cancel ID`: the requester withdraws a pending or
// approved ticket.
func runCancel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runDecide(ctx, "cancel", args, stdout, stderr)
}
