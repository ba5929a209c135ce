package federation_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/google/go-cmp/cmp"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
	"github.com/jitaccess/jit/federation/sandbox"
)

// newSandboxImporter returns an importer whose real SDK clients talk to a
// demo sandbox, which answers ListAccounts with an empty first page.
func newSandboxImporter(t *testing.T) *federation.Importer {
	t.Helper()
	sb, err := sandbox.New(sandbox.DemoFixture(), sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(sandbox.DemoBrokerAccessKeyID, sandbox.DemoBrokerSecretAccessKey, "")}
	return &federation.Importer{
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		SSOAdmin:      ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
	}
}

func TestImporterAgainstSandbox(t *testing.T) {
	imp := newSandboxImporter(t)
	ctx := context.Background()
	accounts, err := imp.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []broker.Account{{ID: "111111111111", Name: "dev"}, {ID: "222222222222", Name: "staging"}, {ID: "333333333333", Name: "prod"}}
	if diff := cmp.Diff(want, accounts); diff != "" {
		t.Errorf("Accounts through an empty first page (-want +got):\n%s", diff)
	}
	sets, err := imp.PermissionSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range sets {
		names = append(names, p.Name)
		if !strings.HasPrefix(p.ARN, "arn:aws:sso:::permissionSet/ssoins-") || p.SessionDuration <= 0 {
			t.Errorf("permission set %s: ARN %q, session duration %s", p.Name, p.ARN, p.SessionDuration)
		}
	}
	for _, n := range []string{"ReadOnlyAccess", "PowerUserAccess", "AdministratorAccess"} {
		if !strings.Contains(strings.Join(names, ","), n) {
			t.Errorf("permission sets %v lack %s", names, n)
		}
	}
}
