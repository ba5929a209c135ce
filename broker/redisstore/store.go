package redisstore

import (
	"slices"
	"strings"

	"github.com/jitaccess/jit/broker"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "jit"

// maxLimit caps how many tickets one Tickets call returns.
const maxLimit = 1000

// defaultPageSize is how many index entries Tickets reads at a time when
// filters beyond the chosen index are applied in Go.
const defaultPageSize = 200

// Options configures a Store. The zero value means the defaults.
type Options struct {
	// Prefix starts every key; default "jit". It must not contain '{' or
	// '}', which would change the keys' hash tag.
	Prefix string
	// MaxPendingPerRequester caps how many pending tickets one requester
	// may have at once: CreateTicket and UpdateTicket refuse a ticket that
	// would pass it (EINVALID), atomically with the write. 0 means no cap.
	MaxPendingPerRequester int
}

// Store is a broker.TicketStore in Redis. It is safe for concurrent use.
type Store struct {
	rdb        redis.UniversalClient
	base       string // "<prefix>:{tickets}:"
	pageSize   int
	maxPending int
	reads      reads
}

var _ broker.TicketStore = (*Store)(nil)

// New returns a Store that keeps tickets in rdb, which may be a single
// server, a failover or a cluster client. It panics if opts.Prefix contains
// '{' or '}'.
func New(rdb redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		panic("redisstore: Prefix must not contain '{' or '}'")
	}
	return &Store{rdb: rdb, base: opts.Prefix + ":{tickets}:", pageSize: defaultPageSize, maxPending: max(opts.MaxPendingPerRequester, 0)}
}

func (s *Store) ticketKey(id string) string { return s.base + "t:" + id }

func (s *Store) allKey() string { return s.base + "idx:all" }

func (s *Store) stateKey(st broker.State) string { return s.base + "idx:state:" + string(st) }

func (s *Store) requesterKey(email string) string { return s.base + "idx:requester:" + email }

func (s *Store) beneficiaryKey(email string) string { return s.base + "idx:beneficiary:" + email }

// pendingKey indexes a requester's pending tickets, for the cap.
func (s *Store) pendingKey(requester string) string { return s.base + "idx:pending-by:" + requester }

func (s *Store) approverKey(email string) string { return s.base + "idx:approver:" + email }

// indexKeys returns every index that should hold t, without duplicates.
func (s *Store) indexKeys(t *broker.Ticket) []string {
	keys := []string{s.allKey()}
	add := func(k string) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if t.State != "" {
		add(s.stateKey(t.State))
	}
	if t.Requester != "" {
		add(s.requesterKey(t.Requester))
	}
	for _, b := range t.Beneficiaries {
		if b != "" {
			add(s.beneficiaryKey(b))
		}
	}
	if t.State == broker.StatePending {
		if t.Requester != "" {
			add(s.pendingKey(t.Requester))
		}
	}
	return keys
}

// writtenKeys are the index keys a stored ticket may have entries in:
// indexKeys, and the approver indexes of its pending approvers, which
// JIT wrote before lists were read under the rules in force and reads no
// more (lists decide under the
// rules in force); a ticket's change or deletion clears them.
func (s *Store) writtenKeys(t *broker.Ticket) []string {
	keys := s.indexKeys(t)
	if t.State == broker.StatePending {
		for _, a := range t.PendingApprovers {
			if a != "" {
				keys = append(keys, s.approverKey(a))
			}
		}
	}
	return keys
}

// score orders index entries: CreatedAt in unix microseconds.
func score(t *broker.Ticket) float64 { return float64(t.CreatedAt.UnixMicro()) }

// matches reports whether t satisfies every field set in f.
func matches(t *broker.Ticket, f broker.TicketFilter) bool {
	switch {
	case f.State != "" && t.State != f.State:
		return false
	case f.Requester != "" && t.Requester != f.Requester:
		return false
	case f.Beneficiary != "" && !t.IsBeneficiary(f.Beneficiary):
		return false
	}
	return true
}
