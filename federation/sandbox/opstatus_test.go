package sandbox

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// TestListAssignmentOperationStatus recovers request IDs from
// ListAccountAssignmentCreationStatus / DeletionStatus, with the status
// filter and paging, through the SDK and the AWS CLI.
func TestListAssignmentOperationStatus(t *testing.T) {
	e := newICEnv(t, DemoFixture(), Options{})
	ro := e.permSetARN(t, "ReadOnlyAccess")
	alice := e.userID(t, "alice")
	var created []string
	for _, acct := range []string{devAccount, "222222222222", prodAccount} {
		out, err := e.admin.CreateAccountAssignment(ctx, assignmentInput(e.inst, acct, ro, ssotypes.PrincipalTypeUser, alice))
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, aws.ToString(out.AccountAssignmentCreationStatus.RequestId))
		e.clock.Add(1)
	}
	type row struct{ id, status string }
	listCreation := func(status ssotypes.StatusValues, max int32) []row {
		t.Helper()
		in := &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst), MaxResults: aws.Int32(max)}
		if status != "" {
			in.Filter = &ssotypes.OperationStatusFilter{Status: status}
		}
		var rows []row
		p := ssoadmin.NewListAccountAssignmentCreationStatusPaginator(e.admin, in)
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, m := range out.AccountAssignmentsCreationStatus {
				if m.CreatedDate == nil {
					t.Errorf("no CreatedDate in %+v", m)
				}
				rows = append(rows, row{aws.ToString(m.RequestId), string(m.Status)})
			}
		}
		if want := (len(rows) + int(max) - 1) / int(max); pages != max1(want) {
			t.Errorf("%d pages for %d rows of %d, want %d", pages, len(rows), max, want)
		}
		return rows
	}
	want := []row{{created[0], "IN_PROGRESS"}, {created[1], "IN_PROGRESS"}, {created[2], "IN_PROGRESS"}}
	if got := listCreation("", 2); !slices.Equal(got, want) {
		t.Errorf("creation status = %v, want %v", got, want)
	}
	if got := listCreation(ssotypes.StatusValuesSucceeded, 1); len(got) != 0 {
		t.Errorf("SUCCEEDED while all are IN_PROGRESS: %v", got)
	}
	// Nobody polls: the operations finish on their own time.
	e.clock.Add(selfSettle)
	if got := listCreation(ssotypes.StatusValuesSucceeded, 1); len(got) != 3 {
		t.Errorf("SUCCEEDED after their time = %v, want all three", got)
	}
	// A deletion is listed by the deletion status only.
	del, err := e.admin.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: aws.String(e.inst), TargetId: aws.String(devAccount),
		TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: aws.String(ro), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(alice)})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := e.admin.ListAccountAssignmentDeletionStatus(ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: aws.String(e.inst),
		Filter: &ssotypes.OperationStatusFilter{Status: ssotypes.StatusValuesInProgress}})
	if err != nil || len(dl.AccountAssignmentsDeletionStatus) != 1 || aws.ToString(dl.AccountAssignmentsDeletionStatus[0].RequestId) != aws.ToString(del.AccountAssignmentDeletionStatus.RequestId) {
		t.Fatalf("deletion status = %+v, %v", dl, err)
	}
	if got := listCreation("", 100); len(got) != 3 {
		t.Errorf("creation status after a deletion = %v", got)
	}

	// Tokens are bound to their request: one from a filtered list, or a
	// forged one, is refused.
	first, err := e.admin.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	for name, tok := range map[string]string{"other filter": aws.ToString(first.NextToken), "forged": "YWNjb3VudHM6Mg=="} {
		_, err := e.admin.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst),
			NextToken: aws.String(tok), Filter: &ssotypes.OperationStatusFilter{Status: ssotypes.StatusValuesSucceeded}})
		if name == "forged" {
			_, err = e.admin.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst), NextToken: aws.String(tok)})
		}
		wantAPIError(t, err, "ValidationException", "")
	}
	_, err = e.admin.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.inst), MaxResults: aws.Int32(101)})
	wantAPIError(t, err, "ValidationException", "")

	// The AWS CLI reads the same shapes.
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skip("AWS CLI not installed at " + awsCLI)
	}
	out, err := runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "sso-admin", "list-account-assignment-creation-status",
		"--instance-arn", e.inst, "--filter", "Status=SUCCEEDED")
	var cli struct {
		AccountAssignmentsCreationStatus []struct{ Status, RequestId string }
	}
	if err != nil || json.Unmarshal([]byte(out), &cli) != nil || len(cli.AccountAssignmentsCreationStatus) != 3 || cli.AccountAssignmentsCreationStatus[0].RequestId != created[0] {
		t.Errorf("list-account-assignment-creation-status: %v\n%s", err, out)
	}
	out, err = runCLI(t, e.env, DemoBrokerAccessKeyID, DemoBrokerSecretAccessKey, "", "sso-admin", "list-account-assignment-deletion-status",
		"--instance-arn", e.inst, "--max-results", "1")
	if err != nil || !strings.Contains(out, aws.ToString(del.AccountAssignmentDeletionStatus.RequestId)) {
		t.Errorf("list-account-assignment-deletion-status: %v\n%s", err, out)
	}
}

func max1(n int) int { return max(n, 1) }
