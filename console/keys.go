package console

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"

	"github.com/jitaccess/jit/broker"
)

// checkKeys refuses a JSON text in which an object, at any depth, names a
// key twice. encoding/json would silently keep the last value, so
// {"account_id": "dev", "account_id": "prod"} would ask for prod while a
// reviewer of the body sees dev. Keys are compared the way encoding/json
// matches them to struct fields: exactly and also without regard to case
// (Unicode simple folding), so "account_id" and "ACCOUNT_ID" are the same
// key. No API body holds a map, where such keys would be distinct.
//
// The error is EINVALID and names the key and, below the top level, the
// object it is in. Syntax errors are left to the decoder that runs next.
func checkKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object  bool
		path    string
		keys    map[string]string // folded key -> key as first written
		wantKey bool              // object: the next token is a key or '}'
		key     string            // object: the key whose value comes next
		index   int               // array: the index of the next element
	}
	var stack []*frame
	// childPath is the path of the value about to start in f.
	childPath := func(f *frame) string {
		if f == nil {
			return ""
		}
		if f.object {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return f.path + "[" + strconv.Itoa(f.index) + "]"
	}
	// valueDone moves f past a finished value.
	valueDone := func(f *frame) {
		if f == nil {
			return
		}
		if f.object {
			f.wantKey = true
		} else {
			f.index++
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // end of input, or a syntax error the decoder reports
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.wantKey {
			key, ok := tok.(string)
			if !ok { // '}'
				stack = stack[:len(stack)-1]
				if len(stack) > 0 {
					valueDone(stack[len(stack)-1])
				}
				continue
			}
			folded := foldKey(key)
			if first, dup := top.keys[folded]; dup {
				return duplicateKey(key, first, top.path)
			}
			top.keys[folded] = key
			top.key, top.wantKey = key, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, path: childPath(top), keys: map[string]string{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: childPath(top)})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				valueDone(stack[len(stack)-1])
			}
		default:
			valueDone(top)
		}
	}
}

// duplicateKey is the error for key, which repeats first in the object at path.
func duplicateKey(key, first, path string) error {
	where := ""
	if path != "" {
		where = " in " + short(path)
	}
	if key == first {
		return broker.Errorf(broker.EINVALID, "duplicate key %q%s", short(key), where)
	}
	return broker.Errorf(broker.EINVALID, "duplicate key %q%s: keys are matched without regard to case, and %q is already there",
		short(key), where, short(first))
}

// short cuts s to at most 64 bytes of valid UTF-8 for an error message.
func short(s string) string {
	if len(s) <= 64 {
		return s
	}
	return strings.ToValidUTF8(s[:64], "") + "..."
}

// foldKey maps every key encoding/json would match to the same field to
// one string: each rune becomes the smallest rune of its simple-fold orbit
// (as encoding/json's own foldName does, so bytes.EqualFold(a, b) exactly
// when foldKey(a) == foldKey(b)).
func foldKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range k {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}
