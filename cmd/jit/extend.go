package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jitaccess/jit/console/wire"
)

// runExtend runs `jit extend ID (--end T | --duration D) --reason TEXT`:
// ask for a later end of an active ticket (--duration is added to the
// current end).
func runExtend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	var in wire.ExtendTicket
	fs := newFlagSet("extend", stderr)
	c.bind(fs, true)
	fs.StringVar(&in.End, "end", "", "new end, RFC 3339")
	fs.StringVar(&in.Duration, "duration", "", "how much longer, e.g. 30m (added to the current end)")
	fs.StringVar(&in.Reason, "reason", "", "why you need more time")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return errors.New("usage: jit extend ID (--end RFC3339 | --duration D) --reason TEXT")
	}
	if err := c.check(); err != nil {
		return err
	}
	switch {
	case in.Reason == "":
		return errors.New("--reason is required")
	case in.End == "" && in.Duration == "":
		return errors.New("give --end or --duration")
	case in.End != "" && in.Duration != "":
		return errors.New("give --end or --duration, not both")
	}
	t, err := c.api().Extend(ctx, pos[0], in)
	if err != nil {
		return err
	}
	if err := printTicket(stdout, c.output, &t); err != nil {
		return err
	}
	if c.output != "json" && t.Extension != nil {
		fmt.Fprintf(stdout, "Extension:       to %s, %s\n", t.Extension.End.Format("2006-01-02T15:04:05Z07:00"), shown(string(t.Extension.State)))
	}
	return nil
}
