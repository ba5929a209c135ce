//go:build faults

package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// With the server's clock 30 s ahead of AWS's or 30 s behind it, no
// session outlives its ticket: a role session and an access-portal
// session opened during the ticket are refused once JIT has ended it.
func TestFaultsClockSkew(t *testing.T) {
	t.Parallel() // each test has its own Redis, sandbox and server
	for _, off := range []time.Duration{-30 * time.Second, 30 * time.Second} {
		name := "aws_behind"
		if off > 0 {
			name = "aws_ahead"
		}
		t.Run(name, func(t *testing.T) {
			f := newFaultEnv(t, sandbox.Options{Now: func() time.Time { return time.Now().Add(off) }})
			role := f.create("ReadOnlyAccess", "", 8*time.Second)
			ic := f.create("ReadOnlySSO", "", 8*time.Second)
			for _, id := range []string{role, ic} {
				if code, err := f.approve(id); err != nil || code != http.StatusOK {
					t.Fatalf("approve %s: %d %v", id, code, err)
				}
			}
			c, code, err := f.creds("alice@example.com", role)
			if err != nil || code != http.StatusOK {
				t.Fatalf("credentials: %d %v", code, err)
			}
			f.waitState(ic, broker.StateActive, 20*time.Second)
			// The session works during the ticket, whichever clock is ahead
			// (AWS reads the ticket's end on its own clock).
			f.works("role session during the ticket", f.s3With(c))
			portal := f.portalS3("alice")
			f.waitAgree(role, broker.StateExpired)
			f.waitAgree(ic, broker.StateExpired)
			f.refused("role session after the ticket expired", f.s3With(c))
			f.refused("portal session after the ticket expired", portal)
		})
	}
}
