//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
)

// lockRefresh takes an exclusive lock that serializes token refreshes
// between jit processes (the AWS CLI may start several at once, and a
// provider that rotates refresh tokens accepts each one once). It returns
// the unlock function; without a lock file it returns a no-op.
func lockRefresh() func() {
	dir, err := configDir()
	if err != nil {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return func() {}
	}
	f, err := os.OpenFile(filepath.Join(dir, ".refresh.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return func() {}
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
}
