package console

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// PreApprover keeps approvers' pre-approvals (broker.PreApproval).
type PreApprover interface {
	// PreApprove pre-approves a person's tickets for a window.
	// EUNAUTHENTICATED, EINVALID, ENOTFOUND, EFORBIDDEN, EUNAVAILABLE.
	PreApprove(ctx context.Context, in broker.PreApproveInput) (*broker.PreApproval, error)
	// ListPreApprovals lists a page of those the caller made or that are
	// for them, or everyone's for administrators. EUNAUTHENTICATED,
	// EINVALID, EFORBIDDEN.
	ListPreApprovals(ctx context.Context, q broker.PreApprovalQuery) (broker.PreApprovalPage, error)
	// RevokePreApproval revokes one. EUNAUTHENTICATED, ENOTFOUND, ECONFLICT.
	RevokePreApproval(ctx context.Context, id string) (*broker.PreApproval, error)
}

var _ PreApprover = (*broker.Service)(nil)

// preApprovalRoutes mounts /api/v1/preapprovals; without
// Config.PreApprovals each answers 503 (notEnabled).
func (s *server) preApprovalRoutes(api fiber.Router) {
	api.Post("/preapprovals", s.preApprover(s.createPreApproval))
	api.Get("/preapprovals", s.preApprover(s.listPreApprovals))
	api.Delete("/preapprovals/:id", s.preApprover(s.revokePreApproval))
}

func (s *server) preApprover(h func(c *fiber.Ctx, p PreApprover) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.cfg.PreApprovals == nil {
			return notEnabled("pre-approvals")
		}
		return h(c, s.cfg.PreApprovals)
	}
}

// createPreApproval answers POST /api/v1/preapprovals: 201 with it.
func (s *server) createPreApproval(c *fiber.Ctx, p PreApprover) error {
	var req wire.PreApprove
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	in, err := req.Input()
	if err != nil {
		return err
	}
	out, err := p.PreApprove(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(wire.NewPreApproval(*out))
}

// listPreApprovals answers GET /api/v1/preapprovals with the query
// parameters all, person, account, permission_set, ended, cursor and
// limit (wire.PreApprovalQuery).
func (s *server) listPreApprovals(c *fiber.Ctx, p PreApprover) error {
	q, err := preApprovalQuery(c)
	if err != nil {
		return err
	}
	page, err := p.ListPreApprovals(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := wire.PreApprovals{PreApprovals: make([]broker.PreApproval, 0, len(page.PreApprovals)), Total: page.Total, NextCursor: page.NextCursor}
	for _, x := range page.PreApprovals {
		out.PreApprovals = append(out.PreApprovals, wire.NewPreApproval(x))
	}
	return c.JSON(out)
}

// preApprovalQuery reads the list's query parameters.
func preApprovalQuery(c *fiber.Ctx) (broker.PreApprovalQuery, error) {
	str := func(name string) string { return queryStr(c, name) }
	q := broker.PreApprovalQuery{Person: str("person"), AccountID: str("account"), PermissionSet: str("permission_set"), Cursor: str("cursor")}
	var err error
	if q.All, err = queryBool(c, "all"); err != nil {
		return q, err
	}
	if str("ended") != "" {
		ended, err := queryBool(c, "ended")
		if err != nil {
			return q, err
		}
		q.Ended = &ended
	}
	q.Limit, err = queryCount(c, "limit", 1)
	return q, err
}

// revokePreApproval answers DELETE /api/v1/preapprovals/:id: 200 with
// the revoked pre-approval (it is kept, for the record).
func (s *server) revokePreApproval(c *fiber.Ctx, p PreApprover) error {
	out, err := p.RevokePreApproval(c.UserContext(), utils.CopyString(c.Params("id")))
	if err != nil {
		return err
	}
	return c.JSON(wire.NewPreApproval(*out))
}
