package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation/sandbox"
)

// nameVerifier takes a bearer token to be the user's email; groups from
// the map.
type nameVerifier map[string][]string

func (v nameVerifier) Verify(_ context.Context, tok string) (broker.User, error) {
	groups, ok := v[tok]
	if !ok {
		return broker.User{}, broker.Errorf(broker.EUNAUTHENTICATED, "unknown token")
	}
	return broker.User{Email: tok, Groups: groups}, nil
}

// newAPISystem starts the whole system in this process, as `jit serve`
// wires it (with Slack's route mounted), on a demo sandbox: alice requests
// ReadOnly, which bob approves in one stage; carol administers.
func newAPISystem(t *testing.T, stages ...broker.RuleStage) *system {
	t.Helper()
	if stages == nil {
		stages = []broker.RuleStage{{Approvers: []string{"bob@example.com"}, Required: 1}}
	}
	e := startSandbox(t, sandbox.DemoFixture(), "PowerUserAccess")
	everyone := broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}
	cfg := &Config{
		Registry: broker.RegistryData{
			// These tests file the same ticket again on purpose (guardrails_test.go tests the limits).
			Limits:   broker.Limits{OverlappingTickets: broker.OverlapAllow},
			Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}},
			PermissionSets: []broker.PermissionSet{
				{Name: "PowerUserAccess", RoleName: "PowerUserAccess", MaxDuration: 4 * time.Hour, GrantPath: broker.GrantRole, ApprovalRequired: true, Scope: everyone},
			},
			ApprovalRules: []broker.ApprovalRule{{Account: "*", Stages: stages}},
			Admins:        []string{"carol@example.com"},
		},
		AWS:   AWSConfig{Region: "us-east-1", Endpoint: e.url, ManagementRole: sandbox.DemoManagementRole},
		Redis: RedisConfig{URL: fmt.Sprintf("redis://%s/%d", redisAddr, int(nextDB.Add(1)))},
		OIDC:  OIDCConfig{Issuer: "http://127.0.0.1:1", ClientIDs: []string{"x"}},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	v := nameVerifier{"alice@example.com": nil, "bob@example.com": nil, "carol@example.com": nil, "dave@example.com": nil, "erin@example.com": nil}
	sys, err := startSystem(context.Background(), deps{cfg: cfg, redisOpt: opt, aws: e.awsCfg, logger: slog.New(slog.DiscardHandler),
		verifier: v, extra: withSlack(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.close)
	return sys
}

// openAPIDoc fetches the served document and its validator.
func openAPIDoc(t *testing.T, app *fiber.App) ([]byte, validator.Validator) {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer alice@example.com")
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", resp.StatusCode, body)
	}
	doc, err := libopenapi.NewDocument(body)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	return body, v
}

// The OpenAPI document served at /api/v1/openapi.json is a valid OpenAPI
// 3.1 document (a maintained validator says so), and it lists exactly the
// routes the server registers.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	sys := newAPISystem(t)
	body, v := openAPIDoc(t, sys.app)
	if ok, errs := v.ValidateDocument(); !ok {
		for _, e := range errs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s", se.Reason, se.FieldPath)
			}
		}
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var inDoc []string
	for p, ops := range doc.Paths {
		for m := range ops {
			inDoc = append(inDoc, strings.ToUpper(m)+" "+p)
		}
	}
	var served []string
	for _, r := range sys.app.GetRoutes(true) {
		if r.Method == "HEAD" || r.Path == "/*" { // HEAD comes with every GET; /* is the web app's pages
			continue
		}
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if name, ok := strings.CutPrefix(seg, ":"); ok {
				p = strings.Replace(p, seg, "{"+name+"}", 1)
			}
		}
		served = append(served, r.Method+" "+p)
	}
	slices.Sort(inDoc)
	slices.Sort(served)
	served = slices.Compact(served)
	for _, r := range served {
		if !slices.Contains(inDoc, r) {
			t.Errorf("%s is served but not in the OpenAPI document", r)
		}
	}
	for _, r := range inDoc {
		if !slices.Contains(served, r) {
			t.Errorf("%s is in the OpenAPI document but not served", r)
		}
	}
	if len(wire.Routes) != len(inDoc) {
		t.Errorf("%d routes in wire.Routes, %d in the document", len(wire.Routes), len(inDoc))
	}
}

// Real answers of the real handlers validate against the document:
// create, list, get, approve, errors, and the other reads.
func TestOpenAPIResponsesValidate(t *testing.T) {
	sys := newAPISystem(t)
	_, v := openAPIDoc(t, sys.app)
	call := func(user, method, path string, body any, want int) []byte {
		t.Helper()
		var data []byte
		if body != nil {
			data, _ = json.Marshal(body)
		}
		newReq := func() *http.Request {
			req := httptest.NewRequest(method, path, bytes.NewReader(data))
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+user)
			req.Header.Set("Accept", "application/json")
			return req
		}
		resp, err := sys.app.Test(newReq(), -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, got, want)
		}
		resp.Body = io.NopCloser(bytes.NewReader(got))
		check := v.ValidateHttpRequestResponse
		if want >= 400 {
			check = v.ValidateHttpResponse // a refused request need not match the document
		}
		if ok, errs := check(newReq(), resp); !ok {
			for _, e := range errs {
				t.Errorf("%s %s: %s: %s", method, path, e.Message, e.Reason)
				for _, se := range e.SchemaValidationErrors {
					t.Errorf("  %s at %s", se.Reason, se.FieldPath)
				}
			}
		}
		return got
	}
	const alice, bob, carol = "alice@example.com", "bob@example.com", "carol@example.com"
	var tk wire.Ticket
	created := call(alice, "POST", "/api/v1/tickets", wire.CreateTicket{AccountID: "111111111111", PermissionSet: "PowerUserAccess",
		Start: time.Now().Add(time.Hour).UTC().Format(time.RFC3339), Duration: "1h", Reason: "deploy"}, 201)
	if err := json.Unmarshal(created, &tk); err != nil {
		t.Fatal(err)
	}
	call(bob, "GET", "/api/v1/tickets?pending_for_me=true", nil, 200)
	call(bob, "GET", "/api/v1/tickets/"+tk.ID, nil, 200)
	call(alice, "POST", "/api/v1/tickets/"+tk.ID+"/approve", wire.Decide{}, 403)
	call(bob, "POST", "/api/v1/tickets/"+tk.ID+"/reject", nil, 400)
	call(bob, "POST", "/api/v1/tickets/"+tk.ID+"/approve", wire.Decide{Comment: "ok", Revision: tk.Revision}, 200)
	call(bob, "GET", "/api/v1/tickets/nope", nil, 404)
	call(alice, "GET", "/api/v1/tickets?mine=true&limit=1", nil, 200)
	call(alice, "GET", "/api/v1/me", nil, 200)
	call(bob, "POST", "/api/v1/delegations", wire.Delegate{To: carol, End: time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}, 201)
	call(bob, "GET", "/api/v1/delegations", nil, 200)
	call(alice, "GET", "/api/v1/tickets/"+tk.ID+"/timeline", nil, 200)
	call(carol, "GET", "/api/v1/audit?limit=5", nil, 200)
	call(carol, "GET", "/api/v1/registry", nil, 200)
	call(carol, "GET", "/api/v1/permission-sets", nil, 200)
	call(carol, "GET", "/api/v1/approval-rules", nil, 200)
	call(carol, "GET", "/api/v1/admins", nil, 200)
	call(alice, "PUT", "/api/v1/admins", wire.Admins{Admins: []string{alice}}, 403)
	call(alice, "GET", "/healthz", nil, 200)
	call(alice, "GET", "/config.json", nil, 200)
}
