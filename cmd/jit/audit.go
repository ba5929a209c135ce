package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
)

const auditUsage = `usage:
  jit audit verify --config FILE [--checkpoint FILE]   recompute the chain; name the first broken event
  jit audit checkpoint --config FILE                  print a signed checkpoint of the last event (keep it outside Redis)
  jit audit export --config FILE [--since RFC3339]    print events as JSON lines, oldest first
  jit audit trim --config FILE --older-than DURATION  remove older events, keeping the rest verifiable
  jit audit list [--ticket ID] [--user EMAIL] [--account ID] [--type T] [--since T] [--until T] [--limit N] [--cursor C]
  jit audit timeline ID                               a ticket's events, oldest first
verify, checkpoint and export read Redis with the server's config (and its audit.key);
list and timeline ask the API (--url/--token).`

// runAudit dispatches the audit subcommands.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, auditUsage)
		return errors.New("audit: no subcommand given")
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], stdout, stderr)
	case "checkpoint":
		return auditCheckpoint(ctx, args[1:], stdout, stderr)
	case "export":
		return auditExport(ctx, args[1:], stdout, stderr)
	case "trim":
		return auditTrim(ctx, args[1:], stdout, stderr)
	case "list":
		return auditList(ctx, args[1:], stdout, stderr)
	case "timeline":
		return auditTimeline(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, auditUsage)
	return fmt.Errorf("audit: unknown subcommand %q", args[0])
}

// openAudit reads the config at path and opens its audit log.
func openAudit(ctx context.Context, path string) (*redisstore.Audit, func(), error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		return nil, nil, err
	}
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, errors.New("unsupported redis connection")
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("cannot reach Redis: %w", err)
	}
	return redisstore.NewAudit(rdb, "", cfg.auditKey()), func() { rdb.Close() }, nil
}

func auditVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit verify", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	cpPath := fs.String("checkpoint", "", "a checkpoint from `jit audit checkpoint` the log must still agree with")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var cp *broker.AuditCheckpoint
	if *cpPath != "" {
		b, err := os.ReadFile(*cpPath)
		if err != nil {
			return err
		}
		cp = &broker.AuditCheckpoint{}
		if err := json.Unmarshal(b, cp); err != nil {
			return fmt.Errorf("checkpoint %s: %w", *cpPath, err)
		}
	}
	a, closeFn, err := openAudit(ctx, *path)
	if err != nil {
		return err
	}
	defer closeFn()
	n, err := a.Verify(ctx, cp)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "ok: %d events verified\n", n)
	return err
}

func auditCheckpoint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit checkpoint", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	a, closeFn, err := openAudit(ctx, *path)
	if err != nil {
		return err
	}
	defer closeFn()
	cp, err := a.Checkpoint(ctx)
	if err != nil {
		return err
	}
	return printJSON(stdout, cp)
}

func auditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit export", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	since := fs.String("since", "", "only events at or after this time (RFC 3339)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = time.Parse(time.RFC3339, *since); err != nil {
			return fmt.Errorf("--since %q must be an RFC 3339 time", *since)
		}
	}
	a, closeFn, err := openAudit(ctx, *path)
	if err != nil {
		return err
	}
	defer closeFn()
	w := bufio.NewWriter(stdout)
	err = a.Export(ctx, from, func(raw []byte) error {
		w.Write(raw)
		return w.WriteByte('\n')
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

func auditList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("audit list", stderr)
	c.bind(fs, true)
	q := url.Values{}
	for _, name := range []string{"ticket", "user", "account", "type", "since", "until", "cursor"} {
		fs.Func(name, "filter: "+name, func(v string) error { q.Set(name, v); return nil })
	}
	limit := fs.Int("limit", 0, "events per page (default 100)")
	if err := c.parseNoArgs(fs, args); err != nil {
		return err
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	page, err := c.api().Audit(ctx, q)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, page)
	}
	if err := printEvents(stdout, page.Events); err != nil {
		return err
	}
	if page.Next != "" {
		_, err := fmt.Fprintf(stdout, "more: --cursor %s\n", shown(page.Next))
		return err
	}
	return nil
}

func auditTimeline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("audit timeline", stderr)
	c.bind(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	} else if len(pos) != 1 {
		return errors.New("usage: jit audit timeline ID")
	}
	if err := c.check(); err != nil {
		return err
	}
	out, err := c.api().Timeline(ctx, pos[0])
	if err != nil {
		return err
	}
	if c.output == "json" {
		return printJSON(stdout, out)
	}
	return printEvents(stdout, out.Events)
}

// printEvents prints one line per event.
func printEvents(w io.Writer, evs []broker.AuditEvent) error {
	for _, e := range evs {
		who := e.Actor
		if e.OnBehalfOf != "" {
			who += " for " + e.OnBehalfOf
		}
		line := fmt.Sprintf("%6d  %s  %-20s %-24s", e.Seq, e.At.UTC().Format(time.RFC3339), e.Type, who)
		if e.TicketID != "" {
			line += "  ticket " + e.TicketID
		}
		if e.From != "" || e.To != "" {
			line += "  " + e.From + " -> " + e.To
		}
		if e.Operation != "" {
			line += "  " + e.Operation + " " + e.Result
		}
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		if _, err := fmt.Fprintln(w, shown(line)); err != nil {
			return err
		}
	}
	return nil
}

func auditTrim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit trim", stderr)
	path := fs.String("config", os.Getenv("JIT_CONFIG"), "config file (env JIT_CONFIG)")
	olderThan := fs.Duration("older-than", 0, "remove events older than this (at least 1h)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *olderThan < time.Hour {
		return errors.New("--older-than must be at least 1h")
	}
	a, closeFn, err := openAudit(ctx, *path)
	if err != nil {
		return err
	}
	defer closeFn()
	n, err := a.Trim(ctx, time.Now().Add(-*olderThan))
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "trimmed %d events\n", n)
	return err
}
