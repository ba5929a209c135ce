package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/jitaccess/jit/cmd/jit/internal/fastcred"
	"github.com/jitaccess/jit/console/wire"
)

// cacheMargin is how long before its expiry a cached session is replaced
// (aws-vault keeps sessions until 5 minutes remain).
const cacheMargin = 5 * time.Minute

// recheckAfter is how long a cached session is served without asking the
// server whether its ticket is still active (fastcred.RecheckAfter, which
// the fast path checks too).
const recheckAfter = fastcred.RecheckAfter

// runCredentials is a credential_process helper: stdout gets exactly the
// JSON document the AWS CLI and SDKs read, and nothing else. The AWS CLI
// does not cache process credentials, so this does: a session is reused
// until 5 minutes before it expires, from a file only the user can read
// (JIT_CACHE_DIR, default the user cache directory), unless --no-cache;
// once a minute it first asks the server whether the ticket is still
// active (recheckAfter). With --account and --permission-set it serves the
// user's active ticket for that pair (ticketSelector), so one profile
// keeps working from ticket to ticket.
//
// The fast path: after serving --ticket ID, a fast entry keyed by the
// exact command line and the environment that matters (fastcred.Key)
// names the session's cache file, and the next identical call prints that
// file from the init of package fastcred, before the rest of jit is
// initialised (docs/benchmarks.md: 3.5-5.5 ms instead of 9-10). It is
// served only while this function would print the same without asking
// the server: the cache file was written or checked less than recheckAfter ago, the
// session is more than cacheMargin from its expiry, the sign-in's ID token
// is not due for refreshing, and the user config file is unchanged. Once
// a minute the slow path therefore runs and checks the ticket and the
// sign-in (refreshing it, or saying to run jit login); a failure removes
// the entry, and jit login and jit logout remove them all, so a sign-out
// stops the fast path at once.
func runCredentials(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var config [2]string // the user config file and its stamp, before bind reads it
	if p, err := userConfigPath(); err == nil {
		config = [2]string{p, fastcred.Stamp(p)}
	}
	var c clientFlags
	fs := newFlagSet("credentials", stderr)
	c.bind(fs, false)
	var sel ticketSelector
	sel.bind(fs)
	noCache := fs.Bool("no-cache", false, "always ask the server for a new session")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if err := sel.check(); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	doc, err := sessionFor(ctx, c, sel, *noCache)
	if err != nil {
		fastcred.Remove(args)
		return err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	if sel.ticket != "" && sel.account == "" && !*noCache && len(os.Args) > 1 && os.Args[1] == "credentials" && slices.Equal(os.Args[2:], args) {
		saveFast(args, c, sel.ticket, doc, out, config)
	}
	return nil
}

// saveFast keeps the fast entry of `jit credentials args`, which printed out
// (see runCredentials); config is the user config file and its stamp
// before it was read. A group's id has no cache file of its own: nothing
// is saved (fastcred.Save saves only an entry it would serve).
func saveFast(args []string, c clientFlags, ticket string, doc wire.CredentialProcess, out []byte, config [2]string) {
	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil {
		return
	}
	until := exp.Add(-cacheMargin)
	if c.identity != "" {
		tokExp, err := jwtExpiry(c.token)
		if err != nil {
			return
		}
		if t := tokExp.Add(-refreshMargin); t.Before(until) {
			until = t
		}
	}
	main := cachePath(c.url, ticket, c.cacheIdentity())
	if main == "" {
		return
	}
	_ = fastcred.Save(args, fastcred.Entry{Main: main, Until: until, Config: config[0], ConfigStamp: config[1]}, out)
}

// sessionFor returns a session for the selected ticket: from the cache
// when it may be served (see runCredentials), else a new one from the
// server.
func sessionFor(ctx context.Context, c clientFlags, sel ticketSelector, noCache bool) (wire.CredentialProcess, error) {
	cached := func(ticket string) (wire.CredentialProcess, string, bool) {
		path := cachePath(c.url, ticket, c.cacheIdentity())
		if !noCache && path != "" {
			if doc, ok := readCached(path); ok && stillActive(ctx, c, ticket, path) {
				return doc, path, true
			}
		}
		return wire.CredentialProcess{}, path, false
	}
	// Sessions are cached under ticket ids (a group's under its members'):
	// a hit on --ticket asks the server nothing (sel.use tries the id as a
	// ticket first).
	var doc wire.CredentialProcess
	err := sel.use(ctx, c, func(ticket string) error {
		d, path, ok := cached(ticket)
		if ok {
			doc = d
			return nil
		}
		d, err := c.api().Credentials(ctx, ticket)
		if err != nil {
			if path != "" {
				os.Remove(path)
			}
			return fmt.Errorf("no credentials for ticket %s: %w", ticket, err)
		}
		if _, err := time.Parse(time.RFC3339, d.Expiration); d.Version != 1 || d.AccessKeyID == "" || err != nil {
			return errors.New("the server's answer is not a credential_process document")
		}
		if path != "" {
			writeCached(path, d)
		}
		doc = d
		return nil
	})
	return doc, err
}

// cacheIdentity keys the credential cache: the signed-in user, so a
// refreshed token finds the sessions of the one before; the token itself
// for JIT_TOKEN.
func (c *clientFlags) cacheIdentity() string {
	if c.identity != "" {
		return "login:" + c.identity
	}
	return c.token
}

// stillActive reports whether a cached session for the ticket may be
// served: the cache file was written or checked less than recheckAfter
// ago, or the server says the ticket is still active (the file's time is
// then renewed). A server that cannot be reached does not stop the cache:
// AWS itself refuses a session JIT has cut.
func stillActive(ctx context.Context, c clientFlags, ticket, path string) bool {
	if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) < recheckAfter {
		return true
	}
	t, err := c.api().Ticket(ctx, ticket)
	var apiErr *apiError
	if err != nil && !errors.As(err, &apiErr) {
		return true
	}
	if err != nil || t.State != "active" {
		os.Remove(path)
		return false
	}
	now := time.Now()
	os.Chtimes(path, now, now)
	return true
}

// cachePath names the cache file for a server, ticket and token; "" when
// there is no cache directory (fastcred.CacheDir).
func cachePath(server, ticket, token string) string {
	dir := fastcred.CacheDir()
	if dir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(server + "\x00" + ticket + "\x00" + token))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".json")
}

func readCached(path string) (wire.CredentialProcess, bool) {
	var doc wire.CredentialProcess
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &doc) != nil {
		return doc, false
	}
	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil || time.Until(exp) < cacheMargin {
		os.Remove(path)
		return doc, false
	}
	return doc, true
}

// writeCached stores the session readable by the user only; failing to
// cache is not an error.
func writeCached(path string, doc wire.CredentialProcess) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(doc)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, path)
	}
}
