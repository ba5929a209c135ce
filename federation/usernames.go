package federation

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

// UserNamesAPI is the Identity Store calls UserNames makes.
type UserNamesAPI interface {
	UserIDAPI
	DescribeUserAPI
}

// UserNames resolves a user's email to their Identity Center user name,
// which is the CloudTrail Username of their portal sessions.
type UserNames struct {
	Store           UserNamesAPI
	IdentityStoreID string
}

// UserName returns the user name of the user with that email.
func (n *UserNames) UserName(ctx context.Context, email string) (string, error) {
	id, err := n.Store.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(n.IdentityStoreID),
		AlternateIdentifier: &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{
			AttributePath: aws.String("emails.value"), AttributeValue: document.NewLazyDocument(email)}}})
	if err != nil {
		return "", fmt.Errorf("user id of %s: %w", email, err)
	}
	u, err := n.Store.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(n.IdentityStoreID), UserId: id.UserId})
	if err != nil {
		return "", fmt.Errorf("describe user %s: %w", email, err)
	}
	return aws.ToString(u.UserName), nil
}
