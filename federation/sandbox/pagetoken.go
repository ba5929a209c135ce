package sandbox

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
)

// Pagination tokens. A NextToken is opaque and bound to the request it
// continues: it carries the list position and an HMAC, under a key each
// sandbox draws at start, over the operation, the request's filter
// parameters (and the caller's account and region) and the position. A
// hand-made or altered token, or one from a list call with other
// parameters, is refused with the service's own error, and tokens of one
// sandbox mean nothing to another. MaxResults is not bound (a caller may
// change the page size between pages) except by CloudTrail, whose tokens
// are documented as refused in "a request with different parameters".

const pageMACSize = 16 // bytes of HMAC-SHA256 kept in a token

// newPageKey draws the key that signs a sandbox's pagination tokens.
func newPageKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("sandbox: no randomness for page tokens: " + err.Error())
	}
	return k
}

// pageBinding names the list a token belongs to: the operation and the
// request's parameters, length-prefixed so that no two differ only in
// where one ends and the next begins.
func pageBinding(op string, params ...string) string {
	var b strings.Builder
	for _, p := range append([]string{op}, params...) {
		b.WriteString(strconv.Itoa(len(p)) + ":" + p)
	}
	return b.String()
}

// pageToken returns the NextToken for position pos (one or more numbers)
// of the list named by binding. Standard base64 fits every service's
// token pattern.
func (s *Sandbox) pageToken(binding string, pos ...int64) string {
	b := make([]byte, 8*len(pos), 8*len(pos)+pageMACSize)
	for i, p := range pos {
		binary.BigEndian.PutUint64(b[8*i:], uint64(p))
	}
	return base64.StdEncoding.EncodeToString(append(b, s.pageMAC(binding, b)...))
}

// readPageToken returns the n numbers of a token pageToken made for
// binding; ok is false for any other token.
func (s *Sandbox) readPageToken(binding, tok string, n int) (pos []int64, ok bool) {
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(b) != 8*n+pageMACSize {
		return nil, false
	}
	body, mac := b[:8*n], b[8*n:]
	if !hmac.Equal(mac, s.pageMAC(binding, body)) {
		return nil, false
	}
	pos = make([]int64, n)
	for i := range pos {
		pos[i] = int64(binary.BigEndian.Uint64(body[8*i:]))
	}
	return pos, true
}

func (s *Sandbox) pageMAC(binding string, body []byte) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:pageMACSize]
}

// pageOffset reads an offset token of a list of n items. A valid offset
// past the end (the list shrank since) gives an empty page.
func (s *Sandbox) pageOffset(binding, tok string, n int) (int, bool) {
	pos, ok := s.readPageToken(binding, tok, 1)
	if !ok || pos[0] < 0 {
		return 0, false
	}
	return int(min(pos[0], int64(n))), true
}

// cut cuts [off, off+max) out of n items, off read from tok ("" for the
// first page); next is "" on the last page. ok is false for a token not
// made for binding.
func (s *Sandbox) cut(binding, tok string, n, maxResults int) (start, end int, next string, ok bool) {
	if tok != "" {
		if start, ok = s.pageOffset(binding, tok, n); !ok {
			return 0, 0, "", false
		}
	}
	end = min(start+maxResults, n)
	if end < n {
		next = s.pageToken(binding, int64(end))
	}
	return start, end, next, true
}
