package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"time"
)

// The admin endpoint steers the sandbox over HTTP, for `jit dev` and
// tests in other processes: JSON under /_sandbox/, unsigned, and served
// only when Options.Admin is set. Otherwise its paths answer 404 like any
// route the sandbox does not know.
//
//	POST /_sandbox/faults             {"operation": "sts:AssumeRole", "throttle_rate": 0.3, "error_rate": 0, "latency_ms": 0}
//	GET  /_sandbox/faults             -> {"faults": {"sts:AssumeRole": {...}}}
//	POST /_sandbox/propagation-delay  {"delay_seconds": 5}
//	POST /_sandbox/trail-delay        {"delay_seconds": 300}
//	POST /_sandbox/assignments        {"delay_seconds": 10, "result": "SUCCEEDED"|"FAILED"}
//	GET  /_sandbox/events?account=111111111111  -> {"events": [<CloudTrailEvent>, ...]} (delivered or not)
//
// Errors are {"code": "...", "message": "..."}.

func init() {
	for path, h := range map[string]func(*Sandbox, http.ResponseWriter, *http.Request){
		"/_sandbox/faults":            (*Sandbox).adminFaults,
		"/_sandbox/propagation-delay": (*Sandbox).adminPropagationDelay,
		"/_sandbox/trail-delay":       (*Sandbox).adminTrailDelay,
		"/_sandbox/assignments":       (*Sandbox).adminAssignments,
		"/_sandbox/events":            (*Sandbox).adminEvents,
	} {
		unsignedRoutes[path] = func(s *Sandbox, w http.ResponseWriter, r *http.Request) {
			if !s.admin {
				http.NotFound(w, r)
				return
			}
			h(s, w, r)
		}
	}
}

// initOperations sets up the trail, faults, console sign-in, org deny
// list and admin switch of a new Sandbox (the fixture is valid).
func (s *Sandbox) initOperations(f Fixture, opt Options) {
	s.trail = newTrail(max(opt.TrailDelay, 0))
	s.faults = newFaults(opt.Seed)
	s.consoles = newConsoles()
	s.admin = opt.Admin
	for _, doc := range append(slices.Clone(f.ServiceControlPolicies), f.OrgDenyPolicies...) {
		p, _ := parsePolicy(doc, false) // validated
		s.scps = append(s.scps, p)
	}
	s.fullAccess = len(f.ServiceControlPolicies) == 0
}

type faultJSON struct {
	Operation    string  `json:"operation,omitempty"`
	ThrottleRate float64 `json:"throttle_rate"`
	ErrorRate    float64 `json:"error_rate"`
	LatencyMS    int64   `json:"latency_ms"`
}

func (s *Sandbox) adminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		out := map[string]faultJSON{}
		for op, f := range s.Faults() {
			out[op] = faultJSON{ThrottleRate: f.ThrottleRate, ErrorRate: f.ErrorRate, LatencyMS: f.Latency.Milliseconds()}
		}
		adminJSON(w, http.StatusOK, map[string]any{"faults": out})
	case http.MethodPost:
		var in faultJSON
		if !adminDecode(w, r, &in) {
			return
		}
		if in.Operation == "" || in.ThrottleRate < 0 || in.ThrottleRate > 1 || in.ErrorRate < 0 || in.ErrorRate > 1 || in.LatencyMS < 0 {
			adminError(w, http.StatusBadRequest, "invalid", "operation is required; rates run from 0 to 1; latency_ms must not be negative")
			return
		}
		s.SetFault(in.Operation, Fault{ThrottleRate: in.ThrottleRate, ErrorRate: in.ErrorRate, Latency: time.Duration(in.LatencyMS) * time.Millisecond})
		w.WriteHeader(http.StatusNoContent)
	default:
		adminError(w, http.StatusMethodNotAllowed, "invalid", "GET or POST")
	}
}

type delayJSON struct {
	DelaySeconds float64 `json:"delay_seconds"`
	Result       string  `json:"result,omitempty"`
}

// readDelay decodes a POSTed {"delay_seconds": n}.
func readDelay(w http.ResponseWriter, r *http.Request) (delayJSON, time.Duration, bool) {
	var in delayJSON
	if r.Method != http.MethodPost {
		adminError(w, http.StatusMethodNotAllowed, "invalid", "POST")
		return in, 0, false
	}
	if !adminDecode(w, r, &in) {
		return in, 0, false
	}
	if in.DelaySeconds < 0 {
		adminError(w, http.StatusBadRequest, "invalid", "delay_seconds must not be negative")
		return in, 0, false
	}
	return in, time.Duration(in.DelaySeconds * float64(time.Second)), true
}

func (s *Sandbox) adminPropagationDelay(w http.ResponseWriter, r *http.Request) {
	if _, d, ok := readDelay(w, r); ok {
		s.SetPropagationDelay(d)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Sandbox) adminTrailDelay(w http.ResponseWriter, r *http.Request) {
	if _, d, ok := readDelay(w, r); ok {
		s.SetTrailDelay(d)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Sandbox) adminAssignments(w http.ResponseWriter, r *http.Request) {
	in, d, ok := readDelay(w, r)
	if !ok {
		return
	}
	if in.Result != "" && in.Result != "SUCCEEDED" && in.Result != "FAILED" {
		adminError(w, http.StatusBadRequest, "invalid", "result must be SUCCEEDED or FAILED")
		return
	}
	s.SetAssignmentBehaviour(d, in.Result) // identitycenter.go
	w.WriteHeader(http.StatusNoContent)
}

// adminEvents lists an account's recorded events, oldest first, whether
// LookupEvents can see them yet or not.
func (s *Sandbox) adminEvents(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		adminError(w, http.StatusMethodNotAllowed, "invalid", "GET")
		return
	}
	acct := r.URL.Query().Get("account")
	s.mu.Lock()
	var accounts []string
	for a := range s.trail.events {
		if acct == "" || a == acct {
			accounts = append(accounts, a)
		}
	}
	sort.Strings(accounts)
	out := []json.RawMessage{}
	for _, a := range accounts {
		for _, e := range s.trail.events[a] {
			out = append(out, json.RawMessage(e.doc))
		}
	}
	s.mu.Unlock()
	adminJSON(w, http.StatusOK, map[string]any{"events": out})
}

func adminDecode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		adminError(w, http.StatusBadRequest, "invalid", "body: "+err.Error())
		return false
	}
	return true
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func adminError(w http.ResponseWriter, status int, code, msg string) {
	adminJSON(w, status, map[string]string{"code": code, "message": msg})
}
