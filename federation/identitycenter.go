package federation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/jitaccess/jit/broker"
)

// defaultAssignTimeout bounds one Assign or Unassign, retries and polling included.
const defaultAssignTimeout = 5 * time.Minute

// AssignmentAPI is the sso-admin calls IdentityCenter makes.
type AssignmentAPI interface {
	CreateAccountAssignment(ctx context.Context, in *ssoadmin.CreateAccountAssignmentInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.CreateAccountAssignmentOutput, error)
	DescribeAccountAssignmentCreationStatus(ctx context.Context, in *ssoadmin.DescribeAccountAssignmentCreationStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentCreationStatusOutput, error)
	DeleteAccountAssignment(ctx context.Context, in *ssoadmin.DeleteAccountAssignmentInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DeleteAccountAssignmentOutput, error)
	DescribeAccountAssignmentDeletionStatus(ctx context.Context, in *ssoadmin.DescribeAccountAssignmentDeletionStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.DescribeAccountAssignmentDeletionStatusOutput, error)
	ListAccountAssignments(ctx context.Context, in *ssoadmin.ListAccountAssignmentsInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentsOutput, error)
	ListAccountAssignmentCreationStatus(ctx context.Context, in *ssoadmin.ListAccountAssignmentCreationStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentCreationStatusOutput, error)
	ListAccountAssignmentDeletionStatus(ctx context.Context, in *ssoadmin.ListAccountAssignmentDeletionStatusInput, optFns ...func(*ssoadmin.Options)) (*ssoadmin.ListAccountAssignmentDeletionStatusOutput, error)
}

// UserIDAPI is the one Identity Store call IdentityCenter makes.
type UserIDAPI interface {
	GetUserId(ctx context.Context, in *identitystore.GetUserIdInput, optFns ...func(*identitystore.Options)) (*identitystore.GetUserIdOutput, error)
}

// IdentityCenter creates and deletes IAM Identity Center account
// assignments for single users (design.md flows 3 and 5). Both operations
// are asynchronous at AWS: it polls their status with backoff until they
// are done, retries throttling and conflicts, and keeps within Identity
// Center's rate limits through its Limiter.
//
// The zero values of the optional fields take the defaults documented on
// them. The SDK clients it is given should not retry on their own
// (aws.NopRetryer or few attempts), or their retries add to its own.
type IdentityCenter struct {
	SSOAdmin        AssignmentAPI
	IdentityStore   UserIDAPI
	InstanceARN     string
	IdentityStoreID string
	// Clock ages the user id cache. Default broker.SystemClock.
	Clock broker.Clock
	// UserCacheTTL is how long a resolved user id is reused (a user
	// deleted and created again gets a new id). Default 1 hour.
	UserCacheTTL time.Duration
	// Limiter paces requests and bounds outstanding assignment operations;
	// every worker must share one. Default: one LocalLimiter shared by the
	// whole process.
	Limiter Limiter
	// PollInterval is the first wait between status polls and between
	// retries; each wait is half again as long, up to 10 s. Default 1 s.
	PollInterval time.Duration
	// Timeout bounds one Assign or Unassign. Default 5 minutes.
	Timeout time.Duration

	mu    sync.Mutex
	users map[string]cachedUser // by email
}

type cachedUser struct {
	id string
	at time.Time
}

var (
	_ broker.Assigner  = (*IdentityCenter)(nil)
	_ broker.Directory = (*IdentityCenter)(nil)
)

// UserID returns the Identity Store user id of the user whose email is
// email; ids are cached for UserCacheTTL. ENOTFOUND when there is no such user, EINVALID
// when the Identity Store refuses the address.
func (ic *IdentityCenter) UserID(ctx context.Context, email string) (string, error) {
	now := ic.now()
	ic.mu.Lock()
	u, ok := ic.users[email]
	ic.mu.Unlock()
	if ok && now.Sub(u.at) < ic.userCacheTTL() {
		return u.id, nil
	}
	if ic.IdentityStore == nil || ic.IdentityStoreID == "" {
		return "", errors.New("federation: IdentityCenter needs IdentityStore and IdentityStoreID")
	}
	ctx, cancel := context.WithTimeout(ctx, ic.timeout())
	defer cancel()
	var out *identitystore.GetUserIdOutput
	err := ic.pace().call(ctx, func() (err error) {
		out, err = ic.IdentityStore.GetUserId(ctx, &identitystore.GetUserIdInput{
			IdentityStoreId: aws.String(ic.IdentityStoreID),
			AlternateIdentifier: &istypes.AlternateIdentifierMemberUniqueAttribute{Value: istypes.UniqueAttribute{
				AttributePath:  aws.String("emails.value"),
				AttributeValue: document.NewLazyDocument(email),
			}},
		})
		return err
	})
	switch apiCode(err) {
	case "":
	case "ResourceNotFoundException":
		return "", broker.Errorf(broker.ENOTFOUND, "user %s is not in the Identity Store", email)
	case "ValidationException":
		return "", broker.Errorf(broker.EINVALID, "cannot look up user %q in the Identity Store", email)
	}
	if err != nil {
		return "", fmt.Errorf("get user id of %s: %w", email, err)
	}
	id := aws.ToString(out.UserId)
	ic.mu.Lock()
	if ic.users == nil {
		ic.users = map[string]cachedUser{}
	}
	ic.users[email] = cachedUser{id: id, at: now}
	ic.mu.Unlock()
	return id, nil
}

// ResolveUser implements broker.Directory with UserID.
func (ic *IdentityCenter) ResolveUser(ctx context.Context, email string) (string, error) {
	return ic.UserID(ctx, email)
}

// Assign creates the assignment and waits until AWS reports it SUCCEEDED.
// An assignment that already exists is left as it is. ENOTFOUND for a
// user not in the Identity Store, EINVALID when AWS reports FAILED (with
// its reason), EUNAVAILABLE when it is still in progress after Timeout.
func (ic *IdentityCenter) Assign(ctx context.Context, a broker.Assignment) error {
	if err := ic.check(); err != nil {
		return err
	}
	userID, err := ic.UserID(ctx, a.User)
	if err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, ic.timeout())
	defer cancel()
	err = ic.assign(opCtx, a, userID)
	return ic.timedOut(ctx, err, "assignment of %s to %s in %s", a.User, a.PermissionSetARN, a.AccountID)
}

func (ic *IdentityCenter) assign(ctx context.Context, a broker.Assignment, userID string) error {
	// Listing first makes a repeat cheap and does not depend on what AWS
	// answers to a create of an existing assignment (undocumented).
	if ok, err := ic.exists(ctx, a, userID); err != nil || ok {
		return err
	}
	release, err := ic.limiter().Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	p := ic.pace()
	var started *ssotypes.AccountAssignmentOperationStatus
	err = p.call(ctx, func() error {
		out, err := ic.SSOAdmin.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn:      aws.String(ic.InstanceARN),
			TargetId:         aws.String(a.AccountID),
			TargetType:       ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(a.PermissionSetARN),
			PrincipalType:    ssotypes.PrincipalTypeUser,
			PrincipalId:      aws.String(userID),
		})
		if err == nil {
			started = out.AccountAssignmentCreationStatus
		} else if apiCode(err) == "ConflictException" {
			// Perhaps our own creation, whose request ID a crash lost:
			// wait for it rather than for the conflict to clear.
			if st, lerr := ic.pending(ctx, false, a, userID); lerr == nil && st != nil {
				started = st
				return nil
			}
		}
		return err
	})
	if err != nil {
		return ic.requestError(err, "create assignment of %s to %s in %s", a.User, a.PermissionSetARN, a.AccountID)
	}
	st, err := ic.poll(ctx, started, func() (*ssotypes.AccountAssignmentOperationStatus, error) {
		return ic.describe(ctx, false, started.RequestId)
	})
	if err != nil {
		return fmt.Errorf("assignment of %s to %s in %s: %w", a.User, a.PermissionSetARN, a.AccountID, err)
	}
	if st.Status == ssotypes.StatusValuesFailed {
		// It may have failed because another request made it meanwhile.
		release()
		if ok, lerr := ic.exists(ctx, a, userID); lerr == nil && ok {
			return nil
		}
		return broker.Errorf(broker.EINVALID, "Identity Center could not assign %s to %s in account %s: %s",
			a.User, a.PermissionSetARN, a.AccountID, failureReason(st.FailureReason))
	}
	return nil
}

// Unassign deletes the assignment and waits until AWS reports it gone; a
// missing assignment (or a user no longer in the Identity Store) is fine.
// EINVALID when AWS reports FAILED, EUNAVAILABLE when it is still in
// progress after Timeout.
func (ic *IdentityCenter) Unassign(ctx context.Context, a broker.Assignment) error {
	if err := ic.check(); err != nil {
		return err
	}
	userID, err := ic.UserID(ctx, a.User)
	if broker.ErrorCode(err) == broker.ENOTFOUND {
		return nil // a deleted user has no assignments left
	} else if err != nil {
		return err
	}
	opCtx, cancel := context.WithTimeout(ctx, ic.timeout())
	defer cancel()
	err = ic.unassign(opCtx, a, userID)
	return ic.timedOut(ctx, err, "removal of %s from %s in %s", a.User, a.PermissionSetARN, a.AccountID)
}

func (ic *IdentityCenter) unassign(ctx context.Context, a broker.Assignment, userID string) error {
	// AWS does not document what deleting a missing assignment does, so
	// look first.
	if ok, err := ic.exists(ctx, a, userID); err != nil || !ok {
		return err
	}
	release, err := ic.limiter().Acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	p := ic.pace()
	var started *ssotypes.AccountAssignmentOperationStatus
	err = p.call(ctx, func() error {
		out, err := ic.SSOAdmin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{
			InstanceArn:      aws.String(ic.InstanceARN),
			TargetId:         aws.String(a.AccountID),
			TargetType:       ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(a.PermissionSetARN),
			PrincipalType:    ssotypes.PrincipalTypeUser,
			PrincipalId:      aws.String(userID),
		})
		if err == nil {
			started = out.AccountAssignmentDeletionStatus
		} else if apiCode(err) == "ConflictException" {
			if st, lerr := ic.pending(ctx, true, a, userID); lerr == nil && st != nil {
				started = st
				return nil
			}
		}
		return err
	})
	if apiCode(err) == "ResourceNotFoundException" {
		// Gone between the list and the delete, or the permission set is.
		release()
		if ok, lerr := ic.exists(ctx, a, userID); lerr == nil && !ok {
			return nil
		}
	}
	if err != nil {
		return ic.requestError(err, "delete assignment of %s to %s in %s", a.User, a.PermissionSetARN, a.AccountID)
	}
	st, err := ic.poll(ctx, started, func() (*ssotypes.AccountAssignmentOperationStatus, error) {
		return ic.describe(ctx, true, started.RequestId)
	})
	if err != nil {
		return fmt.Errorf("removal of %s from %s in %s: %w", a.User, a.PermissionSetARN, a.AccountID, err)
	}
	if st.Status == ssotypes.StatusValuesFailed {
		release()
		if ok, lerr := ic.exists(ctx, a, userID); lerr == nil && !ok {
			return nil
		}
		return broker.Errorf(broker.EINVALID, "Identity Center could not remove %s from %s in account %s: %s",
			a.User, a.PermissionSetARN, a.AccountID, failureReason(st.FailureReason))
	}
	return nil
}

// exists reports whether the user is assigned the permission set in the account.
func (ic *IdentityCenter) exists(ctx context.Context, a broker.Assignment, userID string) (bool, error) {
	p := ic.pace()
	in := &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn:      aws.String(ic.InstanceARN),
		AccountId:        aws.String(a.AccountID),
		PermissionSetArn: aws.String(a.PermissionSetARN),
		MaxResults:       aws.Int32(100),
	}
	for {
		var out *ssoadmin.ListAccountAssignmentsOutput
		err := p.call(ctx, func() (err error) {
			out, err = ic.SSOAdmin.ListAccountAssignments(ctx, in)
			return err
		})
		if err != nil {
			return false, ic.requestError(err, "list assignments of %s in %s", a.PermissionSetARN, a.AccountID)
		}
		for _, x := range out.AccountAssignments {
			if x.PrincipalType == ssotypes.PrincipalTypeUser && aws.ToString(x.PrincipalId) == userID {
				return true, nil
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return false, nil
		}
		in.NextToken = out.NextToken
	}
}

// pending finds an IN_PROGRESS creation (or, with deletion, deletion) of
// exactly a's assignment for userID: one whose request ID was lost, e.g.
// by a crash between the call and its record. It lists the instance's
// IN_PROGRESS operations and describes each; nil when there is none.
func (ic *IdentityCenter) pending(ctx context.Context, deletion bool, a broker.Assignment, userID string) (*ssotypes.AccountAssignmentOperationStatus, error) {
	filter := &ssotypes.OperationStatusFilter{Status: ssotypes.StatusValuesInProgress}
	var token *string
	for {
		var ids []*string
		if deletion {
			out, err := ic.SSOAdmin.ListAccountAssignmentDeletionStatus(ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{
				InstanceArn: aws.String(ic.InstanceARN), Filter: filter, NextToken: token})
			if err != nil {
				return nil, err
			}
			for _, m := range out.AccountAssignmentsDeletionStatus {
				ids = append(ids, m.RequestId)
			}
			token = out.NextToken
		} else {
			out, err := ic.SSOAdmin.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{
				InstanceArn: aws.String(ic.InstanceARN), Filter: filter, NextToken: token})
			if err != nil {
				return nil, err
			}
			for _, m := range out.AccountAssignmentsCreationStatus {
				ids = append(ids, m.RequestId)
			}
			token = out.NextToken
		}
		for _, id := range ids {
			st, err := ic.describe(ctx, deletion, id)
			if err != nil {
				return nil, err
			}
			if st != nil && st.Status == ssotypes.StatusValuesInProgress && aws.ToString(st.TargetId) == a.AccountID &&
				aws.ToString(st.PermissionSetArn) == a.PermissionSetARN && st.PrincipalType == ssotypes.PrincipalTypeUser &&
				aws.ToString(st.PrincipalId) == userID {
				return st, nil
			}
		}
		if aws.ToString(token) == "" {
			return nil, nil
		}
	}
}

// describe reads one assignment operation's status.
func (ic *IdentityCenter) describe(ctx context.Context, deletion bool, id *string) (*ssotypes.AccountAssignmentOperationStatus, error) {
	if deletion {
		o, err := ic.SSOAdmin.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
			InstanceArn: aws.String(ic.InstanceARN), AccountAssignmentDeletionRequestId: id})
		if err != nil {
			return nil, err
		}
		return o.AccountAssignmentDeletionStatus, nil
	}
	o, err := ic.SSOAdmin.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: aws.String(ic.InstanceARN), AccountAssignmentCreationRequestId: id})
	if err != nil {
		return nil, err
	}
	return o.AccountAssignmentCreationStatus, nil
}

// poll describes an assignment operation until it is no longer IN_PROGRESS.
func (ic *IdentityCenter) poll(ctx context.Context, st *ssotypes.AccountAssignmentOperationStatus, describe func() (*ssotypes.AccountAssignmentOperationStatus, error)) (*ssotypes.AccountAssignmentOperationStatus, error) {
	if st == nil || aws.ToString(st.RequestId) == "" {
		return nil, errors.New("no request id in the answer of Identity Center")
	}
	return poll(ctx, ic.pace(), st, func(st *ssotypes.AccountAssignmentOperationStatus) bool {
		return st != nil && (st.Status == ssotypes.StatusValuesSucceeded || st.Status == ssotypes.StatusValuesFailed)
	}, describe)
}

// requestError translates the errors of a request that retries could not
// fix into broker codes where the user can act on them.
func (ic *IdentityCenter) requestError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	switch apiCode(err) {
	case "ResourceNotFoundException":
		return broker.Errorf(broker.ENOTFOUND, "%s: Identity Center does not know the instance, permission set or account", what)
	case "ValidationException":
		return broker.Errorf(broker.EINVALID, "%s: Identity Center refused the request", what)
	case "ServiceQuotaExceededException":
		return broker.Errorf(broker.EUNAVAILABLE, "%s: an Identity Center quota is exhausted", what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// timedOut turns the end of the operation's own deadline into
// EUNAVAILABLE; parent is the caller's context, whose own end is returned
// as it is.
func (ic *IdentityCenter) timedOut(parent context.Context, err error, format string, args ...any) error {
	if err != nil && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return broker.Errorf(broker.EUNAVAILABLE, "%s not done after %s; try again later", fmt.Sprintf(format, args...), ic.timeout())
	}
	return err
}

func (ic *IdentityCenter) check() error {
	if ic.SSOAdmin == nil || ic.InstanceARN == "" {
		return errors.New("federation: IdentityCenter needs SSOAdmin and InstanceARN")
	}
	return nil
}

func (ic *IdentityCenter) pace() pace { return newPace(ic.Limiter, ic.PollInterval) }

func (ic *IdentityCenter) limiter() Limiter { return ic.pace().limiter }

func (ic *IdentityCenter) now() time.Time {
	if ic.Clock == nil {
		return time.Now()
	}
	return ic.Clock.Now()
}

func (ic *IdentityCenter) userCacheTTL() time.Duration {
	if ic.UserCacheTTL <= 0 {
		return time.Hour
	}
	return ic.UserCacheTTL
}

func (ic *IdentityCenter) timeout() time.Duration {
	if ic.Timeout <= 0 {
		return defaultAssignTimeout
	}
	return ic.Timeout
}

func failureReason(r *string) string {
	if s := aws.ToString(r); s != "" {
		return s
	}
	return "no reason given"
}
