package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
)

// Audit implements broker.AuditLog as an append-only, hash-chained Redis
// stream: each entry carries sha1(previous hash || event JSON), so an
// edited or deleted entry breaks the chain (Verify finds it). Keys:
// <prefix>:{audit}:stream and <prefix>:{audit}:head.
type Audit struct {
	rdb    redis.UniversalClient
	stream string
	head   string
}

var _ broker.AuditLog = (*Audit)(nil)

// NewAudit returns the audit log under prefix (default "jit").
func NewAudit(rdb redis.UniversalClient, prefix string) *Audit {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	base := prefix + ":{audit}:"
	return &Audit{rdb: rdb, stream: base + "stream", head: base + "head"}
}

// appendScript chains and appends one event atomically.
var appendScript = redis.NewScript(`
local prev = redis.call('GET', KEYS[2]) or ''
local hash = redis.sha1hex(prev .. ARGV[1])
redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'prev', prev, 'hash', hash)
redis.call('SET', KEYS[2], hash)
return hash
`)

// Record appends e to the log.
func (a *Audit) Record(ctx context.Context, e broker.AuditEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := appendScript.Run(ctx, a.rdb, []string{a.stream, a.head}, string(b)).Err(); err != nil {
		return fmt.Errorf("audit append: %w", err)
	}
	return nil
}

// Events returns up to n of the newest events, newest first.
func (a *Audit) Events(ctx context.Context, n int64) ([]broker.AuditEvent, error) {
	msgs, err := a.rdb.XRevRangeN(ctx, a.stream, "+", "-", n).Result()
	if err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	out := make([]broker.AuditEvent, 0, len(msgs))
	for _, m := range msgs {
		var e broker.AuditEvent
		if s, ok := m.Values["event"].(string); ok && json.Unmarshal([]byte(s), &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// Verify walks the whole chain and returns an error naming the first entry
// whose hash does not follow from its predecessor.
func (a *Audit) Verify(ctx context.Context) error {
	msgs, err := a.rdb.XRange(ctx, a.stream, "-", "+").Result()
	if err != nil {
		return fmt.Errorf("audit read: %w", err)
	}
	prev := ""
	for _, m := range msgs {
		ev, _ := m.Values["event"].(string)
		p, _ := m.Values["prev"].(string)
		h, _ := m.Values["hash"].(string)
		if p != prev || h != sha1hex(prev+ev) {
			return fmt.Errorf("audit chain broken at entry %s", m.ID)
		}
		prev = h
	}
	return nil
}

func sha1hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
