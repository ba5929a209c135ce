package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"
)

// fakeKeyring is a keyring that works, or fails every call (no Secret
// Service running, a secret too large).
type fakeKeyring struct {
	broken     bool
	refuseSave bool // reads work, writes fail (a secret too large for it)
	secrets    map[string]storedLogin
}

func (k *fakeKeyring) load(server string) (storedLogin, bool, error) {
	if k.broken {
		return storedLogin{}, false, errors.New("OS keyring: no secret service")
	}
	l, ok := k.secrets[normServer(server)]
	return l, ok, nil
}

func (k *fakeKeyring) save(server string, l storedLogin) error {
	if k.broken || k.refuseSave {
		return errors.New("OS keyring: no secret service")
	}
	k.secrets[normServer(server)] = l
	return nil
}

func (k *fakeKeyring) remove(server string) error {
	if k.broken {
		return errors.New("OS keyring: no secret service")
	}
	delete(k.secrets, normServer(server))
	return nil
}

func TestFallbackStore(t *testing.T) {
	login := storedLogin{Issuer: "https://idp", ClientID: "jit", IDToken: "a.b.c", RefreshToken: "r", Expiry: time.Unix(1e9, 0).UTC(), Email: "alice@example.com"}
	for _, broken := range []bool{false, true} {
		t.Run(map[bool]string{false: "keyring", true: "no keyring"}[broken], func(t *testing.T) {
			dir := t.TempDir()
			kr := &fakeKeyring{broken: broken, secrets: map[string]storedLogin{}}
			s := fallbackStore{keyring: kr, file: fileStore{dir: filepath.Join(dir, "tokens")}}
			if _, ok, err := s.load("https://jit/"); ok || err != nil {
				t.Fatalf("load before save: %v %v", ok, err)
			}
			if err := s.save("https://jit/", login); err != nil {
				t.Fatal(err)
			}
			got, ok, err := s.load("https://jit")
			if !ok || err != nil {
				t.Fatalf("load: %v %v", ok, err)
			}
			if diff := cmp.Diff(login, got); diff != "" {
				t.Errorf("login (-want +got):\n%s", diff)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "tokens", "*.json"))
			if broken != (len(files) == 1) {
				t.Errorf("token files %v with broken keyring %v: want the file only without a keyring", files, broken)
			}
			for _, f := range files {
				if fi, _ := os.Stat(f); fi.Mode().Perm() != 0o600 {
					t.Errorf("%s mode %v, want 0600", f, fi.Mode().Perm())
				}
			}
			if err := s.remove("https://jit"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := s.load("https://jit"); ok {
				t.Error("still signed in after remove")
			}
		})
	}
}

func TestJWTExpiry(t *testing.T) {
	// {"exp":1700000000}
	got, err := jwtExpiry("e30.eyJleHAiOjE3MDAwMDAwMDB9.c2ln")
	if err != nil || got.Unix() != 1700000000 {
		t.Errorf("jwtExpiry = %v, %v", got, err)
	}
	for _, bad := range []string{"", "a.b", "e30.e30.c2ln", "e30.!!!.c2ln"} {
		if _, err := jwtExpiry(bad); err == nil {
			t.Errorf("jwtExpiry(%q) succeeded", bad)
		}
	}
}

// A keyring that takes the login but refuses its refreshed copy must not
// keep serving the old one.
func TestFallbackStoreKeyringRefusesUpdate(t *testing.T) {
	kr := &fakeKeyring{secrets: map[string]storedLogin{}}
	s := fallbackStore{keyring: kr, file: fileStore{dir: t.TempDir()}}
	if err := s.save("https://jit", storedLogin{IDToken: "old"}); err != nil {
		t.Fatal(err)
	}
	kr.refuseSave = true
	if err := s.save("https://jit", storedLogin{IDToken: "new"}); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.load("https://jit"); !ok || err != nil || got.IDToken != "new" {
		t.Fatalf("load = %q %v %v, want the new login", got.IDToken, ok, err)
	}
}

// The keyring store round-trips through go-keyring's in-memory provider
// (the OS keyrings themselves are not on CI machines).
func TestKeyringStore(t *testing.T) {
	keyring.MockInit()
	var s keyringStore
	if _, ok, err := s.load("https://jit"); ok || err != nil {
		t.Fatalf("load before save: %v %v", ok, err)
	}
	want := storedLogin{IDToken: "a.b.c", RefreshToken: "r", Email: "alice@example.com", Expiry: time.Unix(1e9, 0).UTC()}
	if err := s.save("https://jit/", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.load("https://jit")
	if !ok || err != nil {
		t.Fatalf("load: %v %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("login (-want +got):\n%s", diff)
	}
	if err := s.remove("https://jit"); err != nil {
		t.Fatal(err)
	}
	if err := s.remove("https://jit"); err != nil {
		t.Errorf("second remove: %v", err)
	}
}
