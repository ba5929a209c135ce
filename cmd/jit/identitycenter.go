package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/federation"
)

// IdentityCenterConfig says which IAM Identity Center instance JIT grants
// through, for permission sets with grant path identity_center or both.
type IdentityCenterConfig struct {
	InstanceARN     string `yaml:"instance_arn"`
	IdentityStoreID string `yaml:"identity_store_id"`
	// RequestsPerSecond and Outstanding pace JIT's Identity Center calls
	// across all JIT processes (in Redis); defaults 20 and 10 (AWS's
	// documented limits).
	RequestsPerSecond int `yaml:"requests_per_second"`
	Outstanding       int `yaml:"outstanding"`
	// PollInterval is the first wait between status polls; default 1s.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// identityCenter is the Identity Center path, wired.
type identityCenter struct {
	assigner *federation.IdentityCenter
	portal   *federation.PortalDeny
	lister   *federation.AssignmentLister
}

// newIdentityCenter builds the Identity Center clients, or returns nil
// when no instance is configured.
// limiter paces calls across every JIT process (federation.Limiter).
func newIdentityCenter(awsCfg aws.Config, c AWSConfig, locker broker.Locker, limiter federation.Limiter) *identityCenter {
	ic := c.IdentityCenter
	if ic.InstanceARN == "" {
		return nil
	}
	sso := ssoadmin.NewFromConfig(awsCfg, func(o *ssoadmin.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	store := identitystore.NewFromConfig(awsCfg, func(o *identitystore.Options) {
		if c.Endpoint != "" {
			o.BaseEndpoint = aws.String(c.Endpoint)
		}
	})
	assigner := &federation.IdentityCenter{SSOAdmin: sso, IdentityStore: store, InstanceARN: ic.InstanceARN, IdentityStoreID: ic.IdentityStoreID, Limiter: limiter, PollInterval: ic.PollInterval}
	return &identityCenter{
		assigner: assigner,
		portal:   &federation.PortalDeny{SSOAdmin: sso, Users: assigner, InstanceARN: ic.InstanceARN, Locker: locker, Limiter: limiter, PollInterval: ic.PollInterval},
		lister:   &federation.AssignmentLister{SSOAdmin: sso, Users: store, InstanceARN: ic.InstanceARN, IdentityStoreID: ic.IdentityStoreID},
	}
}

// chainGuard is the Identity Center assigner JIT uses: before it assigns
// a permission set, the permission set's inline policy denies role
// chaining to its sessions (federation.PortalDeny's DenyChaining). A session chained from a portal session would lose
// identitystore:userId, which the portal cut matches, and so outlive the
// ticket (docs/revocation.md).
type chainGuard struct {
	broker.Assigner
	portal *federation.PortalDeny
}

// Assign makes sure the permission set denies role chaining, then
// assigns it.
func (g chainGuard) Assign(ctx context.Context, a broker.Assignment) error {
	if err := g.portal.DenyChaining(ctx, a.PermissionSetARN, a.AccountID); err != nil {
		return err
	}
	return g.Assigner.Assign(ctx, a)
}
