package broker

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TextRule says what one free-text field accepts (see CleanText).
type TextRule struct {
	// Field names the field in errors ("reason", "comment").
	Field string
	// Max is the longest value in characters after trimming; 0 means
	// MaxTextLength.
	Max int
	// Required refuses a value that is empty after trimming whitespace and
	// invisible characters.
	Required bool
	// MultiLine allows newlines and tabs inside the value.
	MultiLine bool
	// Identifier refuses the zero-width joiners too: in emails and names
	// they only make one look like another ("dave\u200d@example.com").
	Identifier bool
}

// MaxTextLength is the default longest free-text value, in characters.
const MaxTextLength = 1000

// CleanText is the one home of the rule for text a person types into JIT
// (reasons, comments, emails, names): it returns s without leading and
// trailing white space, or EINVALID naming r.Field when s
//   - is not UTF-8;
//   - holds a control character (Unicode category Cc: NUL, ESC and the
//     rest of C0, DEL, C1), except newline and tab in MultiLine fields
//     (where CR LF is first turned into a newline);
//   - holds a format character (category Cf: bidirectional marks,
//     embeddings, overrides and isolates, zero-width space, word joiner,
//     byte order mark, soft hyphen, tag characters, ...), except the
//     zero-width joiner and non-joiner, which emoji sequences and several
//     scripts need inside words (refused too in Identifier fields);
//   - holds a line or paragraph separator (U+2028, U+2029);
//   - is longer than r.Max characters;
//   - is empty, or made only of white space and invisible characters, when
//     r.Required.
//
// Refusing, rather than stripping, keeps what is stored exactly what the
// person sent, and tells them why.
func CleanText(r TextRule, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s is not valid UTF-8", r.Field)
	}
	if r.MultiLine {
		// Windows line ends become newlines; a lone carriage return,
		// which rewrites a terminal line, stays refused.
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	for _, c := range s {
		if c == '\n' || c == '\t' {
			if !r.MultiLine {
				return "", Errorf(EINVALID, "%s must be a single line (it contains %s)", r.Field, runeName(c))
			}
			continue
		}
		switch {
		case unicode.Is(unicode.Cc, c):
			return "", Errorf(EINVALID, "%s contains a control character (%s); remove it", r.Field, runeName(c))
		case (c == zeroWidthJoiner || c == zeroWidthNonJoiner) && !r.Identifier:
		case unicode.Is(unicode.Cf, c), c == '\u2028', c == '\u2029':
			return "", Errorf(EINVALID, "%s contains an invisible formatting character (%s), such as a bidirectional override; remove it", r.Field, runeName(c))
		}
	}
	s = strings.TrimSpace(s)
	max := r.Max
	if max <= 0 {
		max = MaxTextLength
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Errorf(EINVALID, "%s is longer than %d characters", r.Field, max)
	}
	if !visible(s) {
		if r.Required {
			return "", Errorf(EINVALID, "%s is required (it is empty or only white space and invisible characters)", r.Field)
		}
		return "", nil
	}
	return s, nil
}

const (
	zeroWidthNonJoiner = '\u200C'
	zeroWidthJoiner    = '\u200D'
)

// visible reports whether s shows at least one character: something other
// than white space, joiners, combining marks on their own and the blank
// fillers some scripts define.
func visible(s string) bool {
	for _, c := range s {
		switch {
		case unicode.IsSpace(c), unicode.In(c, unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me, unicode.Zs):
		case c == '\u115F', c == '\u1160', c == '\u3164', c == '\uFFA0', c == '\u2800':
			// Hangul fillers and the blank Braille pattern render as nothing.
		default:
			return true
		}
	}
	return false
}

// runeName shows a character as U+XXXX, safe to put in a message.
func runeName(c rune) string {
	return fmt.Sprintf("U+%04X", c)
}

// cleanComment checks the comment of a decision (approve, reject,
// terminate, cancel, done) with CleanText; it may be empty.
func cleanComment(s string) (string, error) {
	return CleanText(TextRule{Field: "comment", Max: maxCommentLength, MultiLine: true}, s)
}
