package federation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/jitaccess/jit/broker"
)

// DescribeUserAPI is the Identity Store call AssignmentLister makes.
type DescribeUserAPI interface {
	DescribeUser(ctx context.Context, in *identitystore.DescribeUserInput, optFns ...func(*identitystore.Options)) (*identitystore.DescribeUserOutput, error)
}

// AssignmentLister lists the user assignments of a permission set in an
// account, with each user's primary email, for the reconciler. Group
// assignments are administrators' business and are not listed.
type AssignmentLister struct {
	SSOAdmin        AssignmentAPI
	Users           DescribeUserAPI
	InstanceARN     string
	IdentityStoreID string
}

var _ broker.AssignmentLister = (*AssignmentLister)(nil)

// ListAssignments pages through ListAccountAssignments.
func (l *AssignmentLister) ListAssignments(ctx context.Context, accountID, permissionSetARN string) ([]broker.Assignment, error) {
	var out []broker.Assignment
	var next *string
	for {
		page, err := l.SSOAdmin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{
			InstanceArn: aws.String(l.InstanceARN), AccountId: aws.String(accountID), PermissionSetArn: aws.String(permissionSetARN), NextToken: next,
		})
		if err != nil {
			return nil, fmt.Errorf("list assignments in %s: %w", accountID, err)
		}
		for _, a := range page.AccountAssignments {
			if a.PrincipalType != ssotypes.PrincipalTypeUser {
				continue
			}
			u, err := l.Users.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(l.IdentityStoreID), UserId: a.PrincipalId})
			if err != nil {
				return nil, fmt.Errorf("describe user %s: %w", aws.ToString(a.PrincipalId), err)
			}
			email := ""
			for _, e := range u.Emails {
				if email == "" || e.Primary {
					email = aws.ToString(e.Value)
				}
			}
			out = append(out, broker.Assignment{AccountID: accountID, PermissionSetARN: permissionSetARN, User: strings.ToLower(email)})
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return out, nil
		}
		next = page.NextToken
	}
}
