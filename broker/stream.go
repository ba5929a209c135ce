package broker

import (
	"cmp"
	"context"
	"strings"
)

// stream reads the tickets one caller may see in one view, in the store's
// order (creation time, then id; newest first unless asc), a piece at a
// time: a page needs only the tickets up to it. It merges the view's
// store indexes, drops the duplicates, and keeps the tickets its rule
// passes (see Service.view).
type stream struct {
	sources []*source
	asc     bool
	// after is where the stream starts (nil: at the beginning).
	after *IndexPos
	// keep is the view's rule (see Service.view); match, when set, the
	// caller's own filter, which is checked first: it costs nothing next
	// to the rules in force.
	keep  func(context.Context, *Ticket) (bool, error)
	match func(*Ticket) bool
	seen  map[string]bool
}

// source is one store index read a piece at a time.
type source struct {
	store TicketStore
	f     TicketFilter
	buf   []*Ticket
	chunk int
	done  bool
}

// firstChunk is how many tickets a source reads first: enough for a small
// list (a requester's own, say) to be read and counted in one go.
const firstChunk = 50

// next returns the next ticket the stream admits, or nil after the last.
// With read false it reads nothing more from the store: it returns nil as
// soon as it would have to (exhausted tells the two nils apart).
func (st *stream) next(ctx context.Context, read bool) (*Ticket, error) {
	for {
		if !read && !st.buffered() {
			return nil, nil
		}
		var best *source
		for _, src := range st.sources {
			if err := src.fill(ctx); err != nil {
				return nil, err
			}
			if len(src.buf) > 0 && (best == nil || st.before(src.buf[0], best.buf[0])) {
				best = src
			}
		}
		if best == nil {
			return nil, nil
		}
		t := best.buf[0]
		best.buf = best.buf[1:]
		if st.seen[t.ID] {
			continue
		}
		st.seen[t.ID] = true
		ok, err := st.admits(ctx, t)
		if err != nil {
			return nil, err
		}
		if ok {
			return t, nil
		}
	}
}

// admits reports whether t passes the caller's filter and the view's rule.
func (st *stream) admits(ctx context.Context, t *Ticket) (bool, error) {
	if st.match != nil && !st.match(t) {
		return false, nil
	}
	return st.keep(ctx, t)
}

// before reports whether a comes before b in the stream's order.
func (st *stream) before(a, b *Ticket) bool { return st.order(PosOf(a), PosOf(b)) }

// startsPast reports whether t lies at or before where the stream started
// (on an earlier page).
func (st *stream) startsPast(t *Ticket) bool {
	return st.after != nil && !st.order(*st.after, PosOf(t))
}

func (st *stream) order(a, b IndexPos) bool {
	c := comparePos(a, b)
	if st.asc {
		return c < 0
	}
	return c > 0
}

func comparePos(a, b IndexPos) int {
	return cmp.Or(cmp.Compare(a.Micros, b.Micros), strings.Compare(a.ID, b.ID))
}

// fill reads the source's next piece when its buffer is empty; each piece
// is twice the one before, up to the store's page.
func (src *source) fill(ctx context.Context) error {
	if len(src.buf) > 0 || src.done {
		return nil
	}
	src.f.Limit = src.chunk
	ts, err := src.store.Tickets(ctx, src.f)
	if err != nil {
		return err
	}
	src.done = len(ts) < src.chunk
	if len(ts) > 0 {
		pos := PosOf(ts[len(ts)-1])
		src.f.After = &pos
	}
	src.buf = ts
	src.chunk = min(src.chunk*2, MaxPageSize)
	return nil
}

// buffered reports whether next can go on without reading the store.
func (st *stream) buffered() bool {
	for _, src := range st.sources {
		if len(src.buf) == 0 && !src.done {
			return false
		}
	}
	return true
}

// exhausted reports whether every source has been read to its end.
func (st *stream) exhausted() bool {
	for _, src := range st.sources {
		if len(src.buf) > 0 || !src.done {
			return false
		}
	}
	return true
}

// view returns the stream of the tickets u may see in the view in selects
// (in.State narrows the indexes read; in.Limit is the caller's), oldest
// first when asc, starting past after when it is set.
// Each view's rule is checked on every ticket against the rules and
// delegations in force, so a ticket read out of its index (a group's
// other members) is judged the same:
//   - PendingForMe: the ticket's open round (a pending ticket's, or an
//     active ticket's extension) is one u may decide now (liveDecision);
//     every pending ticket is a candidate, since a rule changed since a
//     ticket was filed changes who decides it.
//   - Mine, and everyone who does not administer JIT: tickets u requested
//     or benefits from; unless Mine, also those u approves or reviews now
//     (standingOf).
//   - An administrator's: every ticket.
func (s *Service) view(ctx context.Context, u User, in ListInput, asc bool, after *IndexPos) (*stream, error) {
	st := &stream{asc: asc, after: after, seen: map[string]bool{}}
	add := func(f TicketFilter) {
		if f.State == "" {
			f.State = in.State
		}
		f.Asc, f.After = asc, after
		st.sources = append(st.sources, &source{store: s.cfg.Store, f: f, chunk: firstChunk})
	}
	now := s.now()
	if in.PendingForMe {
		dels, err := s.delegationsTo(ctx, u.Email, now)
		if err != nil {
			return nil, err
		}
		for _, state := range []State{StatePending, StateActive} {
			if in.State == "" || in.State == state {
				add(TicketFilter{State: state})
			}
		}
		st.keep = func(ctx context.Context, t *Ticket) (bool, error) {
			if r, ok := t.OpenRound(); !ok || decidable(t, r, now) != nil {
				return false, nil // too late: the deadline or expiry task will close it
			}
			_, err := s.liveDecision(ctx, t.Clone(), u, dels, now)
			if ErrorCode(err) == EUNAVAILABLE {
				return false, err
			}
			return err == nil, nil
		}
		return st, nil
	}
	admin, err := s.cfg.Authorizer.Allowed(ctx, u, ActAdminister, "", "")
	if err != nil {
		return nil, err
	}
	switch {
	case in.Mine:
		add(TicketFilter{Requester: u.Email})
		add(TicketFilter{Beneficiary: u.Email})
		st.keep = func(_ context.Context, t *Ticket) (bool, error) { return t.Involves(u.Email), nil }
	case admin:
		add(TicketFilter{})
		st.keep = func(context.Context, *Ticket) (bool, error) { return true, nil }
	default:
		dels, err := s.delegationsTo(ctx, u.Email, now)
		if err != nil {
			return nil, err
		}
		add(TicketFilter{})
		st.keep = func(ctx context.Context, t *Ticket) (bool, error) {
			if t.Involves(u.Email) {
				return true, nil
			}
			sd, err := s.standingOf(ctx, t, u, dels)
			return sd.approver || sd.reviewer, err
		}
	}
	return st, nil
}
