package console

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/devoidc"
)

type workloadList []broker.Workload

func (l workloadList) Workloads(context.Context) ([]broker.Workload, error) { return l, nil }

type peopleStub struct{ calls int }

func (p *peopleStub) Verify(context.Context, string) (broker.User, error) {
	p.calls++
	return broker.User{}, refused(ReasonIssuer, "token issuer mismatch")
}

// TestWorkloadAuth: a token from a workload issuer authenticates as the
// one workload it matches (issuer, one audience, exact string claims);
// none or several is 401; a token of another issuer is left to people.
func TestWorkloadAuth(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	ci, err := devoidc.New(srv.URL, "unused", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = ci.Handler()
	sign := func(edit func(c map[string]any)) string {
		now := time.Now()
		c := map[string]any{"iss": srv.URL, "aud": "jit", "repository": "org/repo", "ref": "refs/heads/main",
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
		if edit != nil {
			edit(c)
		}
		tok, err := ci.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	main := broker.Workload{Name: "deploy", Issuer: srv.URL, Audience: "jit", Claims: map[string]string{"repository": "org/repo", "ref": "refs/heads/main"}}
	anyRef := broker.Workload{Name: "build", Issuer: srv.URL, Audience: "jit", Claims: map[string]string{"repository": "org/repo"}}
	people := &peopleStub{}
	a := newWorkloadAuth(workloadList{main}, people)
	ctx := t.Context()

	u, ok, err := a.verify(ctx, sign(nil))
	if !ok || err != nil || u.Email != "workload:deploy" || len(u.Groups) != 0 {
		t.Fatalf("matching token: %v %v %v, want workload:deploy", u, ok, err)
	}
	for name, tok := range map[string]string{
		"other ref":          sign(func(c map[string]any) { c["ref"] = "refs/heads/dev" }),
		"claim case":         sign(func(c map[string]any) { c["repository"] = "Org/Repo" }),
		"claim not a string": sign(func(c map[string]any) { c["ref"] = map[string]any{"x": 1} }),
		"glob is literal":    sign(func(c map[string]any) { c["ref"] = "refs/heads/*" }),
		"other audience":     sign(func(c map[string]any) { c["aud"] = "sts.amazonaws.com" }),
		"two audiences":      sign(func(c map[string]any) { c["aud"] = []string{"jit", "x"} }),
	} {
		people.calls = 0
		_, ok, err := a.verify(ctx, tok)
		if !ok || broker.ErrorCode(err) != broker.EUNAUTHENTICATED || refusalReason(err) != ReasonWorkload || people.calls != 1 {
			t.Errorf("%s: ok=%v err=%v reason=%s people=%d, want no_workload after asking people", name, ok, err, refusalReason(err), people.calls)
		}
	}
	_, ok, err = a.verify(ctx, sign(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }))
	if !ok || refusalReason(err) != ReasonExpired {
		t.Errorf("expired: %v %v", ok, err)
	}
	// Several match: refused, naming them.
	both := newWorkloadAuth(workloadList{main, anyRef}, people)
	if _, ok, err := both.verify(ctx, sign(nil)); !ok || refusalReason(err) != ReasonWorkload {
		t.Errorf("two workloads match: %v %v", ok, err)
	}
	if u, _, err := both.verify(ctx, sign(func(c map[string]any) { c["ref"] = "refs/heads/dev" })); err != nil || u.Email != "workload:build" {
		t.Errorf("only build matches: %v %v", u, err)
	}
	// Another issuer, or no JWT: people's business.
	if _, ok, _ := a.verify(ctx, "not.a.jwt"); ok {
		t.Error("a malformed token was decided as a workload's")
	}
	none := newWorkloadAuth(workloadList{}, people)
	if _, ok, _ := none.verify(ctx, sign(nil)); ok {
		t.Error("a token of an issuer no workload names was decided as a workload's")
	}
}

func TestWorkloadMay(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v1/tickets", true},
		{"GET", "/api/v1/tickets", true},
		{"GET", "/api/v1/tickets/abc", true},
		{"GET", "/api/v1/tickets/abc/", true},
		{"POST", "/api/v1/tickets/abc/credentials", true},
		{"POST", "/api/v1/tickets/abc/Credentials", true},
		{"POST", "/api/v1/tickets/abc/done", true},
		{"GET", "/api/v1/me", true},
		{"POST", "/api/v1/tickets/abc/approve", false},
		{"POST", "/api/v1/tickets/abc/reject", false},
		{"POST", "/api/v1/tickets/abc/terminate", false},
		{"POST", "/api/v1/tickets/abc/extend", false},
		{"PUT", "/api/v1/tickets/abc", false},
		{"GET", "/api/v1/tickets/abc/console", false},
		{"GET", "/api/v1/tickets//credentials", false},
		{"GET", "/api/v1/registry", false},
		{"GET", "/api/v1/events", false},
		{"POST", "/api/v1/delegations", false},
	} {
		if got := workloadMay(tc.method, tc.path); got != tc.want {
			t.Errorf("workloadMay(%s %s) = %v, want %v", tc.method, tc.path, got, tc.want)
		}
	}
}
