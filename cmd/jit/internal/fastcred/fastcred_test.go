package fastcred

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// setup gives the test its own cache directory and a session cache file
// and config file, and returns an entry for them that may be served, and
// what it serves.
func setup(t *testing.T) (Entry, []byte) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("JIT_CACHE_DIR", dir)
	main := filepath.Join(dir, "session.json")
	doc := []byte(`{"Version":1,"AccessKeyId":"ASIA1"}`)
	if err := os.WriteFile(main, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte("url: http://x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Entry{Main: main, Until: time.Now().Add(time.Hour).Truncate(time.Second), Config: config, ConfigStamp: Stamp(config)}, append(doc, '\n')
}

func TestEntryRoundTrip(t *testing.T) {
	e, _ := setup(t)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Main != e.Main || !got.Until.Equal(e.Until) || got.Config != e.Config || got.ConfigStamp != e.ConfigStamp {
		t.Fatalf("round trip: %+v, want %+v", got, e)
	}
	// Every truncation, and a line changed, is refused.
	for n := range len(b) {
		if _, err := Parse(b[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: parsed", n)
		}
	}
	for _, bad := range [][]byte{
		bytes.Replace(b, []byte("until "), []byte("until x"), 1),
		bytes.Replace(b, []byte("jit fast credentials 2"), []byte("jit fast credentials 1"), 1),
		append(bytes.Clone(b), "more\n"...),
	} {
		if _, err := Parse(bad); err == nil {
			t.Fatalf("parsed %q", bad)
		}
	}
	// A path with a newline is not written.
	for _, bad := range []Entry{{Main: "a\nb", Config: "c", ConfigStamp: "-"}, {Main: "a", Config: "c\n", ConfigStamp: "-"}} {
		if _, err := bad.Marshal(); err == nil {
			t.Fatalf("marshalled %+v", bad)
		}
	}
}

func TestSaveServe(t *testing.T) {
	e, printed := setup(t)
	args := []string{"--ticket", "T1"}
	if err := Save(args, e, []byte("{\"another\":\"session\"}\n")); err == nil {
		t.Error("saved an entry for a session other than the cache file's")
	}
	if err := Save(args, e, printed); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir())
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("fast directory: %v %v, want 0700", err, fi.Mode())
	}
	if fi, err := os.Stat(entryPath(args)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry: %v %v, want 0600", err, fi.Mode())
	}
	now := time.Now()
	if out, ok := Serve(args, now); !ok || !bytes.Equal(out, printed) {
		t.Fatalf("Serve: %q %v", out, ok)
	}
	for _, other := range [][]string{{"--ticket", "T2"}, {"--ticket", "T1", "--no-cache"}, {"--ticket", "T1", "-h"}, {"--ticket=T1"}} {
		if _, ok := Serve(other, now); ok {
			t.Errorf("served %q from the entry of %q", other, args)
		}
	}
	t.Run("another JIT_TOKEN", func(t *testing.T) {
		t.Setenv("JIT_TOKEN", "another")
		if _, ok := Serve(args, now); ok {
			t.Error("served with another JIT_TOKEN")
		}
	})
	// No entry is served for --no-cache or help even when there is one.
	for _, guarded := range [][]string{{"--ticket", "T1", "--no-cache"}, {"--ticket", "T1", "--help"}, {"help"}} {
		if err := Save(guarded, e, printed); err != nil {
			t.Fatal(err)
		}
		if _, ok := Serve(guarded, now); ok {
			t.Errorf("served %q", guarded)
		}
	}

	if _, ok := Serve(args, e.Until); ok {
		t.Error("served at Until")
	}
	if _, ok := Serve(args, now.Add(RecheckAfter)); ok {
		t.Error("served with the cache file RecheckAfter old")
	}
	// The session is the cache file's, never a copy: a session the slow
	// path wrote there since is the one served.
	renewed := []byte(`{"Version":1,"AccessKeyId":"ASIA2"}`)
	os.WriteFile(e.Main, renewed, 0o600)
	if out, ok := Serve(args, now); !ok || !bytes.Equal(out, append(renewed, '\n')) {
		t.Errorf("served %q with the cache file holding %s", out, renewed)
	}
	for _, bad := range []string{"", "{}\n{}"} {
		os.WriteFile(e.Main, []byte(bad), 0o600)
		if _, ok := Serve(args, now); ok {
			t.Errorf("served a cache file holding %q", bad)
		}
	}
	os.WriteFile(e.Main, printed[:len(printed)-1], 0o600)
	if _, ok := Serve(args, time.Now()); !ok {
		t.Fatal("not served with the cache file as it was")
	}
	os.WriteFile(e.Config, []byte("url: http://y\n"), 0o600)
	if _, ok := Serve(args, time.Now()); ok {
		t.Error("served after the config file changed")
	}
	os.Remove(e.Config)
	if _, ok := Serve(args, time.Now()); ok {
		t.Error("served after the config file was removed")
	}
	e.ConfigStamp = Stamp(e.Config)
	if e.ConfigStamp != "-" || Save(args, e, printed) != nil {
		t.Fatalf("stamp of a missing file %q", e.ConfigStamp)
	}
	if _, ok := Serve(args, time.Now()); !ok {
		t.Fatal("not served without a config file")
	}
	os.Remove(e.Main)
	if _, ok := Serve(args, time.Now()); ok {
		t.Error("served without the cache file")
	}
	if err := Save(args, e, printed); err == nil {
		t.Error("saved an entry that may not be served")
	}

	Remove(args)
	if _, err := os.Stat(entryPath(args)); !os.IsNotExist(err) {
		t.Errorf("Remove: %v", err)
	}
	if err := RemoveAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir()); !os.IsNotExist(err) {
		t.Errorf("RemoveAll: %v", err)
	}
}

func TestKey(t *testing.T) {
	t.Setenv("JIT_URL", "http://a")
	k := Key([]string{"--ticket", "T1"})
	if Key([]string{"--ticket", "T1"}) != k {
		t.Fatal("Key is not stable")
	}
	for _, args := range [][]string{{"--ticket", "T2"}, {"--ticket", "T1", ""}, {"--ticket\x00T1"}, {"--ticketT1"}} {
		if Key(args) == k {
			t.Errorf("%q has the key of --ticket T1", args)
		}
	}
	for _, name := range keyEnv {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, "changed")
			if Key([]string{"--ticket", "T1"}) == k {
				t.Errorf("%s does not change the key", name)
			}
		})
	}
}
