package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console"
)

// sampleTicket has times outside UTC, which the API must answer in UTC.
func sampleTicket(id string) *broker.Ticket {
	est := time.FixedZone("EST", -5*3600)
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, est)
	return &broker.Ticket{
		ID: id, Revision: 1, Version: 3, State: broker.StatePending,
		Requester: "alice@example.com", Beneficiaries: []string{"alice@example.com"},
		AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
		Start: at, End: at.Add(time.Hour), Reason: "debug prod",
		Approvals: []broker.Decision{{Stage: 0, By: "bob@example.com", At: at}},
		History:   []broker.Event{{At: at, Actor: "alice@example.com", Action: "request", To: broker.StatePending}},
		CreatedAt: at, UpdatedAt: at,
	}
}

// ticketJSON is the subset of the ticket document the tests check.
type ticketJSON struct {
	ID            string   `json:"id"`
	Revision      int      `json:"revision"`
	State         string   `json:"state"`
	Requester     string   `json:"requester"`
	Beneficiaries []string `json:"beneficiaries"`
	AccountID     string   `json:"account_id"`
	PermissionSet string   `json:"permission_set"`
	Start         string   `json:"start"`
	End           string   `json:"end"`
	Reason        string   `json:"reason"`
	Approvals     []struct {
		By string `json:"by"`
		At string `json:"at"`
	} `json:"approvals"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func wantTicketJSON(id string) ticketJSON {
	w := ticketJSON{
		ID: id, Revision: 1, State: "pending", Requester: "alice@example.com",
		Beneficiaries: []string{"alice@example.com"}, AccountID: "111111111111",
		PermissionSet: "ReadOnlyAccess", Start: "2030-01-02T08:04:05Z", End: "2030-01-02T09:04:05Z",
		Reason: "debug prod", CreatedAt: "2030-01-02T08:04:05Z", UpdatedAt: "2030-01-02T08:04:05Z",
	}
	w.Approvals = append(w.Approvals, struct {
		By string `json:"by"`
		At string `json:"at"`
	}{"bob@example.com", "2030-01-02T08:04:05Z"})
	return w
}

func decodeTicket(t *testing.T, b []byte) ticketJSON {
	t.Helper()
	var got ticketJSON
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("ticket body %s: %v", b, err)
	}
	return got
}

// mustUser returns the caller the handler put in the context.
func mustUser(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	u, ok := broker.UserFrom(ctx)
	if !ok || u.Email != want {
		t.Errorf("user in context = %+v, %v; want %s", u, ok, want)
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t)
	r := h.do(t, request{method: "GET", path: "/healthz"})
	if r.status != 200 || string(r.body) != `{"status":"ok"}` {
		t.Errorf("healthz = %d %s", r.status, r.body)
	}
	r = h.do(t, request{method: "GET", path: "/readyz"})
	if r.status != 200 {
		t.Errorf("readyz with no check = %d %s", r.status, r.body)
	}

	var ready error
	h = newHarness(t, func(c *console.Config) {
		c.Ready = func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("readiness context has no deadline")
			}
			return ready
		}
	})
	if r := h.do(t, request{method: "GET", path: "/readyz"}); r.status != 200 {
		t.Errorf("readyz ready = %d %s", r.status, r.body)
	}
	ready = errors.New("dial tcp 10.0.0.7:6379: connection refused")
	r = h.do(t, request{method: "GET", path: "/readyz"})
	if code, msg := r.errBody(t); r.status != 503 || code != "unavailable" || strings.Contains(msg, "10.0.0.7") {
		t.Errorf("readyz not ready = %d %s", r.status, r.body)
	}
}

func TestHappyPaths(t *testing.T) {
	alice := token(t, "alice@example.com")
	bob := token(t, "bob@example.com")

	t.Run("create with end", func(t *testing.T) {
		h := newHarness(t)
		h.svc.CreateTicketFn = func(ctx context.Context, in broker.CreateTicketInput) (*broker.Ticket, error) {
			mustUser(t, ctx, "alice@example.com")
			want := broker.CreateTicketInput{
				AccountID: "111111111111", PermissionSet: "ReadOnlyAccess",
				Beneficiaries: []string{"alice@example.com", "carol@example.com"},
				Start:         time.Date(2030, 1, 2, 4, 0, 0, 0, time.UTC),
				End:           time.Date(2030, 1, 2, 6, 0, 0, 0, time.UTC),
				Reason:        "debug prod",
			}
			if diff := cmp.Diff(want, in); diff != "" {
				t.Errorf("input (-want +got):\n%s", diff)
			}
			return sampleTicket("t1"), nil
		}
		r := h.do(t, request{method: "POST", path: "/api/v1/tickets", token: alice, body: `{
			"account_id": "111111111111", "permission_set": "ReadOnlyAccess",
			"beneficiaries": ["alice@example.com", "carol@example.com"],
			"start": "2030-01-02T05:00:00+01:00", "end": "2030-01-02T06:00:00Z", "reason": "debug prod"}`})
		if r.status != 201 {
			t.Fatalf("status = %d %s, want 201", r.status, r.body)
		}
		if diff := cmp.Diff(wantTicketJSON("t1"), decodeTicket(t, r.body)); diff != "" {
			t.Errorf("ticket (-want +got):\n%s", diff)
		}
	})

	// A duration goes to the service as it is: the service counts it from
	// the start it settles on (a start just in the past becomes now).
	createTimes := []struct {
		name, body   string
		wantStart    time.Time
		wantDuration time.Duration
	}{
		{"duration from now", `"duration": "1h30m"`, time.Time{}, 90 * time.Minute},
		{"start now", `"start": "now", "duration": "2h"`, time.Time{}, 2 * time.Hour},
		{"duration from start", `"start": "2030-02-01T10:00:00Z", "duration": "45m"`,
			time.Date(2030, 2, 1, 10, 0, 0, 0, time.UTC), 45 * time.Minute},
	}
	for _, tt := range createTimes {
		t.Run("create "+tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.svc.CreateTicketFn = func(_ context.Context, in broker.CreateTicketInput) (*broker.Ticket, error) {
				if !in.Start.Equal(tt.wantStart) || !in.End.IsZero() || in.Duration != tt.wantDuration {
					t.Errorf("start, end, duration = %s, %s, %s; want %s, no end, %s", in.Start, in.End, in.Duration, tt.wantStart, tt.wantDuration)
				}
				return sampleTicket("t2"), nil
			}
			body := `{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "reason": "x", ` + tt.body + `}`
			if r := h.do(t, request{method: "POST", path: "/api/v1/tickets", token: alice, body: body}); r.status != 201 {
				t.Errorf("status = %d %s, want 201", r.status, r.body)
			}
		})
	}

	t.Run("get", func(t *testing.T) {
		h := newHarness(t)
		h.svc.TicketFn = func(ctx context.Context, id string) (*broker.Ticket, error) {
			mustUser(t, ctx, "alice@example.com")
			if id != "abc123" {
				t.Errorf("id = %q, want abc123", id)
			}
			return sampleTicket(id), nil
		}
		r := h.do(t, request{method: "GET", path: "/api/v1/tickets/abc123", token: alice})
		if r.status != 200 {
			t.Fatalf("status = %d %s", r.status, r.body)
		}
		if diff := cmp.Diff(wantTicketJSON("abc123"), decodeTicket(t, r.body)); diff != "" {
			t.Errorf("ticket (-want +got):\n%s", diff)
		}
	})

	listCases := []struct {
		query string
		want  broker.ListInput
	}{
		{"", broker.ListInput{}},
		{"?state=active&mine=true&limit=20", broker.ListInput{State: broker.StateActive, Mine: true, Limit: 20}},
		{"?pending_for_me=1", broker.ListInput{PendingForMe: true}},
	}
	for _, tt := range listCases {
		t.Run("list"+tt.query, func(t *testing.T) {
			h := newHarness(t)
			h.svc.TicketsFn = func(ctx context.Context, in broker.ListInput) ([]*broker.Ticket, error) {
				mustUser(t, ctx, "bob@example.com")
				if diff := cmp.Diff(tt.want, in); diff != "" {
					t.Errorf("input (-want +got):\n%s", diff)
				}
				if tt.query == "" {
					return nil, nil
				}
				return []*broker.Ticket{sampleTicket("a"), sampleTicket("b")}, nil
			}
			r := h.do(t, request{method: "GET", path: "/api/v1/tickets" + tt.query, token: bob})
			if r.status != 200 {
				t.Fatalf("status = %d %s", r.status, r.body)
			}
			var got struct{ Tickets []ticketJSON }
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if tt.query == "" {
				if string(r.body) != `{"tickets":[],"total":0}` {
					t.Errorf("empty list = %s, want {\"tickets\":[],\"total\":0}", r.body)
				}
				return
			}
			want := []ticketJSON{wantTicketJSON("a"), wantTicketJSON("b")}
			if diff := cmp.Diff(want, got.Tickets); diff != "" {
				t.Errorf("tickets (-want +got):\n%s", diff)
			}
		})
	}

	decisions := []struct {
		action, body, wantComment string
	}{
		{"approve", `{"comment": "ok"}`, "ok"},
		{"approve", ``, ""},
		{"reject", `{"comment": "no prod on fridays"}`, "no prod on fridays"},
		{"terminate", `{"comment": "incident over"}`, "incident over"},
		{"terminate", ``, ""},
	}
	for _, tt := range decisions {
		t.Run(tt.action+" "+tt.body, func(t *testing.T) {
			h := newHarness(t)
			fn := func(ctx context.Context, id, comment string) (*broker.Ticket, error) {
				mustUser(t, ctx, "bob@example.com")
				if id != "t9" || comment != tt.wantComment {
					t.Errorf("%s(%q, %q), want (t9, %q)", tt.action, id, comment, tt.wantComment)
				}
				return sampleTicket(id), nil
			}
			switch tt.action {
			case "approve":
				h.svc.ApproveFn = fn
			case "reject":
				h.svc.RejectFn = fn
			case "terminate":
				h.svc.TerminateFn = fn
			}
			r := h.do(t, request{method: "POST", path: "/api/v1/tickets/t9/" + tt.action, token: bob, body: tt.body})
			if r.status != 200 {
				t.Fatalf("status = %d %s", r.status, r.body)
			}
			if got := decodeTicket(t, r.body); got.ID != "t9" {
				t.Errorf("ticket id = %q, want t9", got.ID)
			}
			if h.svc.calls.Load() != 1 {
				t.Errorf("service calls = %d, want 1", h.svc.calls.Load())
			}
		})
	}

	t.Run("credentials", func(t *testing.T) {
		h := newHarness(t)
		h.svc.CredentialsFn = func(ctx context.Context, id string) (broker.Credentials, error) {
			mustUser(t, ctx, "alice@example.com")
			if id != "t3" {
				t.Errorf("id = %q, want t3", id)
			}
			return broker.Credentials{
				AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "session",
				Expiration: time.Date(2030, 1, 2, 4, 4, 5, 999, time.FixedZone("CET", 3600)),
			}, nil
		}
		r := h.do(t, request{method: "POST", path: "/api/v1/tickets/t3/credentials", token: alice})
		if r.status != 200 {
			t.Fatalf("status = %d %s", r.status, r.body)
		}
		want := `{"Version":1,"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"secret","SessionToken":"session","Expiration":"2030-01-02T03:04:05Z"}`
		if string(r.body) != want {
			t.Errorf("body = %s\nwant   %s", r.body, want)
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}
		if got := r.header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
	})

	t.Run("me", func(t *testing.T) {
		h := newHarness(t)
		for _, tt := range []struct{ tok, want string }{
			{bob, `{"email":"bob@example.com","groups":["approvers","engineers"]}`},
			{token(t, "carol@example.com"), `{"email":"carol@example.com","groups":[]}`},
		} {
			r := h.do(t, request{method: "GET", path: "/api/v1/me", token: tt.tok})
			if r.status != 200 || string(r.body) != tt.want {
				t.Errorf("me = %d %s, want 200 %s", r.status, r.body, tt.want)
			}
		}
		if h.svc.calls.Load() != 0 {
			t.Errorf("service calls = %d, want 0", h.svc.calls.Load())
		}
	})
}

func TestExtraRoutes(t *testing.T) {
	h := newHarness(t, func(c *console.Config) {
		c.Extra = func(app *fiber.App) {
			app.Get("/dev/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
			app.Get("/api/v1/dev/whoami", func(c *fiber.Ctx) error {
				u, _ := broker.UserFrom(c.UserContext())
				return c.SendString(u.Email)
			})
		}
	})
	if r := h.do(t, request{method: "GET", path: "/dev/ping"}); r.status != 200 || string(r.body) != "pong" {
		t.Errorf("extra route = %d %s", r.status, r.body)
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/dev/whoami"}); r.status != 401 {
		t.Errorf("extra API route without token = %d %s, want 401", r.status, r.body)
	}
	if r := h.do(t, request{method: "GET", path: "/api/v1/dev/whoami", token: token(t, "alice@example.com")}); string(r.body) != "alice@example.com" {
		t.Errorf("extra API route = %d %s", r.status, r.body)
	}
}

func TestBodyUnderLimit(t *testing.T) {
	h := newHarness(t)
	reason := strings.Repeat("x", 60<<10)
	h.svc.CreateTicketFn = func(_ context.Context, in broker.CreateTicketInput) (*broker.Ticket, error) {
		if in.Reason != reason {
			t.Errorf("reason has %d bytes, want %d", len(in.Reason), len(reason))
		}
		return sampleTicket("t"), nil
	}
	body := `{"account_id": "111111111111", "permission_set": "ReadOnlyAccess", "duration": "1h", "reason": "` + reason + `"}`
	if r := h.do(t, request{method: "POST", path: "/api/v1/tickets", token: token(t, "alice@example.com"), body: body}); r.status != 201 {
		t.Errorf("status = %d %.200s, want 201", r.status, r.body)
	}
}
