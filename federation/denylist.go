package federation

import (
	"context"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jitaccess/jit/broker"
)

// This file is the one implementation of what JIT's two deny lists share:
// the role deny list (Revoker: the jit-revocations inline policy of a role)
// and the portal deny (PortalDeny: JIT's statements in a permission set's
// inline policy). Both bucket their statements by the hour their sessions
// have all expired, prune a bucket once that hour has begun (plus
// pruneMargin), count their
// size with PolicyChars against the role's inline policy budget, shrink
// themselves step by step when a change would not fit, and serialize the
// read-modify-write of one list through a keyed lock (IAM and sso-admin
// have no compare-and-set). What differs, the statements themselves, is
// behind denyDoc and denyStore.

// RoleInlineBudget is what all inline policies of an IAM role may hold
// together, counted by PolicyChars (aws-facts.md section 4).
const RoleInlineBudget = 10240

// MaxInlinePolicyChars is the budget of a permission set's inline policy:
// it becomes the only inline policy of the role Identity Center provisions,
// so it shares RoleInlineBudget with nothing else.
const MaxInlinePolicyChars = RoleInlineBudget

// PolicyChars counts a policy document the way AWS counts it against the
// role inline policy budget: characters (Unicode code points, not bytes),
// with whitespace not counted wherever it is, between tokens or inside
// strings. The sandbox counts the same way (sandbox policySize).
func PolicyChars(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Document length limits of the APIs themselves, whitespace counted
// (the API models' length constraints on the policy document).
const (
	maxRolePolicyLen          = 131072 // iam PutRolePolicy PolicyDocument
	maxPermissionSetPolicyLen = 32768  // sso-admin PutInlinePolicyToPermissionSet InlinePolicy
)

// denyBucket is the hour bucket of a deny whose sessions have all expired
// by until: the first whole hour (UTC) at or after until. A statement of
// the bucket may go once that hour has begun (bucketExpired).
func denyBucket(until time.Time) time.Time { return ceilTo(until.UTC(), time.Hour) }

// bucketExpired reports whether every session a statement of bucket
// targets has expired by now, allowing pruneMargin for a JIT clock ahead
// of AWS's.
func bucketExpired(bucket, now time.Time) bool { return !now.Before(bucket.Add(pruneMargin)) }

// pruneMargin is how long after its bucket's hour a statement is kept, in
// case JIT's clock runs ahead of AWS's (keep both on NTP).
const pruneMargin = 5 * time.Minute

// bucketLayout formats a bucket in a Sid.
const bucketLayout = "2006010215"

// denyDoc is one deny list as read, being changed.
type denyDoc interface {
	// prune drops the JIT statements whose bucket has expired by now and
	// returns how many it dropped.
	prune(now time.Time) int
	// shrink makes the list smaller by its step-th way of shrinking (0, 1,
	// ...), ordered from those that cut no session that should keep
	// working to those that may; every step keeps denying everything that
	// was denied. It reports false when there is no such step.
	shrink(step int, now time.Time) bool
	// marshal writes the document as it is to be stored.
	marshal() (string, error)
	// empty reports whether nothing is left to store.
	empty() bool
}

// denyStore is where one deny list lives.
type denyStore interface {
	load(ctx context.Context) (denyDoc, error)
	// others returns what the list's budget already holds besides it
	// (the role's other inline policies), counted by PolicyChars.
	others(ctx context.Context) (int, error)
	// maxLen is the API's own limit on the document's length.
	maxLen() int
	save(ctx context.Context, text string) error
	remove(ctx context.Context) error
	// name says which list it is, for error messages.
	name() string
}

// denyChange says what one update did.
type denyChange struct {
	Written bool // the list was written (or removed)
	Pruned  int  // expired statements removed
}

// denyList serializes the changes of each deny list (by key) and runs
// them: read, change, prune, fit the budget, write.
type denyList struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// lock takes the key's lock: through locker across JIT processes, or
// within this process when locker is nil.
func (d *denyList) lock(ctx context.Context, locker broker.Locker, key string) (func(), error) {
	if locker != nil {
		return locker.Lock(ctx, key)
	}
	d.mu.Lock()
	if d.locks == nil {
		d.locks = map[string]*sync.Mutex{}
	}
	m, ok := d.locks[key]
	if !ok {
		m = &sync.Mutex{}
		d.locks[key] = m
	}
	d.mu.Unlock()
	m.Lock()
	return m.Unlock, nil
}

// update reads the list from st under the key's lock, prunes its expired
// statements, lets edit change it, and writes it back when either changed
// anything: removed when nothing is left, else shrunk as far as needed to
// fit the budget. ETOOLARGE (nothing written) when even the last shrink
// step does not fit.
func (d *denyList) update(ctx context.Context, locker broker.Locker, key string, now time.Time, st denyStore, edit func(denyDoc) bool) (denyChange, error) {
	unlock, err := d.lock(ctx, locker, key)
	if err != nil {
		return denyChange{}, err
	}
	defer unlock()
	doc, err := st.load(ctx)
	if err != nil {
		return denyChange{}, err
	}
	pruned := doc.prune(now)
	if changed := edit(doc); !changed && pruned == 0 {
		return denyChange{}, nil
	}
	if doc.empty() {
		return denyChange{Written: true, Pruned: pruned}, st.remove(ctx)
	}
	others, err := st.others(ctx)
	if err != nil {
		return denyChange{}, err
	}
	text, err := fitBudget(doc, RoleInlineBudget-others, st.maxLen(), now)
	if err != nil && err != errNoFit {
		return denyChange{}, err
	} else if err != nil {
		if n := utf8.RuneCountInString(text); n > st.maxLen() {
			return denyChange{}, broker.Errorf(broker.ETOOLARGE, "%s would be %d characters long with JIT's deny statements (whitespace counted), over the %d its API takes; nothing was changed",
				st.name(), n, st.maxLen())
		}
		return denyChange{}, broker.Errorf(broker.ETOOLARGE, "%s would hold %d characters (whitespace not counted) with JIT's deny statements, over the %d allowed; nothing was changed",
			st.name(), PolicyChars(text)+others, RoleInlineBudget)
	}
	if err := st.save(ctx, text); err != nil {
		return denyChange{}, err
	}
	return denyChange{Written: true, Pruned: pruned}, nil
}

// errNoFit is fitBudget's answer when no shrink step makes the list fit.
var errNoFit = broker.Errorf(broker.ETOOLARGE, "deny list over its budget")

// fitBudget marshals doc, shrinking it one step at a time until it holds
// at most room characters (PolicyChars) and maxLen in all. It returns the
// last text tried with errNoFit when no step is left.
func fitBudget(doc denyDoc, room, maxLen int, now time.Time) (string, error) {
	for step := 0; ; step++ {
		text, err := doc.marshal()
		if err != nil {
			return "", err
		}
		if PolicyChars(text) <= room && utf8.RuneCountInString(text) <= maxLen {
			return text, nil
		}
		if !doc.shrink(step, now) {
			return text, errNoFit
		}
	}
}

// ceilTo rounds t up to a multiple of d.
func ceilTo(t time.Time, d time.Duration) time.Time {
	if r := t.Truncate(d); !r.Equal(t) {
		return r.Add(d)
	}
	return t
}
