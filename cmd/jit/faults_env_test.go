//go:build faults

package main

// The crash suite's environment (`make test-faults`): the real jit binary
// built with the `faults` tag (crash points armed by JIT_CRASH_POINT), a
// private redis-server with AOF (appendfsync everysec) that a test may
// kill -9 and restart, and the AWS sandbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/broker/redisstore"
	"github.com/jitaccess/jit/broker/tasks"
	"github.com/jitaccess/jit/console/wire"
	"github.com/jitaccess/jit/federation/sandbox"
)

func init() { jitBuildTags = "faults" }

const (
	icInstance = "arn:aws:sso:::instance/ssoins-72230000jitdemo1"
	icPSARN    = "arn:aws:sso:::permissionSet/ssoins-72230000jitdemo1/ps-88a9e02b271ad7b5"
	// recoveryBound only catches "never": issue 20 aims at under 10 s,
	// which the suite measures and prints rather than asserts.
	recoveryBound = 60 * time.Second
)

// faultCycles is how many times the kill-point suite runs every point:
// JIT_FAULT_CYCLES, default 1 (CI); more for longer local runs.
func faultCycles(t *testing.T) int {
	n, err := strconv.Atoi(os.Getenv("JIT_FAULT_CYCLES"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// aofRedis is a private redis-server persisting to an append-only file
// fsynced every second, as production runs it; kill9 and start again
// reload it from that file.
type aofRedis struct {
	t    *testing.T
	dir  string
	addr string
	cmd  *exec.Cmd
}

func startAOFRedis(t *testing.T) *aofRedis {
	t.Helper()
	r := &aofRedis{t: t, dir: t.TempDir(), addr: freeAddr(t)}
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

func (r *aofRedis) start() {
	r.t.Helper()
	host, port, _ := strings.Cut(r.addr, ":")
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", host, "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
		"--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr})
	defer c.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server with AOF did not start: %v", err)
		}
	}
}

// kill9 kills redis-server at once: whatever it had not yet written to
// the append-only file (up to about a second) is lost.
func (r *aofRedis) kill9() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// faultEnv is one harness on its own AOF Redis, with direct access to the
// ticket store, the task queue and the sandbox's Identity Center.
type faultEnv struct {
	*harness
	r     *aofRedis
	rdb   *redis.Client
	store *redisstore.Store
	insp  *asynq.Inspector
	sso   *ssoadmin.Client
}

func newFaultEnv(t *testing.T, sb sandbox.Options) *faultEnv {
	t.Helper()
	r := startAOFRedis(t)
	h := newHarnessOpts(t, string(devConfig), harnessOptions{redisURL: "redis://" + r.addr + "/0", sandbox: sb})
	f := &faultEnv{harness: h, r: r}
	f.rdb = redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: 10})
	t.Cleanup(func() { f.rdb.Close() })
	f.store = redisstore.New(f.rdb, redisstore.Options{})
	f.insp = asynq.NewInspector(asynq.RedisClientOpt{Addr: r.addr})
	t.Cleanup(func() { f.insp.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	f.sso = ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(h.awsURL) })
	return f
}

// startArmed starts `jit serve` with the crash points armed ("" for none).
func (f *faultEnv) startArmed(points ...string) {
	f.t.Helper()
	f.env = nil
	if len(points) > 0 {
		f.env = []string{"JIT_CRASH_POINT=" + strings.Join(points, ",")}
	}
	f.start()
}

// waitCrash waits until the armed server killed itself at point.
func (f *faultEnv) waitCrash(point string, within time.Duration) {
	f.t.Helper()
	done := make(chan struct{})
	p := f.proc
	go func() { p.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(within):
		f.t.Fatalf("the server did not reach crash point %s within %s:\n%s", point, within, f.logs)
	}
	f.proc = nil
	if !strings.Contains(f.logs.String(), "JIT_CRASH_POINT "+point+" reached") {
		f.t.Fatalf("the server died, but not at crash point %s:\n%s", point, f.logs)
	}
}

// try makes one API request as user and decodes the answer; unlike api it
// returns the transport error (a request the server died under).
func (f *faultEnv) try(user, method, path string, body any) (int, map[string]any, error) {
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, f.apiURL+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+f.token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out := map[string]any{}
	data, _ := io.ReadAll(resp.Body)
	json.Unmarshal(data, &out)
	return resp.StatusCode, out, nil
}

// must is api with a wanted status.
func (f *faultEnv) must(want int, user, method, path string, body any) map[string]any {
	f.t.Helper()
	code, out, err := f.try(user, method, path, body)
	if err != nil || code != want {
		f.t.Fatalf("%s %s: %d %v %v, want %d", method, path, code, out, err, want)
	}
	return out
}

// create files a ticket as alice for herself (or for beneficiary, as
// carol) and returns its id.
func (f *faultEnv) create(ps, beneficiary string, dur time.Duration) string {
	f.t.Helper()
	body := map[string]any{"account_id": "111111111111", "permission_set": ps, "duration": dur.String(), "reason": "crash suite"}
	user := "alice@example.com"
	if beneficiary != "" && beneficiary != user {
		user = "carol@example.com"
		body["beneficiaries"] = []string{beneficiary}
	}
	return f.must(http.StatusCreated, user, "POST", "/api/v1/tickets", body)["id"].(string)
}

func (f *faultEnv) approve(id string) (int, error) {
	code, _, err := f.try("bob@example.com", "POST", "/api/v1/tickets/"+id+"/approve", map[string]any{"comment": "ok"})
	return code, err
}

func (f *faultEnv) terminate(id string) (int, error) {
	code, _, err := f.try("bob@example.com", "POST", "/api/v1/tickets/"+id+"/terminate", map[string]any{"comment": "cut"})
	return code, err
}

// creds asks the API for a session of the ticket as user.
func (f *faultEnv) creds(user, id string) (wire.CredentialProcess, int, error) {
	req, _ := http.NewRequest("POST", f.apiURL+"/api/v1/tickets/"+id+"/credentials", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(user))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return wire.CredentialProcess{}, 0, err
	}
	defer resp.Body.Close()
	var c wire.CredentialProcess
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			return c, resp.StatusCode, err
		}
	}
	return c, resp.StatusCode, nil
}

func (f *faultEnv) mustCreds(user, id string) wire.CredentialProcess {
	f.t.Helper()
	c, code, err := f.creds(user, id)
	if err != nil || code != http.StatusOK {
		f.t.Fatalf("credentials of %s: %d %v", id, code, err)
	}
	return c
}

// get reads a ticket straight from Redis (the server may be down).
func (f *faultEnv) get(id string) *broker.Ticket {
	f.t.Helper()
	tk, err := f.store.Ticket(context.Background(), id)
	if err != nil {
		f.t.Fatalf("ticket %s: %v", id, err)
	}
	return tk
}

// waitFor polls the ticket until ok accepts it, and returns how long that took.
func (f *faultEnv) waitFor(id string, within time.Duration, what string, ok func(*broker.Ticket) bool) time.Duration {
	f.t.Helper()
	start := time.Now()
	for {
		tk := f.get(id)
		if ok(tk) {
			return time.Since(start)
		}
		if time.Since(start) > within {
			f.t.Fatalf("ticket %s: %s not reached within %s; it is %s: %+v\nserver:\n%s", id, what, within, tk.State, tk, f.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *faultEnv) waitState(id string, st broker.State, within time.Duration) time.Duration {
	f.t.Helper()
	return f.waitFor(id, within, string(st), func(t *broker.Ticket) bool { return t.State == st })
}

// agenda returns the ticket's due time in the agenda (zero if none).
func (f *faultEnv) agenda(id string) time.Time {
	ms, err := f.rdb.ZScore(context.Background(), "jit:{tickets}:due", id).Result()
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(ms))
}

// hasTask reports whether the task of kind for the ticket at at is queued
// to run (scheduled, pending, running or waiting for a retry).
func (f *faultEnv) hasTask(kind broker.TaskKind, id string, at time.Time) bool {
	info, err := f.insp.GetTaskInfo(tasks.DefaultQueue, tasks.TaskID(kind, id, at))
	if err != nil {
		return false
	}
	switch info.State {
	case asynq.TaskStateScheduled, asynq.TaskStatePending, asynq.TaskStateActive, asynq.TaskStateRetry:
		return true
	}
	return false
}

// assignments returns the Identity Center assignments of the demo
// permission set in the dev account, counted by principal.
func (f *faultEnv) assignments() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	p := ssoadmin.NewListAccountAssignmentsPaginator(f.sso, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(icInstance), AccountId: aws.String("111111111111"), PermissionSetArn: aws.String(icPSARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		for _, a := range page.AccountAssignments {
			out[aws.ToString(a.PrincipalId)]++
		}
	}
	return out
}

// agree reports whether the ticket's state and its consequences agree,
// and if not, why: a task and an agenda entry for every due transition,
// the role's deny recorded for a terminated role ticket, every Identity
// Center assignment made for an active ticket and taken back for an ended
// one.
func (f *faultEnv) agree(t *broker.Ticket) (bool, string) {
	now := time.Now()
	switch t.State {
	case broker.StatePending:
		if !t.ApprovalDeadline.IsZero() && !f.agenda(t.ID).Equal(t.ApprovalDeadline.Truncate(time.Millisecond)) {
			return false, "pending without its deadline in the agenda"
		}
	case broker.StateApproved:
		if !now.Before(t.Start.Add(time.Second)) {
			return false, "approved after its start"
		}
		if !f.hasTask(broker.TaskActivate, t.ID, t.Start) && !f.agenda(t.ID).Equal(t.Start.Truncate(time.Millisecond)) {
			return false, "approved without an activation task or agenda entry"
		}
	case broker.StateActive:
		if !now.Before(t.End.Add(time.Second)) {
			return false, "active after its end"
		}
		if !f.hasTask(broker.TaskExpire, t.ID, t.End) {
			return false, "active without an expiry task at its end"
		}
		if !f.agenda(t.ID).Equal(t.End.Truncate(time.Millisecond)) {
			return false, "active without its end in the agenda"
		}
		if t.PermissionSet == "ReadOnlySSO" {
			for _, g := range t.Grants {
				if g.Kind == broker.GrantAssignment && g.State != broker.GrantDone {
					return false, "active with an assignment not confirmed"
				}
			}
			if len(f.assignments()) == 0 {
				return false, "active without its assignment in Identity Center"
			}
		}
	case broker.StateTerminated, broker.StateExpired:
		if t.PermissionSet == "ReadOnlySSO" {
			for _, g := range t.Grants {
				if g.Kind == broker.GrantAssignment && g.State != broker.GrantUndone {
					return false, "ended with an assignment not taken back"
				}
			}
		} else if t.State == broker.StateTerminated && !denied(*t) {
			return false, "terminated without the role's deny entry"
		}
	}
	return true, ""
}

// waitAgree waits until the ticket's state and consequences agree and the
// ticket is in one of the states (any, if none given), and returns how
// long that took.
func (f *faultEnv) waitAgree(id string, states ...broker.State) time.Duration {
	f.t.Helper()
	start := time.Now()
	for {
		t := f.get(id)
		ok, why := f.agree(t)
		if ok && len(states) > 0 && !slices.Contains(states, t.State) {
			ok, why = false, fmt.Sprintf("%s, want %v", t.State, states)
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > recoveryBound {
			f.t.Fatalf("ticket %s: state and consequences disagree %s after the restart: %s\n%+v\nserver:\n%s", id, recoveryBound, why, t, f.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portalS3 signs in to the access portal as user and returns an S3 client
// with the role credentials it hands out, retrying while the assignment
// (or a previous cut's whole-second bound) keeps it out.
func (f *faultEnv) portalS3(user string) *s3.Client {
	f.t.Helper()
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	portal := sso.NewFromConfig(cfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(f.awsURL) })
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		tok, err := f.sb.PortalToken(user)
		if err != nil {
			f.t.Fatal(err)
		}
		out, err := portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok), AccountId: aws.String("111111111111"), RoleName: aws.String("ReadOnlyAccess")})
		if err != nil {
			last = err
			continue
		}
		c := out.RoleCredentials
		pc := wire.CredentialProcess{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
		s := f.s3With(pc)
		if _, err := s.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
			last = err
			continue
		}
		return s
	}
	f.t.Fatalf("portal session of %s: %v", user, last)
	return nil
}

// refused asserts that AWS refuses the session.
func (f *faultEnv) refused(what string, c *s3.Client) {
	f.t.Helper()
	_, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		f.t.Errorf("%s: %v, want AccessDenied", what, err)
	}
}

// works asserts that AWS accepts the session.
func (f *faultEnv) works(what string, c *s3.Client) {
	f.t.Helper()
	if _, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil {
		f.t.Errorf("%s: %v, want it to work", what, err)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
