package fake

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/jitaccess/jit/broker"
)

// Store keeps tickets and delegations in memory: a broker.TicketStore
// with the compare-and-set on Version, and a broker.DelegationStore. Its
// zero value is empty and ready; safe for concurrent use. Tickets it
// hands out are copies, as a real store's are.
type Store struct {
	mu   sync.Mutex
	m    map[string]*broker.Ticket
	dels []broker.Delegation
}

var (
	_ broker.TicketStore     = (*Store)(nil)
	_ broker.DelegationStore = (*Store)(nil)
)

// NewStore returns a store holding copies of ts, each at Version 1
// unless it has one.
func NewStore(ts ...*broker.Ticket) *Store {
	s := &Store{}
	for _, t := range ts {
		c := t.Clone()
		if c.Version == 0 {
			c.Version = 1
		}
		s.put(c)
	}
	return s
}

func (s *Store) put(t *broker.Ticket) {
	if s.m == nil {
		s.m = map[string]*broker.Ticket{}
	}
	s.m[t.ID] = t
}

// Len returns how many tickets the store holds.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Get returns a copy of the ticket with the given id, or nil.
func (s *Store) Get(id string) *broker.Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.m[id]; ok {
		return t.Clone()
	}
	return nil
}

// CreateTicket stores t at Version 1. ECONFLICT if its id exists.
func (s *Store) CreateTicket(_ context.Context, t *broker.Ticket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[t.ID]; ok {
		return broker.Errorf(broker.ECONFLICT, "ticket %s exists", t.ID)
	}
	t.Version = 1
	s.put(t.Clone())
	return nil
}

// Ticket returns a copy of the ticket. ENOTFOUND if there is none.
func (s *Store) Ticket(_ context.Context, id string) (*broker.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[id]
	if !ok {
		return nil, broker.Errorf(broker.ENOTFOUND, "ticket %s not found", id)
	}
	return t.Clone(), nil
}

// Tickets returns copies of the tickets matching f (state, requester,
// beneficiary), newest first (oldest first with f.Asc), ties by id,
// starting past f.After, at most f.Limit unless f.All.
func (s *Store) Tickets(_ context.Context, f broker.TicketFilter) ([]*broker.Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	order := func(a, b broker.IndexPos) int {
		c := cmp.Or(cmp.Compare(a.Micros, b.Micros), strings.Compare(a.ID, b.ID))
		if f.Asc {
			return c
		}
		return -c
	}
	var out []*broker.Ticket
	for _, t := range s.m {
		if (f.State != "" && t.State != f.State) || (f.Requester != "" && t.Requester != f.Requester) ||
			(f.Beneficiary != "" && !slices.Contains(t.Beneficiaries, f.Beneficiary)) ||
			(f.After != nil && order(broker.PosOf(t), *f.After) <= 0) {
			continue
		}
		out = append(out, t.Clone())
	}
	slices.SortFunc(out, func(a, b *broker.Ticket) int { return order(broker.PosOf(a), broker.PosOf(b)) })
	if !f.All && f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// UpdateTicket replaces the ticket if t.Version is the stored one.
// ECONFLICT otherwise; ENOTFOUND if it is gone.
func (s *Store) UpdateTicket(_ context.Context, t *broker.Ticket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[t.ID]
	switch {
	case !ok:
		return broker.Errorf(broker.ENOTFOUND, "ticket %s not found", t.ID)
	case old.Version != t.Version:
		return broker.Errorf(broker.ECONFLICT, "ticket %s changed (version %d, not %d)", t.ID, old.Version, t.Version)
	}
	t.Version++
	s.put(t.Clone())
	return nil
}

// DeleteTicket removes the ticket; a missing one is not an error.
func (s *Store) DeleteTicket(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// CreateDelegation stores d if check, given the delegations from or to
// d.From or d.To, accepts it.
func (s *Store) CreateDelegation(_ context.Context, d *broker.Delegation, check func([]broker.Delegation) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var related []broker.Delegation
	for _, e := range s.dels {
		if e.From == d.From || e.To == d.From || e.From == d.To || e.To == d.To {
			related = append(related, e)
		}
	}
	if err := check(related); err != nil {
		return err
	}
	s.dels = append(s.dels, *d)
	return nil
}

// Delegations returns the delegations from f.From or to f.To (all when
// both are empty), by start.
func (s *Store) Delegations(_ context.Context, f broker.DelegationFilter) ([]broker.Delegation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []broker.Delegation
	for _, d := range s.dels {
		if (f.From == "" && f.To == "") || (f.From != "" && d.From == f.From) || (f.To != "" && d.To == f.To) {
			out = append(out, d)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// Delegation returns one delegation. ENOTFOUND if there is none.
func (s *Store) Delegation(_ context.Context, id string) (broker.Delegation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dels {
		if d.ID == id {
			return d, nil
		}
	}
	return broker.Delegation{}, broker.Errorf(broker.ENOTFOUND, "delegation %s not found", id)
}

// DeleteDelegation removes a delegation. ENOTFOUND if there is none.
func (s *Store) DeleteDelegation(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.dels)
	s.dels = slices.DeleteFunc(s.dels, func(d broker.Delegation) bool { return d.ID == id })
	if len(s.dels) == n {
		return broker.Errorf(broker.ENOTFOUND, "delegation %s not found", id)
	}
	return nil
}
