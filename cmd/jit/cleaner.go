package main

import (
	"context"

	"github.com/jitaccess/jit/federation"
)

// cleaner joins the role and portal pruners into a broker.Cleaner.
type cleaner struct {
	role   *federation.Revoker
	portal *federation.PortalDeny // nil without Identity Center
}

func (c cleaner) PruneRole(ctx context.Context, accountID, roleName string) (int, error) {
	return c.role.PruneRole(ctx, accountID, roleName)
}

func (c cleaner) PrunePortal(ctx context.Context, accountID, permissionSetARN string) (int, error) {
	if c.portal == nil {
		return 0, nil
	}
	return c.portal.Prune(ctx, permissionSetARN, accountID)
}
