package console

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// Fuzz targets: go test -fuzz=FuzzDecodeJSON -fuzztime=5s ./console/
// and go test -fuzz=FuzzTicketTimes -fuzztime=5s ./console/. Their seeds
// (f.Add and testdata/fuzz/) run with every go test.

// bodies are the types the API decodes request bodies into.
var bodies = []func() any{
	func() any { return new(wire.CreateTicket) },
	func() any { return new(wire.EditTicket) },
	func() any { return new(wire.ExtendTicket) },
	func() any { return new(wire.Comment) },
	func() any { return new(wire.Decide) },
	func() any { return new(wire.Delegate) },
	func() any { return new(wire.Registry) },
	func() any { return new(broker.ApprovalRule) },
	func() any { return new(wire.ImportPermissionSets) },
}

// checkRefusal fails unless err is an EINVALID error with a short message
// that does not echo a long input.
func checkRefusal(t *testing.T, err error, input string) {
	t.Helper()
	if code := broker.ErrorCode(err); code != broker.EINVALID {
		t.Fatalf("error %v has code %q, want invalid", err, code)
	}
	msg := broker.ErrorMessage(err)
	if len(msg) > 400 || !utf8.ValidString(msg) {
		t.Fatalf("message of %d bytes (or not UTF-8): %.400q", len(msg), msg)
	}
	if len(input) > 100 && strings.Contains(msg, input) {
		t.Fatalf("message echoes the input")
	}
}

// FuzzDecodeJSON: decodeJSON never panics; it accepts only one valid JSON
// object without keys named twice (in any case), refuses everything else
// with EINVALID, and what it accepts survives a round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "beneficiaries": ["a@example.com"], "duration": "1h", "reason": "x"}`,
		`{"account_id": "1", "account_id": "2"}`,
		`{"account_id": "1", "ACCOUNT_ID": "2"}`,
		`{"rea\u017fon": "a", "reason": "b"}`,
		`{"comment": "ok"}{}`,
		`{"comment": "ok"} x`,
		`{"end": "2030-01-02T06:00:00Z", "duration": "1h"}`,
		`{"registry": {"accounts": [{"id": "111111111111", "name": "dev", "Name": "prod"}]}, "version": 3}`,
		`{"stages": [{"approvers": ["a"], "required": 1}, {"approvers": ["b"], "required": "2"}]}`,
		`{"a": {"b": [{"c": 1, "c": 2}]}}`,
		`[]`, `null`, `{`, `{"x": 1e999}`, `{"reason": "\ud800"}`, ` {"reason": "x"} `, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dupErr := checkKeys(data)
		for _, mk := range bodies {
			v := mk()
			err := decodeJSON(data, v, true)
			if err != nil {
				checkRefusal(t, err, string(data))
				continue
			}
			if !json.Valid(data) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			if dupErr != nil {
				t.Fatalf("accepted %q although %v", data, dupErr)
			}
			again, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("accepted %q into %T, which does not marshal: %v", data, v, err)
			}
			w := mk()
			if err := decodeJSON(again, w, true); err != nil {
				t.Fatalf("%T's own JSON %s is refused: %v", v, again, err)
			}
			// Compared as JSON: an empty list and none say the same
			// (omitempty), as the server reads them.
			if twice, _ := json.Marshal(w); !bytes.Equal(again, twice) {
				t.Fatalf("round trip of %T changed it:\n%s\n%s", v, again, twice)
			}
		}
	})
}

// FuzzTicketTimes: the start/end/duration of a new ticket either parse to
// UTC times that say what was asked (the end at start or now plus the
// duration, after it) or are refused EINVALID; never a panic.
func FuzzTicketTimes(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", "1h"},
		{"now", "", "90m"},
		{"2030-01-02T06:00:00Z", "2030-01-02T08:00:00Z", ""},
		{"2030-01-02T06:00:00+05:30", "", "1h30m"},
		{"2030-01-02T06:00:00", "", "1h"},
		{"", "2030-01-02T06:00:00Z", "1h"},
		{"", "", ""},
		{"", "", "-1h"},
		{"", "", "0s"},
		{"", "", "2562047h47m16.854775807s"},
		{"9999-12-31T23:59:59Z", "", "2562047h"},
		{"0000-01-01T00:00:00Z", "", "1ns"},
		{" now ", " 2030-01-02T06:00:00.123456789Z ", ""},
		{"2030-02-30T06:00:00Z", "", "1h"},
		{"2030-01-02T24:00:00Z", "", "1h"},
		{"", "", "1h1h1h"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, start, end, duration string) {
		in, err := wire.CreateTicket{Start: start, End: end, Duration: duration}.Input()
		if err != nil {
			checkRefusal(t, err, start+end+duration)
			return
		}
		if !in.Start.IsZero() && in.Start.Location() != time.UTC {
			t.Fatalf("start %v: want UTC", in.Start)
		}
		s := strings.TrimSpace(start)
		if (s == "" || s == "now") != in.Start.IsZero() {
			t.Fatalf("start %q parsed to %v", start, in.Start)
		}
		if e := strings.TrimSpace(end); e != "" {
			want, err := time.Parse(time.RFC3339, e)
			if err != nil || !want.Equal(in.End) || in.End.Location() != time.UTC || in.Duration != 0 {
				t.Fatalf("end %q parsed to %v (duration %v)", end, in.End, in.Duration)
			}
			return
		}
		// A duration goes to the service, which counts it from the start
		// it settles on.
		d, err := time.ParseDuration(strings.TrimSpace(duration))
		if err != nil || d <= 0 || in.Duration != d || !in.End.IsZero() {
			t.Fatalf("duration %q gave duration %v and end %v", duration, in.Duration, in.End)
		}
	})
}

// foldKey groups keys exactly as encoding/json matches them to fields
// (bytes.EqualFold): Kelvin sign and k, long s and s, the three sigmas;
// but not ß and ss.
func TestFoldKeyMatchesEqualFold(t *testing.T) {
	keys := []string{"k", "K", "\u212a", "s", "S", "\u017f", "σ", "Σ", "ς", "ß", "ss", "SS", "account_id", "ACCOUNT_ID", "account_íd", "ACCOUNT_ÍD", "\xff", "\xfe"}
	for _, a := range keys {
		for _, b := range keys {
			if got, want := foldKey(a) == foldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("foldKey(%q) == foldKey(%q) is %v; EqualFold says %v", a, b, got, want)
			}
		}
	}
}
