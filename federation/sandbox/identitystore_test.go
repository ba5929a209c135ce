package sandbox

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

func getUserIDInput(store, path, value string) *identitystore.GetUserIdInput {
	return &identitystore.GetUserIdInput{
		IdentityStoreId: aws.String(store),
		AlternateIdentifier: &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{
			AttributePath: aws.String(path), AttributeValue: document.NewLazyDocument(value),
		}},
	}
}

func TestIdentityStoreConformance(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	alice := e.userID(t, "alice")
	roSession := ticketSession(t, e.env, devReadOnly, "t1", "alice", nil).Credentials
	_, roIDs, _ := e.icClients(aws.ToString(roSession.AccessKeyId), aws.ToString(roSession.SecretAccessKey), aws.ToString(roSession.SessionToken))
	const unknownUser = "9067000001-00000000-0000-4000-a000-000000000000"

	tests := []struct {
		name     string
		call     func() error
		code     string
		contains string
	}{
		{"GetUserId by email", func() error {
			out, err := e.ids.GetUserId(ctx, getUserIDInput(e.store, "emails.value", "alice@example.com"))
			if err == nil && (aws.ToString(out.UserId) != alice || aws.ToString(out.IdentityStoreId) != e.store) {
				return fmt.Errorf("GetUserId = %+v, want %s", out, alice)
			}
			return err
		}, "", ""},
		{"GetUserId ids are distinct and well-formed", func() error {
			bob := e.userID(t, "bob")
			if bob == alice || !principalIDRe.MatchString(bob) || !strings.HasPrefix(bob, "9067000001-") {
				return fmt.Errorf("ids %s %s", alice, bob)
			}
			return nil
		}, "", ""},
		{"GetUserId unknown user", func() error {
			_, err := e.ids.GetUserId(ctx, getUserIDInput(e.store, "userName", "mallory"))
			var rnf *idtypes.ResourceNotFoundException
			if err != nil && asErr(err, &rnf) && rnf.ResourceType != idtypes.ResourceTypeUser {
				return fmt.Errorf("ResourceType = %s", rnf.ResourceType)
			}
			return err
		}, "ResourceNotFoundException", "USER"},
		{"GetUserId case differs", func() error {
			_, err := e.ids.GetUserId(ctx, getUserIDInput(e.store, "userName", "Alice"))
			return err
		}, "ResourceNotFoundException", ""},
		{"GetUserId unsupported path", func() error {
			_, err := e.ids.GetUserId(ctx, getUserIDInput(e.store, "displayName", "Alice Example"))
			return err
		}, "ValidationException", "displayName"},
		{"GetUserId value not a string", func() error {
			in := getUserIDInput(e.store, "userName", "")
			in.AlternateIdentifier = &idtypes.AlternateIdentifierMemberUniqueAttribute{Value: idtypes.UniqueAttribute{
				AttributePath: aws.String("userName"), AttributeValue: document.NewLazyDocument(42)}}
			_, err := e.ids.GetUserId(ctx, in)
			return err
		}, "ValidationException", "string"},
		{"GetUserId ExternalId", func() error {
			_, err := e.ids.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(e.store),
				AlternateIdentifier: &idtypes.AlternateIdentifierMemberExternalId{Value: idtypes.ExternalId{Issuer: aws.String("okta"), Id: aws.String("1")}}})
			return err
		}, "ValidationException", "ExternalId"},
		{"GetUserId bad store id", func() error {
			_, err := e.ids.GetUserId(ctx, getUserIDInput("store-1", "userName", "alice"))
			return err
		}, "ValidationException", "Value 'store-1' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"GetUserId unknown store", func() error {
			_, err := e.ids.GetUserId(ctx, getUserIDInput("d-0000000000", "userName", "alice"))
			return err
		}, "ResourceNotFoundException", "d-0000000000"},
		{"GetUserId denied by policy", func() error {
			_, err := roIDs.GetUserId(ctx, getUserIDInput(e.store, "userName", "alice"))
			return err
		}, "AccessDeniedException", "identitystore:GetUserId on resource: arn:aws:identitystore::111111111111:identitystore/" + e.store},
		{"DescribeUser", func() error {
			out, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.store), UserId: aws.String(alice)})
			if err == nil && (aws.ToString(out.UserName) != "alice" || aws.ToString(out.DisplayName) != "Alice Example" ||
				len(out.Emails) != 1 || aws.ToString(out.Emails[0].Value) != "alice@example.com" || !out.Emails[0].Primary) {
				return fmt.Errorf("DescribeUser = %+v", out)
			}
			return err
		}, "", ""},
		{"DescribeUser unknown", func() error {
			_, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.store), UserId: aws.String(unknownUser)})
			return err
		}, "ResourceNotFoundException", ""},
		{"DescribeUser malformed id", func() error {
			_, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.store), UserId: aws.String("alice")})
			return err
		}, "ValidationException", "at 'userId'"},
		{"ListGroupMembershipsForMember", func() error {
			var groups []string
			p := identitystore.NewListGroupMembershipsForMemberPaginator(e.ids, &identitystore.ListGroupMembershipsForMemberInput{
				IdentityStoreId: aws.String(e.store), MemberId: &idtypes.MemberIdMemberUserId{Value: e.userID(t, "dave")}, MaxResults: aws.Int32(1)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				for _, m := range out.GroupMemberships {
					groups = append(groups, aws.ToString(m.GroupId))
				}
			}
			if len(groups) != 1 || groups[0] != e.sb.ic.instance.groups[0].id {
				return fmt.Errorf("dave's groups = %v", groups)
			}
			return nil
		}, "", ""},
		{"ListGroupMembershipsForMember unknown user", func() error {
			_, err := e.ids.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{
				IdentityStoreId: aws.String(e.store), MemberId: &idtypes.MemberIdMemberUserId{Value: unknownUser}})
			return err
		}, "ResourceNotFoundException", ""},
		{"ListGroupMembershipsForMember MaxResults 0", func() error {
			_, err := e.ids.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{
				IdentityStoreId: aws.String(e.store), MemberId: &idtypes.MemberIdMemberUserId{Value: alice}, MaxResults: aws.Int32(0)})
			return err
		}, "ValidationException", "at 'maxResults'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error, want %s", tt.code)
			}
			code, msg := apiCode(t, err)
			if code != tt.code || !strings.Contains(msg, tt.contains) {
				t.Errorf("got %s %q, want %s containing %q", code, msg, tt.code, tt.contains)
			}
		})
	}
}
