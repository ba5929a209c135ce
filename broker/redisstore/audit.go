package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Audit implements broker.AuditLog as an append-only Redis stream chained
// by HMAC-SHA-256: each event carries its sequence number, the MAC of the
// event before it and its own MAC under a key that never reaches Redis
// (broker.AuditMAC), so an edited, removed or forged event breaks the
// chain (Verify names it) and a log cut short is caught against an
// exported checkpoint. Keys: <prefix>:{audit}:log (the stream) and
// <prefix>:{audit}:loghead ("<seq> <mac>" of the last event).
type Audit struct {
	rdb    redis.UniversalClient
	key    []byte
	stream string
	head   string
	base   string // the signed checkpoint of the last event trimmed away
	index  string // prefix of the per-ticket indexes
	now    func() time.Time
	// Sink, if set, gets each event's stored encoding once it is
	// appended (a file or syslog stream for a SIEM); it must not block.
	Sink func(raw []byte)
	// turn (a one-slot semaphore) serializes this process's appends and
	// trims, so they never race each other for the head; other
	// processes' appends retry. last is the head this process last wrote
	// ("" when unknown), read and written with the turn held.
	turn chan struct{}
	last string
	// qmu guards queue, the events waiting to be appended (Record).
	qmu   sync.Mutex
	queue []*pendingEvent
}

var _ broker.AuditLog = (*Audit)(nil)

// NewAudit returns the audit log under prefix (default "jit") whose events
// are signed with key.
func NewAudit(rdb redis.UniversalClient, prefix string, key []byte) *Audit {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	base := prefix + ":{audit}:"
	return &Audit{rdb: rdb, key: key, stream: base + "log", head: base + "loghead", base: base + "logbase", index: base + "t:", now: time.Now, turn: make(chan struct{}, 1)}
}

// appendScript appends a batch of events if the head is still what the
// caller chained the first of them to, indexes each event with a ticket
// under it, and sets the head to the last event's. ARGV: the head
// expected, the new head, then per event its encoding and "1" when it is
// indexed under KEYS[2+i] ("0": KEYS[2+i] is unused).
var appendScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[2]) or ''
if cur ~= ARGV[1] then return 0 end
for i = 1, (#ARGV - 2) / 2 do
  local id = redis.call('XADD', KEYS[1], '*', 'event', ARGV[1 + 2 * i])
  if ARGV[2 + 2 * i] == '1' then redis.call('RPUSH', KEYS[2 + i], id) end
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`)

// ticketKey is the index of a ticket's events (stream ids, oldest first).
func (a *Audit) ticketKey(id string) string { return a.index + id }

// maxBatch bounds the events of one append (one script run).
const maxBatch = 256

// batchTimeout bounds one batch's appending, whoever's request started it.
const batchTimeout = 10 * time.Second

// pendingEvent is an event waiting to be appended; done gets the outcome.
type pendingEvent struct {
	e    broker.AuditEvent
	done chan error
}

// Record signs e as the next event and appends it. Concurrent calls in a
// process share the work (group commit): each queues its event and waits
// for its turn, and whoever takes the turn appends everything queued by
// then, chained in order, in one script run; a caller whose event went
// out in another's batch returns without a turn. The head last written
// is remembered, so a batch costs one round trip unless another process
// appended in between.
func (a *Audit) Record(ctx context.Context, e broker.AuditEvent) error {
	if e.At.IsZero() {
		e.At = a.now()
	}
	e.At = e.At.UTC()
	w := &pendingEvent{e: e, done: make(chan error, 1)}
	a.qmu.Lock()
	a.queue = append(a.queue, w)
	a.qmu.Unlock()
	select {
	case err := <-w.done:
		return err
	case a.turn <- struct{}{}:
	}
	defer func() { <-a.turn }()
	for {
		select {
		case err := <-w.done:
			return err
		default:
		}
		a.qmu.Lock()
		batch := a.queue[:min(len(a.queue), maxBatch)]
		a.queue = a.queue[len(batch):]
		a.qmu.Unlock()
		// The batch is not only this caller's: its cancellation must not
		// fail the others.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
		err := a.appendBatch(bctx, batch)
		cancel()
		for _, p := range batch {
			p.done <- err
		}
	}
}

// appendBatch chains batch after the head and appends it, retrying while
// other processes move the head. Called with the turn held.
func (a *Audit) appendBatch(ctx context.Context, batch []*pendingEvent) error {
	keys := []string{a.stream, a.head}
	for _, p := range batch {
		keys = append(keys, a.ticketKey(p.e.TicketID))
	}
	cur, known := a.last, a.last != ""
	for i := range 100 {
		if i > 0 {
			time.Sleep(time.Duration(rand.IntN(1000*i)) * time.Microsecond) // another replica won: back off a little
		}
		if !known {
			head, err := a.rdb.Get(ctx, a.head).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("audit head: %w", err)
			}
			cur = head
		}
		seq, mac := parseHead(cur)
		args := []any{cur, ""}
		raw := make([][]byte, len(batch))
		for j, p := range batch {
			e := p.e
			seq++
			e.Seq, e.Prev = seq, mac
			e.MAC = broker.AuditMAC(a.key, e)
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			mac, raw[j] = e.MAC, b
			indexed := "0"
			if e.TicketID != "" {
				indexed = "1"
			}
			args = append(args, string(b), indexed)
		}
		next := fmt.Sprintf("%d %s", seq, mac)
		args[1] = next
		ok, err := appendScript.Run(ctx, a.rdb, keys, args...).Int()
		if err != nil {
			a.last = ""
			return fmt.Errorf("audit append: %w", err)
		}
		if ok == 1 {
			a.last = next
			if a.Sink != nil {
				for _, b := range raw {
					a.Sink(b)
				}
			}
			return nil
		}
		known = false
	}
	a.last = ""
	return broker.Errorf(broker.ECONFLICT, "the audit log is changing too often")
}

func parseHead(s string) (int64, string) {
	n, mac, _ := strings.Cut(s, " ")
	seq, _ := strconv.ParseInt(n, 10, 64)
	return seq, mac
}

func decodeEvent(m redis.XMessage) (broker.AuditEvent, []byte, bool) {
	s, _ := m.Values["event"].(string)
	var e broker.AuditEvent
	err := json.Unmarshal([]byte(s), &e)
	return e, []byte(s), err == nil
}

// Events returns up to n of the newest events, newest first.
func (a *Audit) Events(ctx context.Context, n int64) ([]broker.AuditEvent, error) {
	msgs, err := a.rdb.XRevRangeN(ctx, a.stream, "+", "-", n).Result()
	if err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	out := make([]broker.AuditEvent, 0, len(msgs))
	for _, m := range msgs {
		if e, _, ok := decodeEvent(m); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// scanChunk is how many stream entries one read takes.
const scanChunk = 500

// scanBudget is the most stream entries one Query reads when it scans the
// stream: a filter that matches little (or a caller who may see little)
// then gets a short page and a cursor to go on from, instead of making
// one request read the whole log.
var scanBudget = 10 * scanChunk

// Query returns up to q.Limit events matching q, newest first, and the
// cursor of the next page ("" at the end). keep, if set, further filters
// events (what the caller may see). Implements broker.AuditReader.
func (a *Audit) Query(ctx context.Context, q broker.AuditQuery, keep func(broker.AuditEvent) bool) ([]broker.AuditEvent, string, error) {
	if q.TicketID != "" {
		return a.queryTicket(ctx, q, keep)
	}
	end := "+"
	if q.Cursor != "" {
		end = "(" + q.Cursor
	}
	start := "-"
	if !q.Since.IsZero() {
		start = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	if !q.Until.IsZero() && end == "+" {
		end = strconv.FormatInt(q.Until.UnixMilli(), 10)
	}
	var out []broker.AuditEvent
	for scanned := 0; ; {
		msgs, err := a.rdb.XRevRangeN(ctx, a.stream, end, start, scanChunk).Result()
		if err != nil {
			return nil, "", fmt.Errorf("audit read: %w", err)
		}
		var cursor string
		if out, cursor = collect(out, msgs, q, keep); cursor != "" {
			return out, cursor, nil
		}
		if len(msgs) < scanChunk {
			return out, "", nil
		}
		last := msgs[len(msgs)-1].ID
		if scanned += len(msgs); scanned >= scanBudget {
			return out, last, nil
		}
		end = "(" + last
	}
}

// Export calls fn with the stored encoding of every event at or after
// since, oldest first.
func (a *Audit) Export(ctx context.Context, since time.Time, fn func(raw []byte) error) error {
	start := "-"
	if !since.IsZero() {
		start = strconv.FormatInt(since.UnixMilli(), 10)
	}
	for {
		msgs, err := a.rdb.XRangeN(ctx, a.stream, start, "+", scanChunk).Result()
		if err != nil {
			return fmt.Errorf("audit read: %w", err)
		}
		for _, m := range msgs {
			s, _ := m.Values["event"].(string)
			if err := fn([]byte(s)); err != nil {
				return err
			}
		}
		if len(msgs) < scanChunk {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// Verify walks the whole log and returns a *broker.AuditBreak naming the
// first event that does not follow, or that disagrees with cp (optional,
// an exported checkpoint), or with the stored head. It returns how many
// events verified.
func (a *Audit) Verify(ctx context.Context, cp *broker.AuditCheckpoint) (int64, error) {
	base, err := a.trimmedAt(ctx)
	if err != nil {
		return 0, err
	}
	if cp != nil && base != nil && cp.Seq <= base.Seq {
		// The checkpoint vouches for events trimmed since; the signed
		// trim checkpoint stands for them.
		if !broker.CheckpointValid(a.key, *cp) {
			return 0, fmt.Errorf("checkpoint at event %d: its signature does not match (another key, or edited)", cp.Seq)
		}
		if cp.Seq == base.Seq && cp.MAC != base.MAC {
			return 0, &broker.AuditBreak{Seq: cp.Seq, Reason: "differs from the checkpoint"}
		}
		cp = nil
	}
	v := &broker.AuditVerifier{Key: a.key, Checkpoint: cp}
	if base != nil {
		v.Start(base.Seq, base.MAC)
		v.Last = broker.AuditEvent{Seq: base.Seq, MAC: base.MAC}
	}
	err = a.Export(ctx, time.Time{}, v.Check)
	if err != nil {
		return v.Count, err
	}
	if err := v.Finish(); err != nil {
		return v.Count, err
	}
	cur, err := a.rdb.Get(ctx, a.head).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return v.Count, fmt.Errorf("audit head: %w", err)
	}
	if seq, mac := parseHead(cur); seq != v.Last.Seq || mac != v.Last.MAC {
		return v.Count, &broker.AuditBreak{Seq: v.Last.Seq + 1, Reason: fmt.Sprintf("missing: the log ends at event %d but its head names event %d", v.Last.Seq, seq)}
	}
	return v.Count, nil
}

// Checkpoint returns a signed checkpoint of the last event (a zero Seq for
// an empty log).
func (a *Audit) Checkpoint(ctx context.Context) (broker.AuditCheckpoint, error) {
	msgs, err := a.rdb.XRevRangeN(ctx, a.stream, "+", "-", 1).Result()
	if err != nil {
		return broker.AuditCheckpoint{}, fmt.Errorf("audit read: %w", err)
	}
	var last broker.AuditEvent
	if len(msgs) == 1 {
		last, _, _ = decodeEvent(msgs[0])
	}
	return broker.SignCheckpoint(a.key, last, a.now()), nil
}

// trimmedAt returns the checkpoint the log was trimmed at, after checking
// its signature, or nil for a log never trimmed.
func (a *Audit) trimmedAt(ctx context.Context) (*broker.AuditCheckpoint, error) {
	raw, err := a.rdb.Get(ctx, a.base).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("audit base: %w", err)
	}
	var cp broker.AuditCheckpoint
	if err := json.Unmarshal([]byte(raw), &cp); err != nil {
		return nil, &broker.AuditBreak{Seq: 1, Reason: "the trim checkpoint is unreadable"}
	}
	if !broker.CheckpointValid(a.key, cp) {
		return nil, &broker.AuditBreak{Seq: cp.Seq + 1, Reason: "the trim checkpoint's signature does not match"}
	}
	return &cp, nil
}

// Trim removes the events older than before, first recording a signed
// checkpoint of the last one removed, from which Verify then starts. It
// returns how many events it removed. The stream keeps the newer events
// unchanged, so exported checkpoints of them still verify.
func (a *Audit) Trim(ctx context.Context, before time.Time) (int64, error) {
	a.turn <- struct{}{}
	defer func() { <-a.turn }()
	msgs, err := a.rdb.XRevRangeN(ctx, a.stream, "("+strconv.FormatInt(before.UnixMilli(), 10), "-", 1).Result()
	if err != nil {
		return 0, fmt.Errorf("audit read: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	last, _, ok := decodeEvent(msgs[0])
	if !ok {
		return 0, fmt.Errorf("audit trim: event %s is unreadable; verify the log first", msgs[0].ID)
	}
	cp, err := json.Marshal(broker.SignCheckpoint(a.key, last, a.now()))
	if err != nil {
		return 0, err
	}
	if err := a.rdb.Set(ctx, a.base, cp, 0).Err(); err != nil {
		return 0, fmt.Errorf("audit trim: %w", err)
	}
	// Everything up to and including the checkpointed event goes.
	n, err := a.rdb.XTrimMinID(ctx, a.stream, nextID(msgs[0].ID)).Result()
	if err != nil {
		return 0, fmt.Errorf("audit trim: %w", err)
	}
	return n, nil
}

// nextID returns the stream id right after id ("ms-seq").
func nextID(id string) string {
	ms, seq, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseUint(seq, 10, 64)
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// queryTicket answers Query for one ticket from its index.
func (a *Audit) queryTicket(ctx context.Context, q broker.AuditQuery, keep func(broker.AuditEvent) bool) ([]broker.AuditEvent, string, error) {
	ids, err := a.rdb.LRange(ctx, a.ticketKey(q.TicketID), 0, -1).Result()
	if err != nil {
		return nil, "", fmt.Errorf("audit read: %w", err)
	}
	var out []broker.AuditEvent
	i := len(ids) - 1
	if q.Cursor != "" {
		for i >= 0 && !idBefore(ids[i], q.Cursor) {
			i--
		}
	}
	for i >= 0 {
		lo := max(i-scanChunk+1, 0)
		cmds, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j >= lo; j-- {
				p.XRange(ctx, a.stream, ids[j], ids[j])
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, "", fmt.Errorf("audit read: %w", err)
		}
		for _, c := range cmds {
			msgs, _ := c.(*redis.XMessageSliceCmd).Result()
			// none when trimmed away
			var cursor string
			if out, cursor = collect(out, msgs, q, keep); cursor != "" {
				return out, cursor, nil
			}
		}
		i = lo - 1
	}
	return out, "", nil
}

// idBefore reports whether stream id x comes before y.
func idBefore(x, y string) bool {
	xm, xs, _ := strings.Cut(x, "-")
	ym, ys, _ := strings.Cut(y, "-")
	a, _ := strconv.ParseUint(xm, 10, 64)
	b, _ := strconv.ParseUint(ym, 10, 64)
	if a != b {
		return a < b
	}
	c, _ := strconv.ParseUint(xs, 10, 64)
	d, _ := strconv.ParseUint(ys, 10, 64)
	return c < d
}

// collect appends to out the events of msgs that q and keep accept, and
// returns the cursor (the ID of the last one taken) once out holds
// q.Limit events, else "".
func collect(out []broker.AuditEvent, msgs []redis.XMessage, q broker.AuditQuery, keep func(broker.AuditEvent) bool) ([]broker.AuditEvent, string) {
	for _, m := range msgs {
		e, _, ok := decodeEvent(m)
		if !ok || !q.Matches(e) || (keep != nil && !keep(e)) {
			continue
		}
		out = append(out, e)
		if len(out) == q.Limit {
			return out, m.ID
		}
	}
	return out, ""
}
