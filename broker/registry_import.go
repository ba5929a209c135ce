package broker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ImportedPermissionSet is a permission set as IAM Identity Center
// describes it.
type ImportedPermissionSet struct {
	Name        string
	ARN         string
	Description string
	// SessionDuration is how long Identity Center's own sessions last; zero
	// when it does not say.
	SessionDuration time.Duration
}

// RegistryImporter reads what exists in AWS, for the import use cases.
type RegistryImporter interface {
	// Accounts returns the organization's active accounts.
	Accounts(ctx context.Context) ([]Account, error)
	// PermissionSets returns Identity Center's permission sets.
	PermissionSets(ctx context.Context) ([]ImportedPermissionSet, error)
}

// ImportAccountsInput says which accounts of the organization to register.
type ImportAccountsInput struct {
	// AccountIDs limits the import to these accounts; empty means all.
	AccountIDs []string
	DryRun     bool
}

// ImportPermissionSetsInput says which Identity Center permission sets to
// register and with what settings. Permission sets already registered keep
// their settings; only their ARN is brought up to date.
type ImportPermissionSetsInput struct {
	// Names limits the import to these permission sets; empty means all.
	Names []string
	// MaxDuration for new permission sets; default their Identity Center
	// session duration (or 1h when it has none).
	MaxDuration time.Duration
	// GrantPath for new permission sets; default identity_center. For role
	// and both, the role name is the permission set's name.
	GrantPath GrantPath
	// NoApproval registers new permission sets as not needing approval.
	NoApproval bool
	// Scope of new permission sets; empty means nobody may request them yet.
	Scope  Scope
	DryRun bool
}

func (s *Service) importer() (RegistryImporter, error) {
	if s.cfg.Importer == nil {
		return nil, Errorf(EUNAVAILABLE, "import from AWS is not configured")
	}
	return s.cfg.Importer, nil
}

// ImportAccounts registers the organization's accounts that are not
// registered yet, named as in AWS Organizations. Registered accounts keep
// their names. Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID, ENOTFOUND
// (an asked-for account is not an active account of the organization).
func (s *Service) ImportAccounts(ctx context.Context, in ImportAccountsInput) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	imp, err := s.importer()
	if err != nil {
		return ApplyResult{}, err
	}
	found, err := imp.Accounts(ctx)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("list organization accounts: %w", err)
	}
	for _, id := range in.AccountIDs {
		if !slices.ContainsFunc(found, func(a Account) bool { return a.ID == id }) {
			return ApplyResult{}, Errorf(ENOTFOUND, "account %s is not an active account of the organization", id)
		}
	}
	var warnings []string
	res, err := s.change(ctx, 0, in.DryRun, true, func(r *RegistryData) error {
		warnings = nil
		names := map[string]bool{}
		for _, a := range r.Accounts {
			names[a.Name] = true
		}
		for _, a := range found {
			if len(in.AccountIDs) > 0 && !slices.Contains(in.AccountIDs, a.ID) {
				continue
			}
			if _, ok := r.FindAccount(a.ID); ok {
				continue
			}
			if a.Name == "" || names[a.Name] {
				name := strings.TrimSpace(a.Name + " " + a.ID)
				warnings = append(warnings, fmt.Sprintf("account %s: name %q is taken; registered as %q", a.ID, a.Name, name))
				a.Name = name
			}
			names[a.Name] = true
			r.Accounts = append(r.Accounts, a)
		}
		return nil
	})
	res.Warnings = warnings
	return res, err
}

// ImportPermissionSets registers Identity Center's permission sets. It warns
// when a permission set's max_duration exceeds its Identity Center session
// duration. Errors: EUNAUTHENTICATED, EFORBIDDEN, EINVALID, ENOTFOUND (an
// asked-for permission set does not exist in Identity Center).
func (s *Service) ImportPermissionSets(ctx context.Context, in ImportPermissionSetsInput) (ApplyResult, error) {
	if _, err := s.admin(ctx); err != nil {
		return ApplyResult{}, err
	}
	imp, err := s.importer()
	if err != nil {
		return ApplyResult{}, err
	}
	if in.MaxDuration < 0 {
		return ApplyResult{}, Errorf(EINVALID, "max_duration must be positive")
	}
	found, err := imp.PermissionSets(ctx)
	if err != nil {
		return ApplyResult{}, fmt.Errorf("list permission sets: %w", err)
	}
	for _, n := range in.Names {
		if !slices.ContainsFunc(found, func(p ImportedPermissionSet) bool { return p.Name == n }) {
			return ApplyResult{}, Errorf(ENOTFOUND, "permission set %s does not exist in Identity Center", n)
		}
	}
	path := in.GrantPath
	if path == "" {
		path = GrantIdentityCenter
	}
	var warnings []string
	res, err := s.change(ctx, 0, in.DryRun, true, func(r *RegistryData) error {
		warnings = nil
		for _, f := range found {
			if len(in.Names) > 0 && !slices.Contains(in.Names, f.Name) {
				continue
			}
			i := slices.IndexFunc(r.PermissionSets, func(p PermissionSet) bool { return p.Name == f.Name })
			if i >= 0 {
				r.PermissionSets[i].ARN = f.ARN
			} else {
				p := PermissionSet{
					Name:             f.Name,
					ARN:              f.ARN,
					MaxDuration:      in.MaxDuration,
					ApprovalRequired: !in.NoApproval,
					GrantPath:        path,
					Scope:            Scope{Accounts: slices.Clone(in.Scope.Accounts), RequesterGroups: slices.Clone(in.Scope.RequesterGroups)},
				}
				if p.MaxDuration == 0 {
					p.MaxDuration = f.SessionDuration
				}
				if p.MaxDuration == 0 {
					p.MaxDuration = time.Hour
				}
				if path == GrantRole || path == GrantBoth {
					p.RoleName = f.Name
				}
				r.PermissionSets = append(r.PermissionSets, p)
				i = len(r.PermissionSets) - 1
			}
			if p := r.PermissionSets[i]; f.SessionDuration > 0 && p.MaxDuration > f.SessionDuration && usesIdentityCenter(p) {
				warnings = append(warnings, fmt.Sprintf("permission set %s: max_duration %s exceeds its Identity Center session duration %s; portal sessions end sooner",
					p.Name, FormatDuration(p.MaxDuration), FormatDuration(f.SessionDuration)))
			}
		}
		return nil
	})
	res.Warnings = warnings
	return res, err
}
