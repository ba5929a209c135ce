package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestShown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text, café 修理 👩\u200D💻", `plain text, café 修理 👩\u200d💻`},
		{"a\x1b[2Kb", `a\x1b[2Kb`},
		{"line\nnext\ttab\rback", `line\nnext\ttab\rback`},
		{"nul\x00 del\x7f c1\u009b", `nul\x00 del\x7f c1\x9b`},
		{"\u202Eevil\u2066 \u200B\uFEFF", `\u202eevil\u2066 \u200b\ufeff`},
		{"sep\u2028", `sep\u2028`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`back\slash`, `back\slash`},
	} {
		if got := shown(tc.in); got != tc.want {
			t.Errorf("shown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// encoding/json escapes U+0000-U+001F and U+2028/9 but not DEL, the C1
// controls (U+009B is a one-byte CSI), bidirectional or zero-width
// characters; printJSON escapes those too, and the document means the same.
func TestPrintJSONEscapesInvisibles(t *testing.T) {
	in := map[string]string{"reason": "a\x1b\u202Eb\u200B\U000E0041\u2028\x00\x7f\u009b"}
	var b bytes.Buffer
	if err := printJSON(&b, in); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsFunc(b.Bytes(), func(c rune) bool { return c != '\n' && escaped(c) }) {
		t.Errorf("printJSON output carries raw control or formatting characters: %q", b.String())
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["reason"] != in["reason"] {
		t.Errorf("printJSON output decodes to %q (%v), want %q", back["reason"], err, in["reason"])
	}
}
