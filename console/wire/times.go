package wire

import (
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// The API's times: RFC 3339 instants (any offset; answered in UTC) and Go
// durations. These are the only parsers of them, shared by create, edit,
// extend and delegate.

// ParseStart reads a start: "" (unset), "now", or an RFC 3339 time. It
// returns the time in UTC, or now (true) for "now". EINVALID otherwise.
func ParseStart(s string) (t time.Time, now bool, err error) {
	switch s = trim(s); s {
	case "":
		return time.Time{}, false, nil
	case "now":
		return time.Time{}, true, nil
	}
	t, err = time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false, broker.Errorf(broker.EINVALID, `start must be an RFC 3339 time (2006-01-02T15:04:05Z) or "now"`)
	}
	return t.UTC(), false, nil
}

// ParseTime reads the RFC 3339 time of the field name: "" is the zero
// time; anything else that is not RFC 3339 is EINVALID naming the field.
func ParseTime(name, s string) (time.Time, error) {
	if s = trim(s); s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, broker.Errorf(broker.EINVALID, "%s must be an RFC 3339 time (2006-01-02T15:04:05Z)", name)
	}
	return t.UTC(), nil
}

// ParseDuration reads the duration of the field name: "" (unset, 0) or a
// positive Go duration such as example. EINVALID otherwise.
func ParseDuration(name, example, s string) (time.Duration, error) {
	if s = trim(s); s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, broker.Errorf(broker.EINVALID, "%s must be a positive duration such as %q", name, example)
	}
	return d, nil
}

// EndOrDuration reads an end and a duration of which at most one may be
// given (exactly one when required). EINVALID otherwise.
func EndOrDuration(end, duration string, required bool) (time.Time, time.Duration, error) {
	hasEnd, hasDur := trim(end) != "", trim(duration) != ""
	switch {
	case hasEnd && hasDur:
		return time.Time{}, 0, broker.Errorf(broker.EINVALID, "give either end or duration, not both")
	case required && !hasEnd && !hasDur:
		return time.Time{}, 0, broker.Errorf(broker.EINVALID, "end or duration is required")
	}
	t, err := ParseTime("end", end)
	if err != nil {
		return time.Time{}, 0, err
	}
	d, err := ParseDuration("duration", "1h30m", duration)
	return t, d, err
}

// trim drops the ASCII white space around s. Unicode spaces (U+0085,
// U+00A0, ...) stay, so a time that carries one is refused, not read.
func trim(s string) string { return strings.Trim(s, " \t\r\n") }
