package broker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"time"
)

// Durations in the registry travel in JSON as Go duration strings ("12h",
// "1h30m"), like the rest of the API, rather than as nanoseconds. The
// decoders are strict: unknown fields are errors, as everywhere in the API.

// FormatDuration writes d the short way: "12h" rather than "12h0m0s".
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// jsonDuration is a time.Duration written as a duration string.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(FormatDuration(time.Duration(d)))
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + quoteShort(s), Type: reflect.TypeFor[string]()}
	}
	*d = jsonDuration(v)
	return nil
}

// jsonKind names the kind of a JSON value for an error message.
func jsonKind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

func quoteShort(s string) string {
	if len(s) > 20 {
		s = s[:20] + "..."
	}
	return `"` + s + `" (not a duration such as "12h")`
}

// strictDecode decodes b into v, rejecting unknown fields.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// MarshalJSON writes the permission set with max_duration as a duration string.
func (p PermissionSet) MarshalJSON() ([]byte, error) {
	type plain PermissionSet
	return json.Marshal(struct {
		plain
		MaxDuration  jsonDuration `json:"max_duration"`
		StepUpMaxAge jsonDuration `json:"step_up_max_age,omitempty"`
	}{plain(p), jsonDuration(p.MaxDuration), jsonDuration(p.StepUpMaxAge)})
}

// UnmarshalJSON reads a permission set strictly, max_duration as a duration string.
func (p *PermissionSet) UnmarshalJSON(b []byte) error {
	type plain PermissionSet
	var v struct {
		*plain
		MaxDuration  jsonDuration `json:"max_duration"`
		StepUpMaxAge jsonDuration `json:"step_up_max_age"`
	}
	var out PermissionSet
	v.plain = (*plain)(&out)
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	out.MaxDuration, out.StepUpMaxAge = time.Duration(v.MaxDuration), time.Duration(v.StepUpMaxAge)
	*p = out
	return nil
}

// MarshalJSON writes the rule with deadline, remind_every and escalate_before as duration strings.
func (r ApprovalRule) MarshalJSON() ([]byte, error) {
	type plain ApprovalRule
	return json.Marshal(struct {
		plain
		Deadline       jsonDuration `json:"deadline,omitempty"`
		RemindEvery    jsonDuration `json:"remind_every,omitempty"`
		EscalateBefore jsonDuration `json:"escalate_before,omitempty"`
		StepUpMaxAge   jsonDuration `json:"step_up_max_age,omitempty"`
	}{plain(r), jsonDuration(r.Deadline), jsonDuration(r.RemindEvery), jsonDuration(r.EscalateBefore), jsonDuration(r.StepUpMaxAge)})
}

// UnmarshalJSON reads a rule strictly, durations as duration strings.
func (r *ApprovalRule) UnmarshalJSON(b []byte) error {
	type plain ApprovalRule
	var v struct {
		*plain
		Deadline       jsonDuration `json:"deadline"`
		RemindEvery    jsonDuration `json:"remind_every"`
		EscalateBefore jsonDuration `json:"escalate_before"`
		StepUpMaxAge   jsonDuration `json:"step_up_max_age"`
	}
	var out ApprovalRule
	v.plain = (*plain)(&out)
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	out.Deadline, out.RemindEvery, out.EscalateBefore = time.Duration(v.Deadline), time.Duration(v.RemindEvery), time.Duration(v.EscalateBefore)
	out.StepUpMaxAge = time.Duration(v.StepUpMaxAge)
	*r = out
	return nil
}

// MarshalJSON writes the workload with max_duration as a duration string.
func (w Workload) MarshalJSON() ([]byte, error) {
	type plain Workload
	return json.Marshal(struct {
		plain
		MaxDuration jsonDuration `json:"max_duration"`
	}{plain(w), jsonDuration(w.MaxDuration)})
}

// UnmarshalJSON reads a workload strictly, max_duration as a duration string.
func (w *Workload) UnmarshalJSON(b []byte) error {
	type plain Workload
	var v struct {
		*plain
		MaxDuration jsonDuration `json:"max_duration"`
	}
	var out Workload
	v.plain = (*plain)(&out)
	if err := strictDecode(b, &v); err != nil {
		return err
	}
	out.MaxDuration = time.Duration(v.MaxDuration)
	*w = out
	return nil
}
