package main

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// shown makes a string that came from the server safe to print to a
// terminal: every control character (C0 including newline and tab, DEL,
// C1), every invisible formatting character (bidirectional overrides and
// isolates, zero-width characters, ...), the line and paragraph separators
// and every byte that is not UTF-8 are written as Go escapes (\n, \x1b,
// \u202e), so a stored text cannot move the cursor, recolour, rewrite or
// add lines, or reorder what the terminal shows. Printable Unicode stays as
// it is. Every string the CLI prints from the server in human output goes
// through it; --output json needs nothing, as encoding/json escapes control
// characters and JIT's server escapes U+2028/9 (see shown_test.go). The
// server refuses such text today (broker.CleanText), but what it holds may
// be older than that rule.
func shown(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		c, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case escaped(c) && c < 0x100:
			fmt.Fprintf(&b, `\x%02x`, c)
		case escaped(c) && c < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, c)
		case escaped(c):
			fmt.Fprintf(&b, `\U%08x`, c)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// shownAll is shown for each string of xs.
func shownAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = shown(x)
	}
	return out
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	return strings.ContainsFunc(s, escaped)
}

// escaped reports whether c must not reach a terminal as it is.
func escaped(c rune) bool {
	return unicode.In(c, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// escapeJSON writes the characters of encoded JSON that encoding/json
// leaves raw but a terminal may obey as \u escapes: DEL and the C1
// controls (U+0080-U+009F, among them the one-byte CSI U+009B), and the
// invisible formatting characters (bidirectional overrides and isolates,
// zero-width characters). encoding/json escapes only U+0000-U+001F, U+2028
// and U+2029 (and <, >, &), and --output json often lands on a terminal
// too. These characters can only stand inside JSON strings, where the
// escape means the same character, so the document a script reads does not
// change.
func escapeJSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, rawInJSON) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	for i := 0; i < len(b); {
		c, n := utf8.DecodeRune(b[i:])
		if rawInJSON(c) {
			if r1, r2 := utf16.EncodeRune(c); r1 != utf8.RuneError {
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, c)
			}
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// rawInJSON reports whether escapeJSON escapes c: a character shown
// escapes that is not one encoding/json escapes itself (or JSON's own
// white space between tokens).
func rawInJSON(c rune) bool {
	return escaped(c) && c >= 0x7f
}
