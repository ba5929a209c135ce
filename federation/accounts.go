package federation

import (
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// IAMClients returns IAM clients per account. With a management role, the
// client for an account uses a session of that role in that account
// (cached and refreshed by the SDK); without one, every account gets the
// broker's own credentials, which suits a single-account setup.
type IAMClients struct {
	Config aws.Config
	// STS is the client the broker assumes the management role with.
	STS stscreds.AssumeRoleAPIClient
	// ManagementRole is the role name JIT assumes in each account; "" means none.
	ManagementRole string
	Partition      string
	// Endpoint overrides IAM's endpoint (the AWS sandbox).
	Endpoint string

	mu      sync.Mutex
	clients map[string]*iam.Client
}

// For returns the IAM client for an account.
func (c *IAMClients) For(accountID string) RolePolicyAPI { return c.client(accountID) }

// Reader returns the IAM client for an account, for Grants.
func (c *IAMClients) Reader(accountID string) PolicyReadAPI { return c.client(accountID) }

func (c *IAMClients) client(accountID string) *iam.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.clients[accountID]; ok {
		return cl
	}
	cfg := c.Config.Copy()
	if c.ManagementRole != "" {
		partition := c.Partition
		if partition == "" {
			partition = "aws"
		}
		arn := RoleARN(partition, accountID, c.ManagementRole)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(c.STS, arn, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = fmt.Sprintf("jit-broker-%s", accountID)
		}))
	}
	cl := iam.NewFromConfig(cfg, func(o *iam.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	if c.clients == nil {
		c.clients = map[string]*iam.Client{}
	}
	c.clients[accountID] = cl
	return cl
}
