package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestRecordActions shows the sandbox recording each action it serves,
// by principal, with the trust-side actions an AssumeRole implies, into
// its set and into the file named by ActionsFileEnv.
func TestRecordActions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "actions.tsv")
	t.Setenv(ActionsFileEnv, file)
	e := newEnv(t, DemoFixture())
	out := ticketSession(t, e, stagingRO, "t1", "alice", nil)
	// A call the session's policy denies is recorded too.
	if _, err := e.session(out.Credentials).iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{
		RoleName: aws.String("ReadOnlyAccess"), PolicyName: aws.String("ReadOnlyAccess")}); err == nil {
		t.Fatal("DeleteRolePolicy with ReadOnlyAccess succeeded")
	}
	ticketSession(t, e, stagingRO, "t2", "bob", nil) // the same actions again

	want := []RecordedAction{
		{"role/ReadOnlyAccess", "iam:DeleteRolePolicy"},
		{"user/jit-broker", "sts:AssumeRole"},
		{"user/jit-broker", "sts:SetSourceIdentity"},
		{"user/jit-broker", "sts:TagSession"},
	}
	if got := e.sb.Actions(); !slices.Equal(got, want) {
		t.Errorf("Actions() = %v, want %v", got, want)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	slices.Sort(lines)
	var wantLines []string
	for _, a := range want {
		wantLines = append(wantLines, a.Principal+"\t"+a.Action)
	}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("%s holds %q, want %q (each once)", ActionsFileEnv, lines, wantLines)
	}
}
