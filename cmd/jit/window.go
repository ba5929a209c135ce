package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// windowFlags are the flags of a window that starts now or later and ends
// at a time or after a duration: --start, --<end> and --duration, one of
// the last two (jit delegate, jit preapprove).
type windowFlags struct {
	endFlag         string
	start, end, dur string
}

func (w *windowFlags) bind(fs *flag.FlagSet, endFlag, durUsage string) {
	w.endFlag = endFlag
	fs.StringVar(&w.start, "start", "now", "start: now or RFC 3339")
	fs.StringVar(&w.end, endFlag, "", "end, RFC 3339")
	fs.StringVar(&w.dur, "duration", "", durUsage)
}

// parse checks the flags and returns the start ("" for now), the end as
// given ("" when a duration is) and the duration (0 when an end is).
func (w *windowFlags) parse() (start, end string, dur time.Duration, err error) {
	switch {
	case w.end == "" && w.dur == "":
		return "", "", 0, fmt.Errorf("give --%s or --duration", w.endFlag)
	case w.end != "" && w.dur != "":
		return "", "", 0, fmt.Errorf("give --%s or --duration, not both", w.endFlag)
	}
	if w.dur != "" {
		if dur, err = parseDays(w.dur); err != nil {
			return "", "", 0, err
		}
	}
	if w.start != "now" {
		start = w.start
	}
	return start, w.end, dur, nil
}

// startTime is the window's start: now, or the RFC 3339 time given.
func (w *windowFlags) startTime(now time.Time) (time.Time, error) {
	if w.start == "now" {
		return now, nil
	}
	t, err := time.Parse(time.RFC3339, w.start)
	if err != nil {
		return time.Time{}, errors.New("--start must be now or an RFC 3339 time")
	}
	return t, nil
}

// parseDays reads a Go duration or a whole number of days ("7d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--duration %q must be a number of days (7d) or a duration (36h)", s)
}
