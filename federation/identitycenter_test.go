package federation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// icClock is the fake clock of the Identity Center tests, shared by the
// sandbox and the code under test.
type icClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *icClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *icClock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// recordingSSO is the broker's real sso-admin client with a count of
// calls and errors per operation, and a hook run after each call.
type recordingSSO struct {
	*ssoadmin.Client
	mu     sync.Mutex
	calls  map[string]int
	errors map[string]int // by "<op> <error code>"
	after  func(op string, err error)
}

func (r *recordingSSO) rec(op string, err error) {
	r.mu.Lock()
	r.calls[op]++
	if err != nil {
		r.errors[op+" "+apiErrCode(err)]++
	}
	after := r.after
	r.mu.Unlock()
	if after != nil {
		after(op, err)
	}
}

// count returns the calls of op, or with a code ("Op Code") its errors.
func (r *recordingSSO) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.Contains(key, " ") {
		return r.errors[key]
	}
	return r.calls[key]
}

func (r *recordingSSO) setAfter(f func(op string, err error)) {
	r.mu.Lock()
	r.after = f
	r.mu.Unlock()
}

func (r *recordingSSO) CreateAccountAssignment(ctx context.Context, in *ssoadmin.CreateAccountAssignmentInput, o ...func(*ssoadmin.Options)) (*ssoadmin.CreateAccountAssignmentOutput, error) {
	out, err := r.Client.CreateAccountAssignment(ctx, in, o...)
	r.rec("CreateAccountAssignment", err)
	return out, err
}

func (r *recordingSSO) DescribeAccountAssignmentCreationStatus(ctx context.Context, in *ssoadmin.DescribeAccountAssignmentCreationStatusInput, o ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentCreationStatusOutput, error) {
	out, err := r.Client.DescribeAccountAssignmentCreationStatus(ctx, in, o...)
	r.rec("DescribeAccountAssignmentCreationStatus", err)
	return out, err
}

func (r *recordingSSO) DeleteAccountAssignment(ctx context.Context, in *ssoadmin.DeleteAccountAssignmentInput, o ...func(*ssoadmin.Options)) (*ssoadmin.DeleteAccountAssignmentOutput, error) {
	out, err := r.Client.DeleteAccountAssignment(ctx, in, o...)
	r.rec("DeleteAccountAssignment", err)
	return out, err
}

func (r *recordingSSO) DescribeAccountAssignmentDeletionStatus(ctx context.Context, in *ssoadmin.DescribeAccountAssignmentDeletionStatusInput, o ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentDeletionStatusOutput, error) {
	out, err := r.Client.DescribeAccountAssignmentDeletionStatus(ctx, in, o...)
	r.rec("DescribeAccountAssignmentDeletionStatus", err)
	return out, err
}

func (r *recordingSSO) ListAccountAssignments(ctx context.Context, in *ssoadmin.ListAccountAssignmentsInput, o ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error) {
	out, err := r.Client.ListAccountAssignments(ctx, in, o...)
	r.rec("ListAccountAssignments", err)
	return out, err
}

func (r *recordingSSO) PutInlinePolicyToPermissionSet(ctx context.Context, in *ssoadmin.PutInlinePolicyToPermissionSetInput, o ...func(*ssoadmin.Options)) (*ssoadmin.PutInlinePolicyToPermissionSetOutput, error) {
	out, err := r.Client.PutInlinePolicyToPermissionSet(ctx, in, o...)
	r.rec("PutInlinePolicyToPermissionSet", err)
	return out, err
}

func (r *recordingSSO) ProvisionPermissionSet(ctx context.Context, in *ssoadmin.ProvisionPermissionSetInput, o ...func(*ssoadmin.Options)) (*ssoadmin.ProvisionPermissionSetOutput, error) {
	out, err := r.Client.ProvisionPermissionSet(ctx, in, o...)
	r.rec("ProvisionPermissionSet", err)
	return out, err
}

func (r *recordingSSO) DescribePermissionSetProvisioningStatus(ctx context.Context, in *ssoadmin.DescribePermissionSetProvisioningStatusInput, o ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetProvisioningStatusOutput, error) {
	out, err := r.Client.DescribePermissionSetProvisioningStatus(ctx, in, o...)
	r.rec("DescribePermissionSetProvisioningStatus", err)
	return out, err
}

// icEnv is a sandbox with the broker's Identity Center clients.
type icEnv struct {
	clock *icClock
	sb    *sandbox.Sandbox
	url   string
	admin *ssoadmin.Client // unrecorded, for the test's own looks
	sso   *recordingSSO
	ids   *identitystore.Client
	inst  string
	store string
	ps    map[string]string // permission set name -> ARN
}

func newICEnv(t *testing.T) *icEnv {
	t.Helper()
	c := &icClock{now: time.Now().UTC().Truncate(time.Second)}
	sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{Now: c.Now, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, ""),
		// The code under test retries on its own.
		Retryer: func() aws.Retryer { return aws.NopRetryer{} },
	}
	admin := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	e := &icEnv{
		clock: c, sb: sb, url: srv.URL, admin: admin,
		sso: &recordingSSO{Client: admin, calls: map[string]int{}, errors: map[string]int{}},
		ids: identitystore.NewFromConfig(cfg, func(o *identitystore.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		ps:  map[string]string{},
	}
	ctx := context.Background()
	inst, err := admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(inst.Instances) != 1 {
		t.Fatalf("ListInstances: %+v, %v", inst, err)
	}
	e.inst, e.store = aws.ToString(inst.Instances[0].InstanceArn), aws.ToString(inst.Instances[0].IdentityStoreId)
	sets, err := admin.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.inst)})
	if err != nil {
		t.Fatal(err)
	}
	for _, arn := range sets.PermissionSets {
		d, err := admin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(e.inst), PermissionSetArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		e.ps[aws.ToString(d.PermissionSet.Name)] = arn
	}
	return e
}

// ic returns an IdentityCenter on the env with a fast pace and its own limiter.
func (e *icEnv) ic() *federation.IdentityCenter {
	return &federation.IdentityCenter{
		SSOAdmin: e.sso, IdentityStore: e.ids, InstanceARN: e.inst, IdentityStoreID: e.store,
		Clock: e.clock, Limiter: federation.NewLocalLimiter(1000, 10),
		PollInterval: time.Millisecond, Timeout: 20 * time.Second,
	}
}

func (e *icEnv) assignment(user, ps, account string) broker.Assignment {
	return broker.Assignment{AccountID: account, PermissionSetARN: e.ps[ps], User: user}
}

// assigned reports whether the user holds the assignment, looked up in
// the sandbox directly.
func (e *icEnv) assigned(t *testing.T, a broker.Assignment) bool {
	t.Helper()
	ctx := context.Background()
	id, err := e.ic().UserID(ctx, a.User)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(e.inst), AccountId: aws.String(a.AccountID), PermissionSetArn: aws.String(a.PermissionSetARN),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range out.AccountAssignments {
		if aws.ToString(x.PrincipalId) == id && x.PrincipalType == ssotypes.PrincipalTypeUser {
			return true
		}
	}
	return false
}

// apiErrCode returns the AWS error code of err, or "other".
func apiErrCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "other"
}

// Operations stay IN_PROGRESS for 300 ms of sandbox time; every poll
// moves the clock 100 ms, so Assign must poll at least three times.
func TestAssignPollsUntilSucceeded(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetAssignmentBehaviour(300*time.Millisecond, "SUCCEEDED")
	e.sso.setAfter(func(op string, err error) {
		if strings.HasPrefix(op, "Describe") {
			e.clock.Advance(100 * time.Millisecond)
		}
	})
	a := e.assignment("alice@example.com", "ReadOnlyAccess", "222222222222")
	if err := e.ic().Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := e.sso.count("DescribeAccountAssignmentCreationStatus"); got < 2 {
		t.Errorf("polled %d times, want at least 2 (IN_PROGRESS, then SUCCEEDED)", got)
	}
	if !e.assigned(t, a) {
		t.Fatal("assignment missing after Assign returned")
	}
	// Repeating is harmless and creates nothing.
	creates := e.sso.count("CreateAccountAssignment")
	if err := e.ic().Assign(ctx, a); err != nil {
		t.Fatalf("repeated Assign: %v", err)
	}
	if got := e.sso.count("CreateAccountAssignment"); got != creates {
		t.Errorf("repeated Assign made %d more CreateAccountAssignment calls, want 0", got-creates)
	}
}

func TestAssignFailed(t *testing.T) {
	e := newICEnv(t)
	e.sb.SetAssignmentBehaviour(0, "FAILED")
	err := e.ic().Assign(context.Background(), e.assignment("bob@example.com", "PowerUserAccess", "333333333333"))
	if broker.ErrorCode(err) != broker.EINVALID {
		t.Fatalf("got %v, want code %s", err, broker.EINVALID)
	}
	if msg := broker.ErrorMessage(err); !strings.Contains(msg, "An unexpected internal service exception was encountered") {
		t.Errorf("message %q does not carry AWS's FailureReason", msg)
	}
}

// Another operation on the same permission set in the same account is in
// progress: CreateAccountAssignment answers ConflictException until it is
// done, and Assign retries.
func TestAssignRetriesConflict(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetAssignmentBehaviour(time.Second, "SUCCEEDED")
	bob, err := e.ic().UserID(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: aws.String(e.inst), TargetId: aws.String("111111111111"), TargetType: ssotypes.TargetTypeAwsAccount,
		PermissionSetArn: aws.String(e.ps["ReadOnlyAccess"]), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(bob),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Time passes only after the first conflict, and with every poll.
	e.sso.setAfter(func(op string, err error) {
		if apiErrCode(err) == "ConflictException" && e.sso.count("CreateAccountAssignment ConflictException") >= 2 ||
			strings.HasPrefix(op, "Describe") {
			e.clock.Advance(500 * time.Millisecond)
		}
	})
	a := e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111")
	if err := e.ic().Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := e.sso.count("CreateAccountAssignment ConflictException"); got < 2 {
		t.Errorf("%d conflicts seen, want at least 2", got)
	}
	if !e.assigned(t, a) {
		t.Error("assignment missing after Assign returned")
	}
}

func TestAssignUnknownUser(t *testing.T) {
	e := newICEnv(t)
	err := e.ic().Assign(context.Background(), e.assignment("nobody@example.com", "ReadOnlyAccess", "111111111111"))
	if broker.ErrorCode(err) != broker.ENOTFOUND {
		t.Fatalf("got %v, want code %s", err, broker.ENOTFOUND)
	}
	if got, want := broker.ErrorMessage(err), "user nobody@example.com is not in the Identity Store"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if got := e.sso.count("CreateAccountAssignment"); got != 0 {
		t.Errorf("%d CreateAccountAssignment calls for an unknown user", got)
	}
}

func TestUserIDCached(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	ic := e.ic()
	id, err := ic.UserID(ctx, "carol@example.com")
	if err != nil || id == "" {
		t.Fatalf("UserID = %q, %v", id, err)
	}
	// The Identity Store now refuses everything; the cached id still answers.
	e.sb.SetFault("identitystore:*", sandbox.Fault{ErrorRate: 1})
	got, err := ic.ResolveUser(ctx, "carol@example.com")
	if err != nil || got != id {
		t.Errorf("cached ResolveUser = %q, %v; want %q", got, err, id)
	}
	// Once the cache entry is old, the Identity Store is asked again (and
	// still fails). Only the IdentityCenter's clock moves, so the SDK's
	// signatures stay within the sandbox's skew window.
	ic.Clock = &icClock{now: e.clock.Now().Add(2 * time.Hour)}
	ic.Timeout = 50 * time.Millisecond
	// It fails either with the store's InternalServerException or, on a
	// loaded machine, when its 50 ms run out between retries; either way
	// only asking the store can fail.
	if _, err := ic.UserID(ctx, "carol@example.com"); err == nil {
		t.Errorf("expired cache entry answered without asking the Identity Store")
	}
}

func TestUnassign(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	ic := e.ic()
	a := e.assignment("dave@example.com", "AdministratorAccess", "222222222222")
	// Never assigned: fine, and nothing is deleted.
	if err := ic.Unassign(ctx, a); err != nil {
		t.Fatalf("Unassign of a missing assignment: %v", err)
	}
	if got := e.sso.count("DeleteAccountAssignment"); got != 0 {
		t.Errorf("%d DeleteAccountAssignment calls for a missing assignment", got)
	}
	if err := ic.Unassign(ctx, e.assignment("nobody@example.com", "AdministratorAccess", "222222222222")); err != nil {
		t.Errorf("Unassign of an unknown user: %v", err)
	}
	if err := ic.Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := ic.Unassign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := e.sso.count("DescribeAccountAssignmentDeletionStatus"); got < 1 {
		t.Errorf("deletion polled %d times, want at least 1", got)
	}
	if e.assigned(t, a) {
		t.Error("assignment still there after Unassign")
	}
	if err := ic.Unassign(ctx, a); err != nil {
		t.Errorf("second Unassign: %v", err)
	}
}

// With 30 % of sso-admin and Identity Store calls throttled, concurrent
// create-poll-delete cycles for every demo user and permission set (12,
// more than the 10 operations Identity Center lets be outstanding)
// complete.
func TestAssignmentCycleUnderThrottling(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetFault("sso:*", sandbox.Fault{ThrottleRate: 0.3})
	e.sb.SetFault("identitystore:*", sandbox.Fault{ThrottleRate: 0.3})
	ic := e.ic()
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for _, user := range []string{"alice", "bob", "carol", "dave"} {
		for _, ps := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
			wg.Go(func() {
				a := e.assignment(user+"@example.com", ps, "333333333333")
				if err := ic.Assign(ctx, a); err != nil {
					errs <- fmt.Errorf("assign %s %s: %w", user, ps, err)
					return
				}
				if err := ic.Unassign(ctx, a); err != nil {
					errs <- fmt.Errorf("unassign %s %s: %w", user, ps, err)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	throttled := 0
	for _, op := range []string{"CreateAccountAssignment", "DescribeAccountAssignmentCreationStatus", "DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus", "ListAccountAssignments"} {
		throttled += e.sso.count(op + " ThrottlingException")
	}
	if throttled == 0 {
		t.Error("no call was throttled; the fault injection did not bite")
	}
	e.sb.SetFault("sso:*", sandbox.Fault{})
	for _, user := range []string{"alice", "bob", "carol", "dave"} {
		for _, ps := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
			if e.assigned(t, e.assignment(user+"@example.com", ps, "333333333333")) {
				t.Errorf("%s %s still assigned", user, ps)
			}
		}
	}
}

// A deadline that ends while the operation is IN_PROGRESS is EUNAVAILABLE.
func TestAssignTimeout(t *testing.T) {
	e := newICEnv(t)
	e.sb.SetAssignmentBehaviour(time.Hour, "SUCCEEDED") // the clock never gets there
	ic := e.ic()
	ic.Timeout = 50 * time.Millisecond
	err := ic.Assign(context.Background(), e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111"))
	if broker.ErrorCode(err) != broker.EUNAVAILABLE {
		t.Fatalf("got %v, want code %s", err, broker.EUNAVAILABLE)
	}
}

// A creation whose request ID was lost (JIT crashed between the call and
// its record) is still IN_PROGRESS when the reconciler assigns again: the
// repeat finds it with ListAccountAssignmentCreationStatus and waits for
// it, instead of retrying the conflict it causes.
func TestAssignRecoversLostRequest(t *testing.T) {
	e := newICEnv(t)
	ctx := context.Background()
	e.sb.SetAssignmentBehaviour(3*time.Second, "SUCCEEDED")
	alice, err := e.ic().UserID(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	lost := func(create bool) {
		t.Helper()
		var err error
		if create {
			_, err = e.admin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
				InstanceArn: aws.String(e.inst), TargetId: aws.String("111111111111"), TargetType: ssotypes.TargetTypeAwsAccount,
				PermissionSetArn: aws.String(e.ps["ReadOnlyAccess"]), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(alice),
			})
		} else {
			_, err = e.admin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{
				InstanceArn: aws.String(e.inst), TargetId: aws.String("111111111111"), TargetType: ssotypes.TargetTypeAwsAccount,
				PermissionSetArn: aws.String(e.ps["ReadOnlyAccess"]), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(alice),
			})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Time passes only with describes: the conflict alone never clears.
	e.sso.setAfter(func(op string, err error) {
		if strings.HasPrefix(op, "Describe") {
			e.clock.Advance(time.Second)
		}
	})
	a := e.assignment("alice@example.com", "ReadOnlyAccess", "111111111111")
	lost(true)
	if err := e.ic().Assign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := e.sso.count("CreateAccountAssignment ConflictException"); got != 1 {
		t.Errorf("%d conflicts, want the one that led to the lost request", got)
	}
	if got := e.sso.count("CreateAccountAssignment"); got != 1 {
		t.Errorf("%d CreateAccountAssignment calls, want 1 (the repeat waits for the lost one)", got)
	}
	if !e.assigned(t, a) {
		t.Fatal("assignment missing after Assign returned")
	}
	lost(false)
	if err := e.ic().Unassign(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := e.sso.count("DeleteAccountAssignment ConflictException"); got != 1 {
		t.Errorf("%d delete conflicts, want 1", got)
	}
	if e.assigned(t, a) {
		t.Error("assignment still there after Unassign returned")
	}
}
