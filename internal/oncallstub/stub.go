// Package oncallstub is a local stand-in for the PagerDuty REST API v2
// (GET /oncalls) and the Opsgenie Schedule API (GET
// /v2/schedules/{id}/on-calls), answering in their shapes, for tests.
package oncallstub

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Stub holds who is on call per schedule and serves both APIs.
type Stub struct {
	// Token is the credential every request must carry (PagerDuty
	// "Token token=<Token>", Opsgenie "GenieKey <Token>").
	Token string
	// PageSize is PagerDuty's page size (default 100).
	PageSize int

	mu       sync.Mutex
	onCall   map[string][]string
	down     bool
	requests []*http.Request
}

// New starts a stub that requires token; its server closes with the test.
func New(t testing.TB, token string) (*Stub, *httptest.Server) {
	s := &Stub{Token: token, onCall: map[string][]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// Set puts emails on call on schedule.
func (s *Stub) Set(schedule string, emails ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onCall[schedule] = emails
}

// Down makes every request fail with 503 (or work again).
func (s *Stub) Down(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Requests returns the requests served so far.
func (s *Stub) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// ServeHTTP answers both APIs.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(r.Context()))
	down := s.down
	s.mu.Unlock()
	if down {
		http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/oncalls":
		s.pagerDuty(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/schedules/") && strings.HasSuffix(r.URL.Path, "/on-calls"):
		s.opsgenie(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Stub) pagerDuty(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Token token="+s.Token {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "Unauthorized", "code": 2006}})
		return
	}
	q := r.URL.Query()
	since, err1 := time.Parse(time.RFC3339, q.Get("since"))
	until, err2 := time.Parse(time.RFC3339, q.Get("until"))
	if err1 != nil || err2 != nil || !until.After(since) || len(q["schedule_ids[]"]) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "Invalid Input Provided", "code": 2001}})
		return
	}
	withEmails := false
	for _, inc := range q["include[]"] {
		withEmails = withEmails || inc == "users"
	}
	type ref struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Email string `json:"email,omitempty"`
	}
	type onCall struct {
		User            ref    `json:"user"`
		Schedule        ref    `json:"schedule"`
		EscalationLevel int    `json:"escalation_level"`
		Start           string `json:"start"`
		End             string `json:"end"`
	}
	var all []onCall
	s.mu.Lock()
	for _, id := range q["schedule_ids[]"] {
		for i, e := range s.onCall[id] {
			u := ref{ID: "PU" + strconv.Itoa(i), Type: "user_reference"}
			if withEmails {
				u.Type, u.Email = "user", e
			}
			all = append(all, onCall{User: u, Schedule: ref{ID: id, Type: "schedule_reference"}, EscalationLevel: 1,
				Start: since.Add(-time.Hour).Format(time.RFC3339), End: until.Add(time.Hour).Format(time.RFC3339)})
		}
	}
	s.mu.Unlock()
	limit := s.PageSize
	if limit == 0 {
		limit = 100
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	page := []onCall{}
	if offset < len(all) {
		page = all[offset:min(offset+limit, len(all))]
	}
	json.NewEncoder(w).Encode(map[string]any{"oncalls": page, "limit": limit, "offset": offset, "more": offset+len(page) < len(all), "total": nil})
}

func (s *Stub) opsgenie(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "GenieKey "+s.Token {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"message": "Could not authenticate", "took": 0.001, "requestId": "r1"})
		return
	}
	id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/schedules/"), "/on-calls")
	s.mu.Lock()
	emails, ok := s.onCall[id]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]any{"message": "Schedule with identifier [" + id + "] could not be found", "took": 0.001, "requestId": "r1"})
		return
	}
	if emails == nil {
		emails = []string{}
	}
	json.NewEncoder(w).Encode(map[string]any{
		"data": map[string]any{"_parent": map[string]any{"id": id, "name": id, "enabled": true}, "onCallRecipients": emails},
		"took": 0.002, "requestId": "r1"})
}
