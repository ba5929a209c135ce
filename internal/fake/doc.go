// Package fake holds the test doubles every package's tests share: one
// settable clock (Clock), one in-memory ticket and delegation store
// (Store), and a rule source that gives one approval rule to every ticket
// (Rules). It is for tests only.
package fake
