package broker

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sort orders for TicketQuery.Sort.
const (
	SortCreated = "created"
	SortStart   = "start"
	SortEnd     = "end"
	SortAccount = "account"
)

// MaxPageSize is the most tickets one ListTickets page holds.
const MaxPageSize = 1000

// TicketQuery selects, orders and pages the tickets the caller may see
// (ListTickets). Empty fields match everything; the fields set are
// combined with AND.
type TicketQuery struct {
	// States: any of them (none: every state).
	States []State
	// Mine: tickets the caller requested or benefits from.
	Mine bool
	// PendingForMe: tickets waiting for the caller's decision now.
	PendingForMe bool
	// Requester, Beneficiary (emails, compared case-insensitively),
	// AccountID and PermissionSet must match exactly.
	Requester, Beneficiary, AccountID, PermissionSet string
	// From and To (either may be zero): the ticket's window [start, end)
	// overlaps [From, To).
	From, To time.Time
	// Text: a case-insensitive substring of the id, reason, requester,
	// a beneficiary, the account or the permission set.
	Text string
	// Unreviewed: ended tickets that were granted and whose activity
	// nobody has reviewed yet, and break-glass tickets not yet reviewed
	// (Ticket.Unreviewed); break-glass tickets come first, in either order.
	Unreviewed bool
	// BreakGlass: only break-glass tickets.
	BreakGlass bool
	// Group: only the members of this group (Ticket.Group).
	Group string
	// Grouped lists a group as one row: of the members the caller may
	// see and the query matches, only the first (in the group's order)
	// is listed, and TicketPage.Groups gives all of them.
	Grouped bool
	// Sort is SortCreated (default), SortStart, SortEnd or SortAccount;
	// ties are broken by creation time, then id. Asc sorts ascending
	// (default: descending, newest first).
	Sort string
	Asc  bool
	// Cursor, from a previous page's NextCursor with the same query,
	// starts after that page's last ticket. Offset skips that many
	// tickets instead (when Cursor is empty).
	Cursor string
	Offset int
	// Limit is the page size: 1 to MaxPageSize (default MaxPageSize).
	Limit int
}

// TicketPage is one page of ListTickets.
type TicketPage struct {
	Tickets []*Ticket
	// Total counts every ticket the query matches, on every page; when
	// TotalIsMinimum, only those read so far (more may match: a list in
	// creation order is read only as far as its page, and a page after a
	// cursor does not count the ones before it).
	Total          int
	TotalIsMinimum bool
	// NextCursor continues after this page; empty on the last page.
	NextCursor string
	// Groups, in a Grouped list, are the members of each group listed
	// that the caller may see and the query matches, in the group's
	// order, by group id.
	Groups map[string][]GroupMember
}

// GroupMember is one account's ticket of a group, as a grouped list
// shows it.
type GroupMember struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	State     State  `json:"state"`
}

// ListTickets returns one page of the tickets the caller may see (as
// Tickets, without its cap) that match q, in q's order. In creation order
// (the default) the tickets are read only as far as the page needs (and
// what the first read brought in besides), so a first page costs the same
// however many tickets are stored; Total then counts the matches read and
// TotalIsMinimum says whether more may follow. In any other order every
// match is read, sorted and counted. Errors: EUNAUTHENTICATED, EINVALID
// (an unknown state or sort, a bad cursor or limit), EUNAVAILABLE.
func (s *Service) ListTickets(ctx context.Context, q TicketQuery) (TicketPage, error) {
	if err := q.check(); err != nil {
		return TicketPage{}, err
	}
	u, err := caller(ctx)
	if err != nil {
		return TicketPage{}, err
	}
	var cursor *sortKey
	if q.Cursor != "" {
		k, err := q.decodeCursor()
		if err != nil {
			return TicketPage{}, err
		}
		cursor = &k
	}
	in := ListInput{Mine: q.Mine, PendingForMe: q.PendingForMe}
	if len(q.States) == 1 {
		in.State = q.States[0] // the store's state index narrows the read
	}
	// In creation order the stream starts past the cursor; in any other
	// the cursor is found in the sorted list.
	inOrder := q.Sort == SortCreated && !q.Unreviewed
	var after *IndexPos
	skip := q.Offset
	if cursor != nil {
		skip = 0
		if inOrder {
			after = &IndexPos{Micros: cursor.created, ID: cursor.id}
		}
	}
	st, err := s.view(ctx, u, in, q.Asc && inOrder, after)
	if err != nil {
		return TicketPage{}, err
	}
	st.match = q.matches
	rows, groups, complete, err := s.rows(ctx, st, q, skip+q.Limit+1, inOrder)
	if err != nil {
		return TicketPage{}, err
	}
	// In order, only a group's first member can be out of place.
	slices.SortFunc(rows, q.compare)
	if cursor != nil && !inOrder {
		skip, _ = slices.BinarySearchFunc(rows, *cursor, func(t *Ticket, k sortKey) int { return q.compareKeys(q.key(t), k) })
		if skip < len(rows) && q.key(rows[skip]) == *cursor {
			skip++
		}
	}
	page := TicketPage{Total: len(rows), TotalIsMinimum: !complete || q.Cursor != ""}
	start := min(skip, len(rows))
	end := min(start+q.Limit, len(rows))
	page.Tickets = rows[start:end]
	if end < len(rows) && end > start {
		page.NextCursor = q.cursor(q.key(rows[end-1]))
	}
	for _, t := range page.Tickets {
		if m, ok := groups[t.Group]; ok {
			if page.Groups == nil {
				page.Groups = map[string][]GroupMember{}
			}
			page.Groups[t.Group] = m
		}
	}
	return page, nil
}

// rows reads st (which checks q's filter: stream.match) for q: its
// tickets, a group as its first member in the group's order (with all its
// members the stream admits, by group id) when q.Grouped. In order
// (inOrder) it stops once it holds need rows the stream has passed and
// nothing more is buffered; complete reports whether it read to the end.
func (s *Service) rows(ctx context.Context, st *stream, q TicketQuery, need int, inOrder bool) (rows []*Ticket, groups map[string][]GroupMember, complete bool, err error) {
	groups = map[string][]GroupMember{}
	// A group's first member may lie past the stream's position (the
	// stream met a later one first): such rows are not counted as read
	// until the stream passes them.
	var ahead []*Ticket
	for {
		enough := inOrder && len(rows)-len(ahead) >= need
		t, err := st.next(ctx, !enough)
		if err != nil {
			return nil, nil, false, err
		}
		if t == nil {
			return rows, groups, st.exhausted(), nil
		}
		ahead = slices.DeleteFunc(ahead, func(r *Ticket) bool { return !st.before(t, r) })
		if q.Grouped && t.Group != "" {
			if _, done := groups[t.Group]; done {
				continue
			}
			members, err := s.groupRows(ctx, st, t)
			if err != nil {
				return nil, nil, false, err
			}
			list := make([]GroupMember, len(members))
			for i, m := range members {
				list[i] = GroupMember{ID: m.ID, AccountID: m.AccountID, State: m.State}
			}
			groups[t.Group] = list
			if st.startsPast(members[0]) {
				continue // listed on an earlier page
			}
			if st.before(t, members[0]) {
				ahead = append(ahead, members[0])
			}
			t = members[0]
		}
		rows = append(rows, t)
	}
}

// groupRows returns the members of t's group that st admits (t among
// them), in the group's order.
func (s *Service) groupRows(ctx context.Context, st *stream, t *Ticket) ([]*Ticket, error) {
	var out []*Ticket
	for _, id := range t.GroupTickets {
		m := t
		if id != t.ID {
			var err error
			if m, err = s.cfg.Store.Ticket(ctx, id); ErrorCode(err) == ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			if ok, err := st.admits(ctx, m); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
		}
		out = append(out, m)
	}
	if len(out) == 0 { // t names no members: a group of its own
		out = []*Ticket{t}
	}
	return out, nil
}

// check validates q and fills in its defaults.
func (q *TicketQuery) check() error {
	for _, st := range q.States {
		if !st.Valid() {
			return Errorf(EINVALID, "unknown state %q", st)
		}
	}
	switch q.Sort {
	case "":
		q.Sort = SortCreated
	case SortCreated, SortStart, SortEnd, SortAccount:
	default:
		return Errorf(EINVALID, "sort must be one of created, start, end, account")
	}
	switch {
	case q.Limit == 0:
		q.Limit = MaxPageSize
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return Errorf(EINVALID, "limit must be between 1 and %d", MaxPageSize)
	}
	if q.Offset < 0 {
		return Errorf(EINVALID, "offset must not be negative")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return Errorf(EINVALID, "from must be before to")
	}
	q.Requester, q.Beneficiary = NormalizeEmail(q.Requester), NormalizeEmail(q.Beneficiary)
	q.Text = strings.ToLower(strings.TrimSpace(q.Text))
	return nil
}

// matches reports whether t passes q's filters (not Mine and
// PendingForMe, which Tickets applied).
func (q *TicketQuery) matches(t *Ticket) bool {
	switch {
	case len(q.States) > 0 && !slices.Contains(q.States, t.State),
		q.Requester != "" && NormalizeEmail(t.Requester) != q.Requester,
		q.Beneficiary != "" && !slices.ContainsFunc(t.Beneficiaries, func(b string) bool { return NormalizeEmail(b) == q.Beneficiary }),
		q.AccountID != "" && t.AccountID != q.AccountID,
		q.PermissionSet != "" && t.PermissionSet != q.PermissionSet,
		!q.From.IsZero() && !t.End.After(q.From),
		!q.To.IsZero() && !t.Start.Before(q.To),
		q.Unreviewed && !t.Unreviewed(),
		q.BreakGlass && t.BreakGlass == nil,
		q.Group != "" && t.Group != q.Group:
		return false
	}
	if q.Text == "" {
		return true
	}
	for _, f := range append([]string{t.ID, t.Group, t.Reason, t.Requester, t.AccountID, t.PermissionSet}, t.Beneficiaries...) {
		if strings.Contains(strings.ToLower(f), q.Text) {
			return true
		}
	}
	return false
}

// sortKey is where a ticket stands in a query's order: first (in either
// direction) break-glass tickets in an unreviewed list, then the sorted
// field, then creation time, then id.
type sortKey struct {
	rank    int
	field   string
	created int64
	id      string
}

func (q *TicketQuery) key(t *Ticket) sortKey {
	k := sortKey{created: t.CreatedAt.UnixMicro(), id: t.ID}
	if q.Unreviewed && t.BreakGlass == nil {
		k.rank = 1
	}
	switch q.Sort {
	case SortStart:
		k.field = fmt.Sprintf("%020d", t.Start.UnixNano())
	case SortEnd:
		k.field = fmt.Sprintf("%020d", t.End.UnixNano())
	case SortAccount:
		k.field = t.AccountID
	}
	return k
}

func (q *TicketQuery) compareKeys(a, b sortKey) int {
	c := cmp.Or(strings.Compare(a.field, b.field), cmp.Compare(a.created, b.created), strings.Compare(a.id, b.id))
	if !q.Asc {
		c = -c
	}
	return cmp.Or(cmp.Compare(a.rank, b.rank), c)
}

func (q *TicketQuery) compare(a, b *Ticket) int { return q.compareKeys(q.key(a), q.key(b)) }

// cursor encodes k with the order it belongs to, so that a cursor used
// with another order is refused rather than misread.
func (q *TicketQuery) cursor(k sortKey) string {
	raw := fmt.Sprintf("%s\x00%t\x00%s\x00%d\x00%s\x00%d", q.Sort, q.Asc, k.field, k.created, k.id, k.rank)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func (q *TicketQuery) decodeCursor() (sortKey, error) {
	bad := Errorf(EINVALID, "cursor is not one this query returned")
	raw, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	if err != nil {
		return sortKey{}, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 6 || parts[0] != q.Sort || parts[1] != fmt.Sprint(q.Asc) {
		return sortKey{}, bad
	}
	var k sortKey
	if _, err := fmt.Sscanf(parts[3], "%d", &k.created); err != nil {
		return sortKey{}, bad
	}
	if _, err := fmt.Sscanf(parts[5], "%d", &k.rank); err != nil {
		return sortKey{}, bad
	}
	k.field, k.id = parts[2], parts[4]
	return k, nil
}
