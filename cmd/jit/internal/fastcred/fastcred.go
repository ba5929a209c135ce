// Package fastcred serves `jit credentials` from a small cache entry
// before the rest of the jit binary is initialised.
//
// When the command line is `jit credentials ...` and there is a fast entry
// for exactly that command line and environment (Key) that may be served
// now (Entry.Check), init prints it and exits; in every other case it does
// nothing and jit runs as usual.
//
// Go initialises a binary's packages one at a time: of those whose imports
// are all initialised, the first in import path order (since Go 1.21).
// This package imports only standard packages that are initialised in the
// first millisecond or so, so its init runs after about 75 small packages
// and before the AWS SDK's service packages, Prometheus and the rest of
// jit (5-6 ms, whichever command runs). Adding an import can undo that:
// path/filepath, for one, waits for every ready package whose path sorts
// before "path", most of the github.com ones. cmd/jit's
// TestCredentialsFastPath checks that no AWS service package and no
// Prometheus package has been initialised when an entry is served.
//
// cmd/jit's credentials.go (the slow path) saves the entry after serving a
// session for --ticket ID and removes it when it fails; jit login and jit
// logout remove them all. An entry names the session's cache file, which
// holds exactly what the slow path prints (the session is not copied), and
// is served only while the slow path, run instead, would print the same
// without asking the server anything: the cache file was written or
// checked less than RecheckAfter ago, the session (and the sign-in's ID
// token) is not yet due for renewal, and the user's config file is as it
// was.
package fastcred

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"
)

// RecheckAfter is how long a cached session is served without asking the
// server whether its ticket is still active (one GET): a ticket terminated
// or ended early stops being served from the cache within this time, and
// the user gets JIT's reason instead of AWS's AccessDenied.
const RecheckAfter = time.Minute

// keyEnv is the environment that can change what `jit credentials` does
// with the same arguments: the server and token, the cache, and where the
// sign-in and the user config file are found.
var keyEnv = []string{"JIT_URL", "JIT_TOKEN", "JIT_CACHE_DIR", "JIT_TOKEN_STORE", "HOME", "XDG_CONFIG_HOME", "APPDATA", "DBUS_SESSION_BUS_ADDRESS"}

func init() {
	if len(os.Args) < 2 || os.Args[1] != "credentials" {
		return
	}
	out, ok := Serve(os.Args[2:], time.Now())
	if !ok {
		return
	}
	if n, err := os.Stdout.Write(out); err != nil {
		if n == 0 {
			return // the slow path reports it
		}
		os.Exit(1)
	}
	os.Exit(0)
}

// Serve returns what `jit credentials args` prints when its fast entry may
// be served at now.
func Serve(args []string, now time.Time) ([]byte, bool) {
	for _, a := range args {
		if strings.Contains(a, "no-cache") || strings.TrimLeft(a, "-") == "h" || strings.TrimLeft(a, "-") == "help" {
			return nil, false
		}
	}
	path := entryPath(args)
	if path == "" {
		return nil, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	e, err := Parse(b)
	if err != nil {
		return nil, false
	}
	out, err := e.Serve(now)
	return out, err == nil
}

// CacheDir is the directory of jit's credential cache: JIT_CACHE_DIR, else
// jit/credentials in the user cache directory; "" when there is none.
func CacheDir() string {
	if dir := os.Getenv("JIT_CACHE_DIR"); dir != "" {
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return join(base, "jit", "credentials")
}

// join joins path elements. (path/filepath is initialised only after most
// of the binary: see the package doc.)
func join(elem ...string) string {
	return strings.Join(elem, string(os.PathSeparator))
}

// dir holds the fast entries.
func dir() string {
	d := CacheDir()
	if d == "" {
		return ""
	}
	return join(d, "fast")
}

// Key names the fast entry of `jit credentials args` (the arguments after
// "credentials") in this process's environment (keyEnv).
func Key(args []string) string {
	h := sha256.New()
	h.Write([]byte("args " + strconv.Itoa(len(args)) + "\x00"))
	for _, a := range args {
		h.Write([]byte(a + "\x00"))
	}
	for _, k := range keyEnv {
		h.Write([]byte(k + "=" + os.Getenv(k) + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func entryPath(args []string) string {
	d := dir()
	if d == "" {
		return ""
	}
	return join(d, Key(args))
}

// Entry is one fast entry.
type Entry struct {
	// Main is the session's cache file: one line, what the slow path
	// prints without its final newline, served when it was written or
	// checked less than RecheckAfter ago.
	Main string
	// Until is when the entry stops being served: the session's renewal
	// (its expiry less the cache margin), or sooner the sign-in's.
	Until time.Time
	// Config is the user config file and ConfigStamp its Stamp when the
	// slow path read it.
	Config, ConfigStamp string
}

const header = "jit fast credentials 2\n"

// Marshal is the entry's file: a header of one line each.
func (e Entry) Marshal() ([]byte, error) {
	if strings.ContainsAny(e.Main+e.Config+e.ConfigStamp, "\n") {
		return nil, errors.New("a newline in a path")
	}
	var b bytes.Buffer
	b.WriteString(header)
	b.WriteString("main " + e.Main + "\n")
	b.WriteString("until " + strconv.FormatInt(e.Until.Unix(), 10) + "\n")
	b.WriteString("config " + e.Config + "\n")
	b.WriteString("stamp " + e.ConfigStamp + "\n")
	return b.Bytes(), nil
}

// Parse reads an entry's file.
func Parse(b []byte) (Entry, error) {
	bad := errors.New("not a fast credentials entry")
	rest, ok := bytes.CutPrefix(b, []byte(header))
	if !ok {
		return Entry{}, bad
	}
	var v [4]string
	for i, name := range []string{"main", "until", "config", "stamp"} {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		val, ok := bytes.CutPrefix(line, []byte(name+" "))
		if !found || !ok || len(val) == 0 {
			return Entry{}, bad
		}
		v[i], rest = string(val), after
	}
	until, err := strconv.ParseInt(v[1], 10, 64)
	if err != nil || len(rest) != 0 {
		return Entry{}, bad
	}
	return Entry{Main: v[0], Until: time.Unix(until, 0), Config: v[2], ConfigStamp: v[3]}, nil
}

// Serve returns what e serves at now, the session's cache file and a
// newline, or why it may not be served.
func (e Entry) Serve(now time.Time) ([]byte, error) {
	if !now.Before(e.Until) {
		return nil, errors.New("due for renewal")
	}
	if Stamp(e.Config) != e.ConfigStamp {
		return nil, errors.New("the config file changed")
	}
	fi, err := os.Stat(e.Main)
	if err != nil {
		return nil, err
	}
	if now.Sub(fi.ModTime()) >= RecheckAfter {
		return nil, errors.New("due for a check of the ticket")
	}
	main, err := os.ReadFile(e.Main)
	if err != nil {
		return nil, err
	}
	if len(main) == 0 || bytes.IndexByte(main, '\n') >= 0 {
		return nil, errors.New("the cache file is not one document")
	}
	return append(main, '\n'), nil
}

// Stamp is the modification time and size of a file, "-" if it cannot be
// read: a file edited by hand changes it.
func Stamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	return strconv.FormatInt(fi.ModTime().UnixNano(), 10) + " " + strconv.FormatInt(fi.Size(), 10)
}

// Save stores e as the fast entry of `jit credentials args`, readable by
// the user only, if it may be served now and serves what the slow path
// printed.
func Save(args []string, e Entry, printed []byte) error {
	out, err := e.Serve(time.Now())
	if err != nil {
		return err
	}
	if !bytes.Equal(out, printed) {
		return errors.New("the cache file holds another session")
	}
	b, err := e.Marshal()
	if err != nil {
		return err
	}
	path := entryPath(args)
	if path == "" {
		return errors.New("no cache directory")
	}
	if err := os.MkdirAll(dir(), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir(), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// Remove deletes the fast entry of `jit credentials args`.
func Remove(args []string) {
	if path := entryPath(args); path != "" {
		os.Remove(path)
	}
}

// RemoveAll deletes every fast entry (a sign-in or sign-out: none may be
// served for the user before).
func RemoveAll() error {
	d := dir()
	if d == "" {
		return nil
	}
	return os.RemoveAll(d)
}
