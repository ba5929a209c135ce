package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

func TestOrganizationsConformance(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	member := assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/AdministratorAccess"),
		RoleSessionName: aws.String("member")}).Credentials
	_, _, memberOrg := e.icClients(aws.ToString(member.AccessKeyId), aws.ToString(member.SecretAccessKey), aws.ToString(member.SessionToken))
	pu := assume(t, e.broker(), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/PowerUserAccess"),
		RoleSessionName: aws.String("pu")}).Credentials
	_, _, puOrg := e.icClients(aws.ToString(pu.AccessKeyId), aws.ToString(pu.SecretAccessKey), aws.ToString(pu.SessionToken))

	tests := []struct {
		name     string
		call     func() error
		code     string
		contains string
		reason   orgtypes.InvalidInputExceptionReason
	}{
		{"ListAccounts first page is empty", func() error {
			out, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
			if err == nil && (len(out.Accounts) != 0 || out.NextToken == nil) {
				return fmt.Errorf("first page = %d accounts, token %v", len(out.Accounts), out.NextToken)
			}
			return err
		}, "", "", ""},
		{"ListAccounts paginator keeps paging", func() error {
			var ids []string
			pages := 0
			p := organizations.NewListAccountsPaginator(e.org, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				pages++
				for _, a := range out.Accounts {
					ids = append(ids, aws.ToString(a.Id))
					if a.State != orgtypes.AccountStateActive || a.Status != orgtypes.AccountStatusActive || a.JoinedTimestamp == nil ||
						!strings.HasPrefix(aws.ToString(a.Arn), "arn:aws:organizations::111111111111:account/o-") || !strings.Contains(aws.ToString(a.Email), "@") {
						return fmt.Errorf("account %+v", a)
					}
				}
			}
			if strings.Join(ids, ",") != "111111111111,222222222222,333333333333" || pages != 3 {
				return fmt.Errorf("accounts %v in %d pages", ids, pages)
			}
			return nil
		}, "", "", ""},
		{"ListAccounts MaxResults 21", func() error {
			_, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
			return err
		}, "InvalidInputException", "maximum", orgtypes.InvalidInputExceptionReasonMaxValueExceeded},
		{"ListAccounts bad token", func() error {
			_, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("garbage")})
			return err
		}, "InvalidInputException", "nextToken", orgtypes.InvalidInputExceptionReasonInvalidPaginationToken},
		{"ListAccounts member account", func() error {
			_, err := memberOrg.ListAccounts(ctx, &organizations.ListAccountsInput{})
			return err
		}, "AccessDeniedException", "You don't have permissions to access this resource.", ""},
		{"ListAccounts denied by policy", func() error {
			_, err := puOrg.ListAccounts(ctx, &organizations.ListAccountsInput{})
			return err
		}, "AccessDeniedException", "organizations:ListAccounts on resource: * because no identity-based policy allows", ""},
		{"DescribeAccount", func() error {
			out, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")})
			if err == nil && (aws.ToString(out.Account.Name) != "staging" || aws.ToString(out.Account.Email) != "aws+222222222222@example.com") {
				return fmt.Errorf("DescribeAccount = %+v", out.Account)
			}
			return err
		}, "", "", ""},
		{"DescribeAccount unknown", func() error {
			_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException", "You specified an account that doesn't exist.", ""},
		{"DescribeAccount malformed", func() error {
			_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
			return err
		}, "InvalidInputException", "pattern", orgtypes.InvalidInputExceptionReasonInvalidPattern},
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
			var iie *orgtypes.InvalidInputException
			if tt.reason != "" && asErr(err, &iie) && iie.Reason != tt.reason {
				t.Errorf("Reason = %s, want %s", iie.Reason, tt.reason)
			}
		})
	}
}

// TestOrganizationsCLI lists accounts with the real AWS CLI, which must
// page through the empty first page.
func TestOrganizationsCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	e := newICEnv(t, DemoFixture(), Options{})
	out, err := runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "organizations", "list-accounts")
	if err != nil {
		t.Fatalf("organizations list-accounts: %v\n%s", err, out)
	}
	// CLI v2.9 predates the State member: check Status.
	var got struct {
		Accounts []struct{ Id, Name, Status string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Accounts) != 3 || got.Accounts[2].Name != "prod" || got.Accounts[0].Status != "ACTIVE" {
		t.Errorf("list-accounts = %s (%v)", out, err)
	}
	out, err = runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "organizations", "describe-account", "--account-id", "999999999999")
	if err == nil || !strings.Contains(out, "AccountNotFoundException") {
		t.Errorf("describe-account unknown: %v\n%s", err, out)
	}
}
