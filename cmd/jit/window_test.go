package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// The window flags of jit delegate and jit preapprove: an end or a
// duration (days or a Go duration), never both, never neither.
func TestWindowFlags(t *testing.T) {
	for _, tc := range []struct {
		args            []string
		start, end, err string
		dur             time.Duration
	}{
		{args: []string{"--duration", "7d"}, dur: 7 * 24 * time.Hour},
		{args: []string{"--duration", "36h", "--start", "2030-01-01T00:00:00Z"}, start: "2030-01-01T00:00:00Z", dur: 36 * time.Hour},
		{args: []string{"--until", "2030-01-02T00:00:00Z"}, end: "2030-01-02T00:00:00Z"},
		{args: nil, err: "give --until or --duration"},
		{args: []string{"--until", "2030-01-02T00:00:00Z", "--duration", "1d"}, err: "not both"},
		{args: []string{"--duration", "0d"}, err: "must be a number of days"},
		{args: []string{"--duration", "-1h"}, err: "must be a number of days"},
		{args: []string{"--duration", "week"}, err: "must be a number of days"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var w windowFlags
		w.bind(fs, "until", "")
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		start, end, dur, err := w.parse()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || start != tc.start || end != tc.end || dur != tc.dur {
			t.Errorf("%v: %q %q %s %v, want %q %q %s", tc.args, start, end, dur, err, tc.start, tc.end, tc.dur)
		}
	}
	var w windowFlags
	w.start = "yesterday"
	if _, err := w.startTime(time.Now()); err == nil {
		t.Error("--start yesterday was taken")
	}
}
