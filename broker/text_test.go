package broker_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/jitaccess/jit/broker"
)

func TestCleanText(t *testing.T) {
	multi := broker.TextRule{Field: "reason", Required: true, MultiLine: true, Max: 20}
	single := broker.TextRule{Field: "to", Max: 20}
	for _, tc := range []struct {
		name string
		rule broker.TextRule
		in   string
		want string // cleaned value, when no error
		err  string // part of the message, when refused
	}{
		{"plain", multi, "  deploy fix  ", "deploy fix", ""},
		{"multi-line", multi, "line 1\n\tline 2", "line 1\n\tline 2", ""},
		{"emoji with joiner", multi, "on call 👩\u200D💻", "on call 👩\u200D💻", ""},
		{"non-joiner in a word", multi, "می\u200Cخواهم", "می\u200Cخواهم", ""},
		{"accents and CJK", multi, "café 修理", "café 修理", ""},
		{"newline in a single line", single, "a\nb", "", "to must be a single line (it contains U+000A)"},
		{"escape", multi, "a\x1b[31m", "", "reason contains a control character (U+001B)"},
		{"carriage return", multi, "a\rb", "", "U+000D"},
		{"Windows line end", multi, "a\r\nb", "a\nb", ""},
		{"Windows line end in a single line", single, "a\r\nb", "", "U+000D"},
		{"NUL", multi, "a\x00", "", "U+0000"},
		{"DEL", multi, "a\x7f", "", "U+007F"},
		{"C1 CSI", multi, "a\u009b", "", "U+009B"},
		{"right-to-left override", multi, "a\u202Eb", "", "reason contains an invisible formatting character (U+202E)"},
		{"isolate", multi, "a\u2066b", "", "U+2066"},
		{"right-to-left mark", multi, "a\u200Fb", "", "U+200F"},
		{"zero-width space", multi, "a\u200Bb", "", "U+200B"},
		{"byte order mark", multi, "\uFEFFa", "", "U+FEFF"},
		{"tag character", multi, "a\U000E0041", "", "U+E0041"},
		{"line separator", multi, "a\u2028b", "", "U+2028"},
		{"bad UTF-8", multi, "a\xffb", "", "reason is not valid UTF-8"},
		{"too long", multi, strings.Repeat("é", 21), "", "longer than 20 characters"},
		{"exactly the maximum", multi, strings.Repeat("é", 20), strings.Repeat("é", 20), ""},
		{"empty", multi, " \n ", "", "reason is required"},
		{"only joiners", multi, "\u200D \u200C", "", "reason is required"},
		{"only fillers", multi, "\u3164\u2800", "", "reason is required"},
		{"empty and optional", single, "  ", "", ""},
		{"joiner in an identifier", broker.TextRule{Field: "to", Identifier: true}, "dave\u200d@example.com", "", "to contains an invisible formatting character (U+200D)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := broker.CleanText(tc.rule, tc.in)
			if tc.err != "" {
				if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), tc.err) {
					t.Fatalf("CleanText(%q) = %q, %v; want invalid saying %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CleanText(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzCleanText checks CleanText's promise on any input: what it accepts
// is trimmed UTF-8 without control or formatting characters (but newline,
// tab and the joiners in multi-line text; none in identifiers), within the
// length, not empty when required, and
// accepted again unchanged; what it refuses is EINVALID naming the field.
// Seeds: testdata/fuzz/FuzzCleanText.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"deploy fix", "a\x1b[2Kb", "\u202Egnp", "\x00", "\u200D", "👩\u200D💻", "line\nline\t", " \u3164 ", "\xff"} {
		f.Add(s, true, true)
	}
	f.Fuzz(func(t *testing.T, in string, multiLine, required bool) {
		r := broker.TextRule{Field: "reason", Max: 50, Required: required, MultiLine: multiLine, Identifier: !multiLine}
		got, err := broker.CleanText(r, in)
		if err != nil {
			if broker.ErrorCode(err) != broker.EINVALID || !strings.HasPrefix(broker.ErrorMessage(err), "reason ") {
				t.Fatalf("CleanText(%q) error %v: want invalid naming the field", in, err)
			}
			return
		}
		if !utf8.ValidString(got) || got != strings.TrimSpace(got) || utf8.RuneCountInString(got) > r.Max {
			t.Fatalf("CleanText(%q) = %q: not trimmed UTF-8 within %d characters", in, got, r.Max)
		}
		if required && got == "" {
			t.Fatalf("CleanText(%q) = empty, but the field is required", in)
		}
		for _, c := range got {
			ok := multiLine && (c == '\u200C' || c == '\u200D' || c == '\n' || c == '\t')
			if !ok && (unicode.Is(unicode.Cc, c) || unicode.Is(unicode.Cf, c) || c == '\u2028' || c == '\u2029') {
				t.Fatalf("CleanText(%q) = %q keeps %U", in, got, c)
			}
		}
		if again, err := broker.CleanText(r, got); err != nil || again != got {
			t.Fatalf("CleanText(%q) = %q, %v; want it accepted unchanged", got, again, err)
		}
	})
}

// Registry names and principals follow the same rule (issue 10 §4).
func TestRegistryRefusesHostileNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(r *broker.RegistryData)
		field string
	}{
		{"account name", func(r *broker.RegistryData) { r.Accounts[0].Name = "prod\x1b[2K" }, "accounts[0].name"},
		{"admin group", func(r *broker.RegistryData) { r.Admins = []string{"group:adm\u202Eins"} }, "admins[0]"},
		{"requester group", func(r *broker.RegistryData) { r.PermissionSets[0].Scope.RequesterGroups = []string{"eng\u200Bineers"} }, "scope.requester_groups[0]"},
		{"account environment", func(r *broker.RegistryData) { r.Accounts[0].Environment = "prod\x1b[2K" }, "accounts[0].environment"},
		{"long environment", func(r *broker.RegistryData) { r.Accounts[0].Environment = strings.Repeat("p", 33) }, "accounts[0].environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := eRegistry()
			tc.edit(&r)
			err := broker.CheckRegistry(r)
			if broker.ErrorCode(err) != broker.EINVALID || !strings.Contains(broker.ErrorMessage(err), tc.field) {
				t.Errorf("CheckRegistry: %v, want invalid naming %s", err, tc.field)
			}
		})
	}
	if err := broker.CheckRegistry(eRegistry()); err != nil {
		t.Fatalf("the clean registry: %v", err)
	}
}

// An account's environment label is trimmed and lower-cased, then kept.
func TestRegistryAccountEnvironment(t *testing.T) {
	r := eRegistry()
	r.Accounts[0].Environment = " Prod "
	broker.NormalizeRegistry(&r)
	if err := broker.CheckRegistry(r); err != nil || r.Accounts[0].Environment != "prod" {
		t.Fatalf("environment %q: %v, want prod accepted", r.Accounts[0].Environment, err)
	}
}
