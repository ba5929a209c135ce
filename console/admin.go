package console

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// AdminService is the part of broker.Service the registry routes call. The
// API serves those routes when Config.Service also implements it, as
// broker.Service does. Every method takes the caller from the context;
// changes need an administrator (EFORBIDDEN otherwise).
type AdminService interface {
	// Registry returns the whole registry with its version. EUNAUTHENTICATED, EFORBIDDEN.
	Registry(ctx context.Context) (broker.RegistryVersion, error)
	// ApplyRegistry replaces the registry. EUNAUTHENTICATED, EFORBIDDEN, EINVALID, ECONFLICT.
	ApplyRegistry(ctx context.Context, in broker.ApplyInput) (broker.ApplyResult, error)
	// Accounts lists the accounts. EUNAUTHENTICATED.
	Accounts(ctx context.Context) ([]broker.Account, error)
	// RegisterAccount adds or renames an account. EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	RegisterAccount(ctx context.Context, a broker.Account) (broker.ApplyResult, error)
	// UnregisterAccount removes an account. EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND, ECONFLICT, EINVALID.
	UnregisterAccount(ctx context.Context, id string, force bool) (broker.UnregisterResult, error)
	// ImportAccounts registers the organization's accounts. EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND, EUNAVAILABLE.
	ImportAccounts(ctx context.Context, in broker.ImportAccountsInput) (broker.ApplyResult, error)
	// PermissionSets lists the permission sets. EUNAUTHENTICATED.
	PermissionSets(ctx context.Context) ([]broker.PermissionSet, error)
	// RegisterPermissionSet adds or replaces a permission set. EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	RegisterPermissionSet(ctx context.Context, p broker.PermissionSet) (broker.ApplyResult, error)
	// UnregisterPermissionSet removes a permission set. As UnregisterAccount.
	UnregisterPermissionSet(ctx context.Context, name string, force bool) (broker.UnregisterResult, error)
	// ImportPermissionSets registers Identity Center's permission sets. As ImportAccounts.
	ImportPermissionSets(ctx context.Context, in broker.ImportPermissionSetsInput) (broker.ApplyResult, error)
	// PermissionSetGroups lists the groups. EUNAUTHENTICATED.
	PermissionSetGroups(ctx context.Context) ([]broker.PermissionSetGroup, error)
	// PutPermissionSetGroup adds or replaces a group. EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	PutPermissionSetGroup(ctx context.Context, g broker.PermissionSetGroup) (broker.ApplyResult, error)
	// DeletePermissionSetGroup removes a group. EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND, EINVALID.
	DeletePermissionSetGroup(ctx context.Context, name string) (broker.ApplyResult, error)
	// ApprovalRules lists the rules. EUNAUTHENTICATED, EFORBIDDEN.
	ApprovalRules(ctx context.Context) ([]broker.ApprovalRule, error)
	// PutApprovalRule adds or replaces a rule. EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	PutApprovalRule(ctx context.Context, r broker.ApprovalRule) (broker.ApplyResult, error)
	// DeleteApprovalRule removes a rule. EUNAUTHENTICATED, EFORBIDDEN, ENOTFOUND.
	DeleteApprovalRule(ctx context.Context, account, permissionSet, requesterGroup string) (broker.ApplyResult, error)
	// Admins lists the administrators. EUNAUTHENTICATED, EFORBIDDEN.
	Admins(ctx context.Context) ([]string, error)
	// SetAdmins replaces the administrators. EUNAUTHENTICATED, EFORBIDDEN, EINVALID.
	SetAdmins(ctx context.Context, admins []string) (broker.ApplyResult, error)
	// Access answers what the caller may request and approve. EUNAUTHENTICATED.
	Access(ctx context.Context) (broker.Access, error)
}

var _ AdminService = (*broker.Service)(nil)

// adminRoutes mounts the registry routes; without Config.Admin they
// answer notEnabled.
func (s *server) adminRoutes(api fiber.Router) {
	h := &adminHandlers{a: s.cfg.Admin}
	need := func(f fiber.Handler) fiber.Handler {
		return func(c *fiber.Ctx) error {
			if h.a == nil {
				return notEnabled("registry administration")
			}
			return f(c)
		}
	}
	api.Get("/registry", need(h.getRegistry))
	api.Put("/registry", need(h.putRegistry))
	api.Get("/accounts", need(h.listAccounts))
	api.Post("/accounts/import", need(h.importAccounts))
	api.Post("/accounts", need(h.registerAccount))
	api.Delete("/accounts/:id", need(h.unregisterAccount))
	api.Get("/permission-sets", need(h.listPermissionSets))
	api.Post("/permission-sets/import", need(h.importPermissionSets))
	api.Post("/permission-sets", need(h.registerPermissionSet))
	api.Delete("/permission-sets/:name", need(h.unregisterPermissionSet))
	api.Get("/permission-set-groups", need(h.listGroups))
	api.Post("/permission-set-groups", need(h.putGroup))
	api.Delete("/permission-set-groups/:name", need(h.deleteGroup))
	api.Get("/approval-rules", need(h.listRules))
	api.Post("/approval-rules", need(h.putRule))
	api.Delete("/approval-rules", need(h.deleteRule))
	api.Get("/admins", need(h.listAdmins))
	api.Put("/admins", need(h.setAdmins))
}

type adminHandlers struct{ a AdminService }

func (h *adminHandlers) getRegistry(c *fiber.Ctx) error {
	r, err := h.a.Registry(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// putRegistry applies a whole registry; ?dry_run=true only answers the diff.
func (h *adminHandlers) putRegistry(c *fiber.Ctx) error {
	dry, err := adminQueryBool(c, "dry_run")
	if err != nil {
		return err
	}
	var body wire.Registry
	if err := decodeBody(c, &body, true); err != nil {
		return err
	}
	res, err := h.a.ApplyRegistry(c.UserContext(), broker.ApplyInput{Registry: body.RegistryData, Version: body.Version, DryRun: dry})
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) listAccounts(c *fiber.Ctx) error {
	as, err := h.a.Accounts(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(wire.Accounts{Accounts: as})
}

// registerAccount answers 201 when the account is new, 200 when it was
// renamed or already so.
func (h *adminHandlers) registerAccount(c *fiber.Ctx) error {
	var a broker.Account
	if err := decodeBody(c, &a, true); err != nil {
		return err
	}
	res, err := h.a.RegisterAccount(c.UserContext(), a)
	if err != nil {
		return err
	}
	return c.Status(createdOrOK(len(res.Diff.Accounts.Added) > 0)).JSON(res)
}

func (h *adminHandlers) unregisterAccount(c *fiber.Ctx) error {
	force, err := adminQueryBool(c, "force")
	if err != nil {
		return err
	}
	res, err := h.a.UnregisterAccount(c.UserContext(), utils.CopyString(c.Params("id")), force)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) importAccounts(c *fiber.Ctx) error {
	var req wire.ImportAccounts
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	res, err := h.a.ImportAccounts(c.UserContext(), broker.ImportAccountsInput{AccountIDs: req.AccountIDs, DryRun: req.DryRun})
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) listPermissionSets(c *fiber.Ctx) error {
	ps, err := h.a.PermissionSets(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(wire.PermissionSets{PermissionSets: ps})
}

func (h *adminHandlers) registerPermissionSet(c *fiber.Ctx) error {
	var p broker.PermissionSet
	if err := decodeBody(c, &p, true); err != nil {
		return err
	}
	res, err := h.a.RegisterPermissionSet(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.Status(createdOrOK(len(res.Diff.PermissionSets.Added) > 0)).JSON(res)
}

func (h *adminHandlers) unregisterPermissionSet(c *fiber.Ctx) error {
	force, err := adminQueryBool(c, "force")
	if err != nil {
		return err
	}
	res, err := h.a.UnregisterPermissionSet(c.UserContext(), utils.CopyString(c.Params("name")), force)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) importPermissionSets(c *fiber.Ctx) error {
	var req wire.ImportPermissionSets
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	res, err := h.a.ImportPermissionSets(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) listGroups(c *fiber.Ctx) error {
	gs, err := h.a.PermissionSetGroups(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(wire.PermissionSetGroups{PermissionSetGroups: gs})
}

func (h *adminHandlers) putGroup(c *fiber.Ctx) error {
	var g broker.PermissionSetGroup
	if err := decodeBody(c, &g, true); err != nil {
		return err
	}
	res, err := h.a.PutPermissionSetGroup(c.UserContext(), g)
	if err != nil {
		return err
	}
	return c.Status(createdOrOK(len(res.Diff.PermissionSetGroups.Added) > 0)).JSON(res)
}

func (h *adminHandlers) deleteGroup(c *fiber.Ctx) error {
	res, err := h.a.DeletePermissionSetGroup(c.UserContext(), utils.CopyString(c.Params("name")))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) listRules(c *fiber.Ctx) error {
	rs, err := h.a.ApprovalRules(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(wire.ApprovalRules{ApprovalRules: rs})
}

func (h *adminHandlers) putRule(c *fiber.Ctx) error {
	var r broker.ApprovalRule
	if err := decodeBody(c, &r, true); err != nil {
		return err
	}
	res, err := h.a.PutApprovalRule(c.UserContext(), r)
	if err != nil {
		return err
	}
	return c.Status(createdOrOK(len(res.Diff.ApprovalRules.Added) > 0)).JSON(res)
}

// deleteRule removes the rule named by ?account= ("*" for all accounts)
// and ?permission_set= (empty for any).
func (h *adminHandlers) deleteRule(c *fiber.Ctx) error {
	account := utils.CopyString(c.Query("account"))
	if account == "" {
		return broker.Errorf(broker.EINVALID, `account is required ("*" for the rule covering every account)`)
	}
	res, err := h.a.DeleteApprovalRule(c.UserContext(), account, utils.CopyString(c.Query("permission_set")), utils.CopyString(c.Query("requester_group")))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func (h *adminHandlers) listAdmins(c *fiber.Ctx) error {
	as, err := h.a.Admins(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(wire.Admins{Admins: as})
}

func (h *adminHandlers) setAdmins(c *fiber.Ctx) error {
	var body wire.Admins
	if err := decodeBody(c, &body, true); err != nil {
		return err
	}
	res, err := h.a.SetAdmins(c.UserContext(), body.Admins)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

func createdOrOK(created bool) int {
	if created {
		return fiber.StatusCreated
	}
	return fiber.StatusOK
}

// adminQueryBool parses an optional boolean query parameter.
func adminQueryBool(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, broker.Errorf(broker.EINVALID, "%s must be true or false", name)
	}
	return b, nil
}
