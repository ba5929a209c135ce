package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jitaccess/jit/federation/sandbox"
)

// runSandbox runs the AWS sandbox on its own, from a fixture file or the
// demo organization.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sandbox", stderr)
	fixture := fs.String("fixture", "", "YAML fixture (default: the demo organization)")
	addr := fs.String("addr", "127.0.0.1:4566", "listen address")
	admin := fs.Bool("admin", false, "serve the /_sandbox/ admin endpoint (faults, delays, events)")
	trailDelay := fs.Duration("trail-delay", 0, "CloudTrail delivery delay, e.g. 5m (AWS: about 5 minutes on average)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *trailDelay < 0 || *trailDelay > time.Hour {
		return fmt.Errorf("--trail-delay %s: must be from 0 to 1h", *trailDelay)
	}
	f := sandbox.DemoFixture()
	if *fixture != "" {
		var err error
		if f, err = sandbox.LoadFixture(*fixture); err != nil {
			return err
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sb, err := sandbox.New(f, sandbox.Options{Logger: logger, Admin: *admin, TrailDelay: *trailDelay})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "AWS sandbox listening on http://%s (use --endpoint-url http://%s)\n", l.Addr(), l.Addr())
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
