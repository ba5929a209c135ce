package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// deleteRetries bounds how often DeleteTicket re-reads a ticket that keeps
// changing under it.
const deleteRetries = 10

// CreateTicket stores a new ticket with Version 1 and adds it to its
// indexes. ECONFLICT if a ticket with the same id exists; EINVALID if t has
// no id.
func (s *Store) CreateTicket(ctx context.Context, t *broker.Ticket) error {
	if t == nil || t.ID == "" {
		return broker.Errorf(broker.EINVALID, "ticket id is required")
	}
	next := *t
	next.Version = 1
	data, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", t.ID, err)
	}
	keys := append([]string{s.ticketKey(t.ID), s.outboxKey()}, s.indexKeys(t)...)
	res, err := createScript.Run(ctx, s.rdb, keys, data, score(t), t.ID, s.maxPending, s.pendingIndex(t, keys)).Int()
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	switch res {
	case resOK:
	case resCapped:
		return s.capped(t)
	default:
		return broker.Errorf(broker.ECONFLICT, "ticket %s already exists", t.ID)
	}
	t.Version = 1
	s.announce(ctx, t.ID)
	return nil
}

// Ticket returns the ticket with the given id. ENOTFOUND if there is none.
func (s *Store) Ticket(ctx context.Context, id string) (*broker.Ticket, error) {
	t, raw, err := s.get(ctx, id)
	if err == nil {
		s.reads.put(id, readEntry{version: t.Version, digest: digest(raw), keys: s.writtenKeys(t)})
	}
	return t, err
}

// get returns the stored ticket and the exact bytes it was decoded from.
func (s *Store) get(ctx context.Context, id string) (*broker.Ticket, []byte, error) {
	if id == "" {
		return nil, nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	}
	raw, err := s.rdb.Get(ctx, s.ticketKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	} else if err != nil {
		return nil, nil, fmt.Errorf("get ticket %s: %w", id, err)
	}
	t, err := decode(id, raw)
	if err != nil {
		return nil, nil, err
	}
	return t, raw, nil
}

func decode(id string, raw []byte) (*broker.Ticket, error) {
	var t broker.Ticket
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode ticket %s: %w", id, err)
	}
	return &t, nil
}

// UpdateTicket replaces the stored ticket if its version is still
// t.Version, moves its index entries, and sets t.Version to the new
// version. ECONFLICT if another writer got there first; ENOTFOUND if the
// ticket is gone. t is left unchanged when it fails.
func (s *Store) UpdateTicket(ctx context.Context, t *broker.Ticket) error {
	if t == nil || t.ID == "" {
		return broker.Errorf(broker.EINVALID, "ticket id is required")
	}
	read, cached := s.reads.take(t.ID, t.Version)
	if !cached {
		old, raw, err := s.get(ctx, t.ID)
		if err != nil {
			return err
		}
		if old.Version != t.Version {
			return conflict(t)
		}
		read = readEntry{version: old.Version, digest: digest(raw), keys: s.writtenKeys(old)}
	}
	next := *t
	next.Version = t.Version + 1
	data, err := json.Marshal(&next)
	if err != nil {
		return fmt.Errorf("encode ticket %s: %w", t.ID, err)
	}
	// The script applies the change only if the stored ticket is still the
	// one read, so the stale keys computed from it are exact.
	add := s.indexKeys(t)
	var stale []string
	for _, k := range read.keys {
		if !slices.Contains(add, k) {
			stale = append(stale, k)
		}
	}
	keys := make([]string, 0, 2+len(stale)+len(add))
	keys = append(keys, s.ticketKey(t.ID), s.outboxKey())
	keys = append(keys, stale...)
	keys = append(keys, add...)
	res, err := updateScript.Run(ctx, s.rdb, keys, t.Version, read.digest, data, score(t), t.ID, len(stale), s.maxPending, s.pendingIndex(t, keys)).Int()
	if err != nil {
		return fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	switch res {
	case resOK:
		t.Version = next.Version
		s.reads.put(t.ID, readEntry{version: next.Version, digest: digest(data), keys: add})
		s.announce(ctx, t.ID)
		return nil
	case resNotFound:
		return broker.Errorf(broker.ENOTFOUND, "ticket %s not found", t.ID)
	case resCapped:
		return s.capped(t)
	case resConflict:
		if cached { // what this process remembered is not what is stored: read it
			s.reads.drop(t.ID)
			return s.UpdateTicket(ctx, t)
		}
	}
	return conflict(t)
}

// pendingIndex is the 1-based position in keys of t's requester's pending
// index, or 0 when t is not pending (or there is no cap).
func (s *Store) pendingIndex(t *broker.Ticket, keys []string) int {
	if s.maxPending == 0 || t.State != broker.StatePending || t.Requester == "" {
		return 0
	}
	// The key appears once: in an update it is among those to add, never
	// among the stale ones.
	return slices.Index(keys, s.pendingKey(t.Requester)) + 1
}

// capped is the error for a ticket over the pending cap.
func (s *Store) capped(t *broker.Ticket) error {
	return broker.Errorf(broker.EINVALID, "%s already has %d pending tickets, the most one requester may have waiting for approval at once; cancel one or wait for decisions", t.Requester, s.maxPending)
}

func conflict(t *broker.Ticket) error {
	return broker.Errorf(broker.ECONFLICT, "ticket %s changed since version %d", t.ID, t.Version)
}

// DeleteTicket removes a ticket and all its index entries in one step.
// Deleting a missing ticket is not an error. ECONFLICT only if the ticket
// keeps changing while it is being deleted.
func (s *Store) DeleteTicket(ctx context.Context, id string) error {
	for range deleteRetries {
		old, raw, err := s.get(ctx, id)
		if broker.ErrorCode(err) == broker.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		keys := append([]string{s.ticketKey(id), s.outboxKey()}, s.writtenKeys(old)...)
		res, err := deleteScript.Run(ctx, s.rdb, keys, digest(raw), id).Int()
		if err != nil {
			return fmt.Errorf("delete ticket %s: %w", id, err)
		}
		if res == resOK {
			s.reads.drop(id)
			return nil
		}
	}
	return broker.Errorf(broker.ECONFLICT, "ticket %s is changing too often to delete; try again", id)
}

// digest returns the hex SHA-1 of b, as Lua's redis.sha1hex computes it.
func digest(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}
