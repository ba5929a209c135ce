package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// storedLogin is what `jit login` keeps for one server: the identity
// provider's tokens and what is needed to refresh them without a browser.
type storedLogin struct {
	Issuer       string    `json:"issuer"`
	ClientID     string    `json:"client_id"`
	TokenURL     string    `json:"token_url"`
	RevokeURL    string    `json:"revocation_url,omitempty"` // RFC 7009, when the provider has one
	IDToken      string    `json:"id_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry"` // the ID token's
	Email        string    `json:"email"`
}

// tokenStore keeps sign-ins by server URL.
type tokenStore interface {
	// load reports false when there is no sign-in for server.
	load(server string) (storedLogin, bool, error)
	save(server string, l storedLogin) error
	remove(server string) error
}

// keyringService names JIT's entries in the OS keyring.
const keyringService = "jit"

// newTokenStore picks where sign-ins are kept: JIT_TOKEN_STORE=keyring
// (the OS keyring: macOS Keychain, Windows Credential Manager, the Secret
// Service on Linux) or =file (a 0600 file under configDir); by default
// the keyring when the system has one, falling back to the file.
func newTokenStore() (tokenStore, error) {
	dir, err := configDir()
	if err != nil {
		return nil, err
	}
	file := fileStore{dir: filepath.Join(dir, "tokens")}
	switch v := os.Getenv("JIT_TOKEN_STORE"); v {
	case "file":
		return file, nil
	case "keyring":
		return keyringStore{}, nil
	case "":
		if !keyringLikely() {
			return file, nil
		}
		return fallbackStore{keyringStore{}, file}, nil
	default:
		return nil, fmt.Errorf("JIT_TOKEN_STORE must be keyring or file, not %q", v)
	}
}

// keyringLikely reports whether an OS keyring can be there: always on
// macOS and Windows; on Linux only with a D-Bus session (without one, the
// D-Bus library would try to launch a bus).
func keyringLikely() bool {
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
}

func normServer(server string) string { return strings.TrimRight(server, "/") }

// keyringStore keeps each sign-in as one keyring secret.
type keyringStore struct{}

func (keyringStore) load(server string) (storedLogin, bool, error) {
	var l storedLogin
	s, err := keyring.Get(keyringService, normServer(server))
	if errors.Is(err, keyring.ErrNotFound) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("OS keyring: %w", err)
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return l, false, nil // unreadable: as if signed out
	}
	return l, true, nil
}

func (keyringStore) save(server string, l storedLogin) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if err := keyring.Set(keyringService, normServer(server), string(b)); err != nil {
		return fmt.Errorf("OS keyring: %w", err)
	}
	return nil
}

func (keyringStore) remove(server string) error {
	if err := keyring.Delete(keyringService, normServer(server)); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("OS keyring: %w", err)
	}
	return nil
}

// fileStore keeps each sign-in in a file only the user can read.
type fileStore struct{ dir string }

func (f fileStore) path(server string) string {
	sum := sha256.Sum256([]byte(normServer(server)))
	return filepath.Join(f.dir, hex.EncodeToString(sum[:12])+".json")
}

func (f fileStore) load(server string) (storedLogin, bool, error) {
	var l storedLogin
	b, err := os.ReadFile(f.path(server))
	if errors.Is(err, fs.ErrNotExist) {
		return l, false, nil
	}
	if err != nil {
		return l, false, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, false, nil
	}
	return l, true, nil
}

func (f fileStore) save(server string, l storedLogin) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return writePrivateFile(f.path(server), b)
}

func (f fileStore) remove(server string) error {
	if err := os.Remove(f.path(server)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// fallbackStore uses the keyring and, where it fails (no Secret Service
// running, a secret too large for it), the file.
type fallbackStore struct {
	keyring tokenStore
	file    fileStore
}

func (s fallbackStore) load(server string) (storedLogin, bool, error) {
	if l, ok, err := s.keyring.load(server); err == nil && ok {
		return l, true, nil
	}
	return s.file.load(server)
}

func (s fallbackStore) save(server string, l storedLogin) error {
	if s.keyring.save(server, l) == nil {
		return s.file.remove(server) // one copy only
	}
	_ = s.keyring.remove(server) // load must not find an older one there
	return s.file.save(server, l)
}

// remove clears both; a keyring that cannot be reached holds nothing.
func (s fallbackStore) remove(server string) error {
	_ = s.keyring.remove(server)
	return s.file.remove(server)
}
