package redisstore

import "sync"

// readsKept bounds the tickets a Store remembers reading (reads).
const readsKept = 4096

// reads remembers, for the tickets this process read or wrote last, by id
// and version, the digest of the stored JSON and the index keys it has
// entries in: what an update must compare and move. An update of a ticket
// just read then needs no second read and decode of it. A wrong entry
// costs only a retry: the update script compares both the version and the
// digest with what is stored.
type reads struct {
	mu sync.Mutex
	m  map[string]readEntry
}

type readEntry struct {
	version int64
	digest  string
	keys    []string
}

func (r *reads) put(id string, e readEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil || len(r.m) >= readsKept {
		r.m = make(map[string]readEntry, readsKept)
	}
	r.m[id] = e
}

// take returns the entry for the ticket at version, if there is one.
func (r *reads) take(id string, version int64) (readEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[id]
	return e, ok && e.version == version
}

func (r *reads) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, id)
}
