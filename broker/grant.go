package broker

import (
	"context"
	"time"
)

// GrantKind names a kind of thing JIT did in AWS for a ticket.
type GrantKind string

// Grant kinds.
const (
	// GrantAssignment is an Identity Center account assignment for one user.
	GrantAssignment GrantKind = "assignment"
	// GrantRoleDeny is the ticket's entry in its role's deny list (role path cut).
	GrantRoleDeny GrantKind = "role_deny"
	// GrantUserDeny is one beneficiary's entry in the role's deny list:
	// their sessions of the ticket only (a beneficiary who said they
	// were done while the ticket went on for the others).
	GrantUserDeny GrantKind = "user_deny"
	// GrantPortalDeny is a deny on one user's Identity Center sessions
	// issued before the cut (Identity Center path cut).
	GrantPortalDeny GrantKind = "portal_deny"
)

// GrantState is where a grant is: intent is written before the AWS call,
// done after it succeeded, undone after it was taken back.
type GrantState string

// Grant states.
const (
	GrantIntent GrantState = "intent"
	GrantDone   GrantState = "done"
	GrantUndone GrantState = "undone"
)

// Grant is one thing JIT did (or is about to do) in AWS for a ticket. The
// list on a ticket is the record revocation and the reconciler work from:
// undone in reverse order.
type Grant struct {
	Kind GrantKind `json:"kind"`
	User string    `json:"user,omitempty"`
	// Key identifies the AWS object: for assignments
	// "<account>/<permission set ARN>/<user>".
	Key   string     `json:"key"`
	State GrantState `json:"state"`
	At    time.Time  `json:"at"`
	// Until is when a deny grant may be removed (every session it targets
	// has expired by then).
	Until time.Time `json:"until,omitempty"`
	Error string    `json:"error,omitempty"`
}

// Assignment is an Identity Center account assignment for one user.
type Assignment struct {
	AccountID        string
	PermissionSetARN string
	// User is the user's email, resolved in the Identity Store.
	User string
}

// Key returns the assignment's identity, shared by every ticket that needs it.
func (a Assignment) Key() string { return a.AccountID + "/" + a.PermissionSetARN + "/" + a.User }

// Assigner manages Identity Center account assignments.
type Assigner interface {
	// Assign creates the assignment and waits until it is in place; an
	// assignment that already exists is fine. EINVALID when AWS reports
	// FAILED (the message says why), ENOTFOUND for a user not in the
	// Identity Store.
	Assign(ctx context.Context, a Assignment) error
	// Unassign deletes the assignment and waits until it is gone; a
	// missing one is fine.
	Unassign(ctx context.Context, a Assignment) error
}

// PortalCut asks to cut a user's open Identity Center sessions for a
// permission set in an account.
type PortalCut struct {
	Assignment
	TicketID string
	// Before: sessions issued before this time are denied; later ones
	// (a later ticket's) are not.
	Before time.Time
	// Until is when the deny may be removed.
	Until time.Time
	// Settle makes Before and Until replace the user's deny in the
	// account instead of widening it (by default the later bound and
	// expiry of the two are kept). The cut that removed an assignment
	// uses it to narrow its own provisional bound once the deletion is
	// done; cuts of one assignment run one at a time, so a later bound
	// than the deletion's end can only be that provisional one.
	Settle bool
}

// PortalRevoker cuts Identity Center sessions that were already opened.
type PortalRevoker interface {
	// CutPortal denies the user's sessions issued before c.Before, now.
	CutPortal(ctx context.Context, c PortalCut) error
}

// Holds counts which tickets need a shared grant (an assignment two
// overlapping tickets both need), so it is created once and removed only
// when the last ticket that needs it ends.
type Holds interface {
	// Hold records that ticketID needs key.
	Hold(ctx context.Context, key, ticketID string) error
	// Release drops ticketID's hold and reports whether no ticket holds key any more.
	Release(ctx context.Context, key, ticketID string) (last bool, err error)
	// Holders lists the tickets holding key.
	Holders(ctx context.Context, key string) ([]string, error)
}

// Locker serializes work on one key across every JIT process.
type Locker interface {
	// Lock waits for the lock on key and returns its release.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}
