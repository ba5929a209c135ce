package broker

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// AuditMAC returns the hex HMAC-SHA-256 under key of e's canonical
// encoding: the JSON of e (fields in their declared order, MAC left out),
// which includes e.Seq and e.Prev, the MAC of the event before. Changing
// any field, the order, or an earlier event changes it.
func AuditMAC(key []byte, e AuditEvent) string {
	e.MAC = ""
	e.At = e.At.UTC()
	b, _ := json.Marshal(e) // a struct of strings, ints and a time: never fails
	m := hmac.New(sha256.New, key)
	m.Write([]byte("jit-audit-v1\n"))
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// AuditCheckpoint vouches for the log up to Seq: the MAC of event Seq,
// signed with the audit key. Kept outside Redis, it detects a log cut
// short or rewritten wholesale.
type AuditCheckpoint struct {
	Seq int64     `json:"seq"`
	MAC string    `json:"mac"`
	At  time.Time `json:"at"`
	Sig string    `json:"sig"`
}

// SignCheckpoint returns the checkpoint of event e made at.
func SignCheckpoint(key []byte, e AuditEvent, at time.Time) AuditCheckpoint {
	c := AuditCheckpoint{Seq: e.Seq, MAC: e.MAC, At: at.UTC()}
	c.Sig = checkpointSig(key, c)
	return c
}

func checkpointSig(key []byte, c AuditCheckpoint) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "jit-audit-checkpoint-v1\n%d\n%s\n%s", c.Seq, c.MAC, c.At.UTC().Format(time.RFC3339Nano))
	return hex.EncodeToString(m.Sum(nil))
}

// AuditBreak says where the chain stops holding: the first event (by
// sequence number) that was changed, removed, reordered or forged.
type AuditBreak struct {
	Seq    int64
	Reason string
}

func (b *AuditBreak) Error() string {
	return "audit chain broken at event " + strconv.FormatInt(b.Seq, 10) + ": " + b.Reason
}

// AuditVerifier checks events one at a time, in log order.
type AuditVerifier struct {
	Key  []byte
	next int64
	prev string
	// Last is the last event that verified.
	Last AuditEvent
	// Count is how many events verified.
	Count int64
	// Checkpoint, if set, is an exported checkpoint the log must agree with.
	Checkpoint *AuditCheckpoint
	seen       bool
}

// Start makes the verifier accept a log that begins after event seq with
// MAC mac (a log trimmed at a recorded checkpoint); default: from event 1.
func (v *AuditVerifier) Start(seq int64, mac string) { v.next, v.prev = seq+1, mac }

// Check verifies the next event; raw is its stored encoding. It returns an
// *AuditBreak naming the first event that does not follow.
func (v *AuditVerifier) Check(raw []byte) error {
	if v.next == 0 {
		if err := v.checkpointValid(); err != nil {
			return err
		}
		v.next = 1
	}
	var e AuditEvent
	if err := json.Unmarshal(raw, &e); err != nil {
		return &AuditBreak{Seq: v.next, Reason: "not a valid event: " + err.Error()}
	}
	switch {
	case e.Seq > v.next:
		return &AuditBreak{Seq: v.next, Reason: fmt.Sprintf("missing (the next event is %d)", e.Seq)}
	case e.Seq < v.next:
		return &AuditBreak{Seq: v.next, Reason: fmt.Sprintf("out of order (found event %d)", e.Seq)}
	case e.Prev != v.prev:
		return &AuditBreak{Seq: e.Seq, Reason: "does not follow the event before it"}
	case !hmac.Equal([]byte(AuditMAC(v.Key, e)), []byte(e.MAC)):
		return &AuditBreak{Seq: e.Seq, Reason: "its MAC does not match its content"}
	}
	if c := v.Checkpoint; c != nil && c.Seq == e.Seq {
		if e.MAC != c.MAC {
			return &AuditBreak{Seq: e.Seq, Reason: "differs from the checkpoint"}
		}
		v.seen = true
	}
	v.next, v.prev, v.Last = e.Seq+1, e.MAC, e
	v.Count++
	return nil
}

// Finish checks the verified log against v.Checkpoint, if set: the
// checkpoint must carry a valid signature, and the log must still hold its
// event with the same MAC. Call it after the last Check.
func (v *AuditVerifier) Finish() error {
	c := v.Checkpoint
	if c == nil {
		return nil
	}
	if err := v.checkpointValid(); err != nil {
		return err
	}
	if v.Last.Seq < c.Seq {
		return &AuditBreak{Seq: v.Last.Seq + 1, Reason: fmt.Sprintf("missing: the log ends at event %d but the checkpoint vouches for event %d", v.Last.Seq, c.Seq)}
	}
	if !v.seen {
		return &AuditBreak{Seq: c.Seq, Reason: "not in the log (trimmed?); verify from a later checkpoint"}
	}
	return nil
}

// checkpointValid checks v.Checkpoint's signature, if there is one.
func (v *AuditVerifier) checkpointValid() error {
	if c := v.Checkpoint; c != nil && !hmac.Equal([]byte(checkpointSig(v.Key, *c)), []byte(c.Sig)) {
		return fmt.Errorf("checkpoint at event %d: its signature does not match (another key, or edited)", c.Seq)
	}
	return nil
}

// CheckpointValid reports whether c carries a valid signature under key.
func CheckpointValid(key []byte, c AuditCheckpoint) bool {
	return hmac.Equal([]byte(checkpointSig(key, c)), []byte(c.Sig))
}
