//go:build !unix

package main

// lockRefresh does not lock here; concurrent refreshes fall back to
// reading what the other process stored (loginToken).
func lockRefresh() func() { return func() {} }
