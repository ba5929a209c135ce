package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation/sandbox"
)

// icSystem is the whole JIT system in this process (startSystem, as
// `jit serve` wires it) on the Identity Center path against a sandbox.
type icSystem struct {
	sys    *system
	sb     *sandbox.Sandbox
	sso    *ssoadmin.Client
	psARN  string
	inst   string
	users  []string
	awsCfg aws.Config
	url    string
	logs   *lockedBuffer // the system's warnings and errors
}

func newICSystem(t *testing.T, users int) *icSystem {
	t.Helper()
	f := sandbox.DemoFixture()
	var names []string
	for i := range users {
		name := fmt.Sprintf("u%03d", i)
		f.IdentityCenter.Users = append(f.IdentityCenter.Users, sandbox.IdentityUser{UserName: name, Email: name + "@example.com", DisplayName: name})
		names = append(names, name+"@example.com")
	}
	e := startSandbox(t, f, "ReadOnlyAccess")
	e.users = names
	ctx := context.Background()
	db := int(nextDB.Add(1))
	cfg := &Config{
		Registry: broker.RegistryData{
			// These tests file the same ticket again on purpose (guardrails_test.go tests the limits).
			Limits:   broker.Limits{OverlappingTickets: broker.OverlapAllow},
			Accounts: []broker.Account{{ID: "111111111111", Name: "dev"}, {ID: "222222222222", Name: "staging"}},
			PermissionSets: []broker.PermissionSet{{Name: "ReadOnlyAccess", ARN: e.psARN, MaxDuration: time.Hour,
				GrantPath: broker.GrantIdentityCenter, Scope: broker.Scope{Accounts: []string{"*"}, RequesterGroups: []string{"*"}}}},
			Admins:           []string{"carol@example.com"},
			RequestForOthers: []string{"carol@example.com"},
		},
		AWS: AWSConfig{Region: "us-east-1", Endpoint: e.url, ManagementRole: sandbox.DemoManagementRole,
			IdentityCenter: IdentityCenterConfig{InstanceARN: e.inst, IdentityStoreID: f.IdentityCenter.IdentityStoreID, RequestsPerSecond: 500, Outstanding: 10, PollInterval: 50 * time.Millisecond}},
		Redis: RedisConfig{URL: fmt.Sprintf("redis://%s/%d", redisAddr, db)},
		OIDC:  OIDCConfig{Issuer: "http://127.0.0.1:1", ClientIDs: []string{"x"}},
	}
	cfg.Worker.Concurrency = 300
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	opt, err := redisConnOpt(cfg.Redis)
	if err != nil {
		t.Fatal(err)
	}
	e.logs = &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sys, err := startSystem(ctx, deps{cfg: cfg, redisOpt: opt, aws: e.awsCfg, logger: logger, worker: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.close)
	e.sys = sys
	return e
}

// assignments counts the permission set's assignments in the accounts.
func (e *icSystem) assignments(t *testing.T) int {
	t.Helper()
	n := 0
	for _, acct := range []string{"111111111111", "222222222222"} {
		p := ssoadmin.NewListAccountAssignmentsPaginator(e.sso, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.inst), AccountId: aws.String(acct), PermissionSetArn: aws.String(e.psARN)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n += len(page.AccountAssignments)
		}
	}
	return n
}

// At 30 % throttling and 5 % server errors on every Identity Center call,
// 200 tickets (overlapping: 40 users, 2 accounts) are granted and revoked,
// and everything converges with nothing left in the sandbox.
func TestTicketsConvergeUnderFaults(t *testing.T) {
	e := newICSystem(t, 40)
	ctx := broker.WithUser(context.Background(), broker.User{Email: "carol@example.com"})
	// Filing checks each beneficiary in the Identity Store; the faults
	// start once the tickets are filed, for their grants and revocations.
	end := time.Now().Add(30 * time.Second).Truncate(time.Second)
	var ids []string
	for i := range 200 {
		acct := []string{"111111111111", "222222222222"}[i%2]
		tk, err := e.sys.svc.CreateTicket(ctx, broker.CreateTicketInput{AccountID: acct, PermissionSet: "ReadOnlyAccess",
			Beneficiaries: []string{e.users[i%len(e.users)]}, End: end, Reason: "converge"})
		if err != nil {
			t.Fatalf("ticket %d: %v", i, err)
		}
		ids = append(ids, tk.ID)
	}
	for _, op := range []string{"sso:*", "identitystore:*"} {
		e.sb.SetFault(op, sandbox.Fault{ThrottleRate: 0.3, ErrorRate: 0.05})
	}
	// Half of them are terminated once active; the rest expire.
	deadline := time.Now().Add(3 * time.Minute)
	terminated := map[string]bool{}
	for {
		done := 0
		for i, id := range ids {
			tk, err := e.sys.svc.Ticket(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 && tk.State == broker.StateActive && !terminated[id] {
				if _, err := e.sys.svc.Terminate(ctx, id, "converge"); err != nil && broker.ErrorCode(err) != broker.ECONFLICT {
					t.Fatalf("terminate %s: %v", id, err) // a conflict: it expired meanwhile
				}
				terminated[id] = true
			}
			if tk.State.Final() && allUndone(tk) {
				done++
			}
		}
		if done == len(ids) {
			t.Logf("converged %s after the tickets' end", time.Since(end).Round(time.Second))
			break
		}
		if time.Now().After(deadline) {
			for _, id := range ids {
				if tk, err := e.sys.svc.Ticket(ctx, id); err == nil && !(tk.State.Final() && allUndone(tk)) {
					t.Logf("not converged: %s %s grants %+v", id, tk.State, tk.Grants)
				}
			}
			logs := e.logs.String()
			if len(logs) > 20000 {
				logs = logs[len(logs)-20000:]
			}
			t.Fatalf("%d of %d tickets converged after 3 minutes; the system's last warnings:\n%s", done, len(ids), logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(terminated) < 50 {
		t.Errorf("only %d tickets were terminated while active", len(terminated))
	}
	e.sb.SetFault("sso:*", sandbox.Fault{})
	e.sb.SetFault("identitystore:*", sandbox.Fault{})
	if n := e.assignments(t); n != 0 {
		t.Fatalf("%d assignments left in the sandbox", n)
	}
	rep, err := e.sys.svc.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Finished+rep.Cleaned+rep.OrphansRemoved != 0 {
		t.Fatalf("the reconciler still found work after convergence: %+v", rep)
	}
}

func allUndone(t *broker.Ticket) bool {
	for _, g := range t.Grants {
		if g.Kind == broker.GrantAssignment && g.State != broker.GrantUndone {
			return false
		}
	}
	return true
}

// startSandbox serves the sandbox of fixture f over HTTP and returns the
// system's AWS side: broker credentials, an sso-admin client and the ARN
// of the permission set named psName.
func startSandbox(t testing.TB, f sandbox.Fixture, psName string) *icSystem {
	t.Helper()
	sb, err := sandbox.New(f, sandbox.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	e := &icSystem{sb: sb, url: srv.URL, inst: f.IdentityCenter.InstanceARN}
	e.awsCfg = aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	e.sso = ssoadmin.NewFromConfig(e.awsCfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	list, err := e.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.inst)})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range list.PermissionSets {
		d, err := e.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(d.PermissionSet.Name) == psName {
			e.psARN = arn
		}
	}
	return e
}
