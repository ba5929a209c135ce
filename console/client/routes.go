package client

import (
	"context"
	"encoding/json"
	"io"
	"net/url"

	"github.com/jitaccess/jit/broker"
	"github.com/jitaccess/jit/console/wire"
)

// The methods below are the routes of wire.Routes, in its order. Each
// returns *Error for the server's refusals.

// Health is GET /healthz.
func (c *Client) Health(ctx context.Context) (wire.Status, error) {
	var out wire.Status
	return out, c.do(ctx, "GET", "/healthz", nil, nil, &out)
}

// Ready is GET /readyz.
func (c *Client) Ready(ctx context.Context) (wire.Status, error) {
	var out wire.Status
	return out, c.do(ctx, "GET", "/readyz", nil, nil, &out)
}

// WebConfig is GET /config.json: how to sign in to the server.
func (c *Client) WebConfig(ctx context.Context) (wire.WebConfig, error) {
	var out wire.WebConfig
	return out, c.do(ctx, "GET", "/config.json", nil, nil, &out)
}

// OpenAPI is GET /api/v1/openapi.json.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	return out, c.do(ctx, "GET", "/api/v1/openapi.json", nil, nil, &out)
}

// Me is GET /api/v1/me.
func (c *Client) Me(ctx context.Context) (wire.Me, error) {
	var out wire.Me
	return out, c.do(ctx, "GET", "/api/v1/me", nil, nil, &out)
}

// Events is GET /api/v1/events: the server-sent event stream, which the
// caller reads and closes.
func (c *Client) Events(ctx context.Context) (io.ReadCloser, error) {
	resp, err := c.send(ctx, "GET", "/api/v1/events", nil, nil)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// CreateTicket is POST /api/v1/tickets.
func (c *Client) CreateTicket(ctx context.Context, in wire.CreateTicket) (wire.Ticket, error) {
	var out wire.Ticket
	return out, c.do(ctx, "POST", "/api/v1/tickets", nil, in, &out)
}

// Tickets is GET /api/v1/tickets: one page; q holds wire.TicketQuery's
// parameters.
func (c *Client) Tickets(ctx context.Context, q url.Values) (wire.TicketList, error) {
	var out wire.TicketList
	return out, c.do(ctx, "GET", "/api/v1/tickets", q, nil, &out)
}

// AllTickets is Tickets of every page, following next_cursor.
func (c *Client) AllTickets(ctx context.Context, q url.Values) ([]wire.Ticket, error) {
	q = cloneValues(q)
	var all []wire.Ticket
	for {
		page, err := c.Tickets(ctx, q)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Tickets...)
		if page.NextCursor == "" {
			return all, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// Ticket is GET /api/v1/tickets/{id}.
func (c *Client) Ticket(ctx context.Context, id string) (wire.Ticket, error) {
	var out wire.Ticket
	return out, c.do(ctx, "GET", ticketPath(id, ""), nil, nil, &out)
}

// EditTicket is PUT /api/v1/tickets/{id}.
func (c *Client) EditTicket(ctx context.Context, id string, in wire.EditTicket) (wire.Ticket, error) {
	var out wire.Ticket
	return out, c.do(ctx, "PUT", ticketPath(id, ""), nil, in, &out)
}

// Approve is POST /api/v1/tickets/{id}/approve.
func (c *Client) Approve(ctx context.Context, id string, in wire.Decide) (wire.Ticket, error) {
	return c.transition(ctx, id, "approve", in)
}

// Reject is POST /api/v1/tickets/{id}/reject.
func (c *Client) Reject(ctx context.Context, id string, in wire.Decide) (wire.Ticket, error) {
	return c.transition(ctx, id, "reject", in)
}

// Terminate is POST /api/v1/tickets/{id}/terminate.
func (c *Client) Terminate(ctx context.Context, id string, in wire.Comment) (wire.Ticket, error) {
	return c.transition(ctx, id, "terminate", in)
}

// Review is POST /api/v1/tickets/{id}/review.
func (c *Client) Review(ctx context.Context, id string, in wire.Comment) (wire.Ticket, error) {
	return c.transition(ctx, id, "review", in)
}

// Cancel is POST /api/v1/tickets/{id}/cancel.
func (c *Client) Cancel(ctx context.Context, id string, in wire.Comment) (wire.Ticket, error) {
	return c.transition(ctx, id, "cancel", in)
}

// Done is POST /api/v1/tickets/{id}/done.
func (c *Client) Done(ctx context.Context, id string, in wire.Comment) (wire.Ticket, error) {
	return c.transition(ctx, id, "done", in)
}

// Extend is POST /api/v1/tickets/{id}/extend.
func (c *Client) Extend(ctx context.Context, id string, in wire.ExtendTicket) (wire.Ticket, error) {
	return c.transition(ctx, id, "extend", in)
}

func (c *Client) transition(ctx context.Context, id, verb string, in any) (wire.Ticket, error) {
	var out wire.Ticket
	return out, c.do(ctx, "POST", ticketPath(id, verb), nil, in, &out)
}

// Credentials is POST /api/v1/tickets/{id}/credentials.
func (c *Client) Credentials(ctx context.Context, id string) (wire.CredentialProcess, error) {
	var out wire.CredentialProcess
	return out, c.do(ctx, "POST", ticketPath(id, "credentials"), nil, nil, &out)
}

// ConsoleURL is GET /api/v1/tickets/{id}/console: a fresh console sign-in
// URL (region and destination may be empty).
func (c *Client) ConsoleURL(ctx context.Context, id, region, destination string) (string, error) {
	q := url.Values{}
	if region != "" {
		q.Set("region", region)
	}
	if destination != "" {
		q.Set("destination", destination)
	}
	var out wire.ConsoleLink
	return out.URL, c.do(ctx, "GET", ticketPath(id, "console"), q, nil, &out)
}

// Activity is GET /api/v1/tickets/{id}/activity.
func (c *Client) Activity(ctx context.Context, id string) (wire.Activity, error) {
	var out wire.Activity
	return out, c.do(ctx, "GET", ticketPath(id, "activity"), nil, nil, &out)
}

// Hint is GET /api/v1/tickets/{id}/hint.
func (c *Client) Hint(ctx context.Context, id string) (broker.Hint, error) {
	var out broker.Hint
	return out, c.do(ctx, "GET", ticketPath(id, "hint"), nil, nil, &out)
}

// Usage is GET /api/v1/admin/usage.
func (c *Client) Usage(ctx context.Context) (broker.Usage, error) {
	var out broker.Usage
	return out, c.do(ctx, "GET", "/api/v1/admin/usage", nil, nil, &out)
}

// Timeline is GET /api/v1/tickets/{id}/timeline.
func (c *Client) Timeline(ctx context.Context, id string) (wire.Timeline, error) {
	var out wire.Timeline
	return out, c.do(ctx, "GET", ticketPath(id, "timeline"), nil, nil, &out)
}

// Audit is GET /api/v1/audit; q holds wire.AuditQuery's parameters.
func (c *Client) Audit(ctx context.Context, q url.Values) (broker.AuditPage, error) {
	var out broker.AuditPage
	return out, c.do(ctx, "GET", "/api/v1/audit", q, nil, &out)
}

// Reconcile is POST /api/v1/reconcile.
func (c *Client) Reconcile(ctx context.Context) (broker.ReconcileReport, error) {
	var out broker.ReconcileReport
	return out, c.do(ctx, "POST", "/api/v1/reconcile", nil, struct{}{}, &out)
}

// Delegate is POST /api/v1/delegations.
func (c *Client) Delegate(ctx context.Context, in wire.Delegate) (broker.Delegation, error) {
	var out broker.Delegation
	return out, c.do(ctx, "POST", "/api/v1/delegations", nil, in, &out)
}

// Delegations is GET /api/v1/delegations.
func (c *Client) Delegations(ctx context.Context) (wire.Delegations, error) {
	var out wire.Delegations
	return out, c.do(ctx, "GET", "/api/v1/delegations", nil, nil, &out)
}

// PreApprove is POST /api/v1/preapprovals.
func (c *Client) PreApprove(ctx context.Context, in wire.PreApprove) (broker.PreApproval, error) {
	var out broker.PreApproval
	return out, c.do(ctx, "POST", "/api/v1/preapprovals", nil, in, &out)
}

// PreApprovals is GET /api/v1/preapprovals: one page; q holds
// wire.PreApprovalQuery's parameters (nil: the caller's own).
func (c *Client) PreApprovals(ctx context.Context, q url.Values) (wire.PreApprovals, error) {
	var out wire.PreApprovals
	return out, c.do(ctx, "GET", "/api/v1/preapprovals", q, nil, &out)
}

// AllPreApprovals is PreApprovals of every page, following next_cursor.
func (c *Client) AllPreApprovals(ctx context.Context, q url.Values) (wire.PreApprovals, error) {
	q = cloneValues(q)
	var all wire.PreApprovals
	for {
		page, err := c.PreApprovals(ctx, q)
		if err != nil {
			return wire.PreApprovals{}, err
		}
		all.PreApprovals, all.Total = append(all.PreApprovals, page.PreApprovals...), page.Total
		if page.NextCursor == "" {
			return all, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// RevokePreApproval is DELETE /api/v1/preapprovals/{id}.
func (c *Client) RevokePreApproval(ctx context.Context, id string) (broker.PreApproval, error) {
	var out broker.PreApproval
	return out, c.do(ctx, "DELETE", "/api/v1/preapprovals/"+url.PathEscape(id), nil, nil, &out)
}

// DeleteDelegation is DELETE /api/v1/delegations/{id}.
func (c *Client) DeleteDelegation(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/api/v1/delegations/"+url.PathEscape(id), nil, nil, nil)
}

// Registry is GET /api/v1/registry.
func (c *Client) Registry(ctx context.Context) (broker.RegistryVersion, error) {
	var out broker.RegistryVersion
	return out, c.do(ctx, "GET", "/api/v1/registry", nil, nil, &out)
}

// ApplyRegistry is PUT /api/v1/registry[?dry_run=true].
func (c *Client) ApplyRegistry(ctx context.Context, in wire.Registry, dryRun bool) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "PUT", "/api/v1/registry", boolQuery("dry_run", dryRun), in, &out)
}

// Accounts is GET /api/v1/accounts.
func (c *Client) Accounts(ctx context.Context) (wire.Accounts, error) {
	var out wire.Accounts
	return out, c.do(ctx, "GET", "/api/v1/accounts", nil, nil, &out)
}

// RegisterAccount is POST /api/v1/accounts.
func (c *Client) RegisterAccount(ctx context.Context, a broker.Account) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/accounts", nil, a, &out)
}

// ImportAccounts is POST /api/v1/accounts/import.
func (c *Client) ImportAccounts(ctx context.Context, in wire.ImportAccounts) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/accounts/import", nil, in, &out)
}

// UnregisterAccount is DELETE /api/v1/accounts/{id}[?force=true].
func (c *Client) UnregisterAccount(ctx context.Context, id string, force bool) (broker.UnregisterResult, error) {
	var out broker.UnregisterResult
	return out, c.do(ctx, "DELETE", "/api/v1/accounts/"+url.PathEscape(id), boolQuery("force", force), nil, &out)
}

// PermissionSets is GET /api/v1/permission-sets.
func (c *Client) PermissionSets(ctx context.Context) (wire.PermissionSets, error) {
	var out wire.PermissionSets
	return out, c.do(ctx, "GET", "/api/v1/permission-sets", nil, nil, &out)
}

// RegisterPermissionSet is POST /api/v1/permission-sets.
func (c *Client) RegisterPermissionSet(ctx context.Context, p broker.PermissionSet) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/permission-sets", nil, p, &out)
}

// ImportPermissionSets is POST /api/v1/permission-sets/import.
func (c *Client) ImportPermissionSets(ctx context.Context, in wire.ImportPermissionSets) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/permission-sets/import", nil, in, &out)
}

// UnregisterPermissionSet is DELETE /api/v1/permission-sets/{name}[?force=true].
func (c *Client) UnregisterPermissionSet(ctx context.Context, name string, force bool) (broker.UnregisterResult, error) {
	var out broker.UnregisterResult
	return out, c.do(ctx, "DELETE", "/api/v1/permission-sets/"+url.PathEscape(name), boolQuery("force", force), nil, &out)
}

// PermissionSetGroups is GET /api/v1/permission-set-groups.
func (c *Client) PermissionSetGroups(ctx context.Context) (wire.PermissionSetGroups, error) {
	var out wire.PermissionSetGroups
	return out, c.do(ctx, "GET", "/api/v1/permission-set-groups", nil, nil, &out)
}

// PutPermissionSetGroup is POST /api/v1/permission-set-groups.
func (c *Client) PutPermissionSetGroup(ctx context.Context, g broker.PermissionSetGroup) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/permission-set-groups", nil, g, &out)
}

// DeletePermissionSetGroup is DELETE /api/v1/permission-set-groups/{name}.
func (c *Client) DeletePermissionSetGroup(ctx context.Context, name string) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "DELETE", "/api/v1/permission-set-groups/"+url.PathEscape(name), nil, nil, &out)
}

// ApprovalRules is GET /api/v1/approval-rules.
func (c *Client) ApprovalRules(ctx context.Context) (wire.ApprovalRules, error) {
	var out wire.ApprovalRules
	return out, c.do(ctx, "GET", "/api/v1/approval-rules", nil, nil, &out)
}

// PutApprovalRule is POST /api/v1/approval-rules.
func (c *Client) PutApprovalRule(ctx context.Context, r broker.ApprovalRule) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "POST", "/api/v1/approval-rules", nil, r, &out)
}

// DeleteApprovalRule is DELETE /api/v1/approval-rules?account=&permission_set=&requester_group=.
func (c *Client) DeleteApprovalRule(ctx context.Context, account, permissionSet, requesterGroup string) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	q := url.Values{"account": {account}}
	if permissionSet != "" {
		q.Set("permission_set", permissionSet)
	}
	if requesterGroup != "" {
		q.Set("requester_group", requesterGroup)
	}
	return out, c.do(ctx, "DELETE", "/api/v1/approval-rules", q, nil, &out)
}

// Admins is GET /api/v1/admins.
func (c *Client) Admins(ctx context.Context) (wire.Admins, error) {
	var out wire.Admins
	return out, c.do(ctx, "GET", "/api/v1/admins", nil, nil, &out)
}

// SetAdmins is PUT /api/v1/admins.
func (c *Client) SetAdmins(ctx context.Context, admins []string) (broker.ApplyResult, error) {
	var out broker.ApplyResult
	return out, c.do(ctx, "PUT", "/api/v1/admins", nil, wire.Admins{Admins: admins}, &out)
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = append([]string(nil), v...)
	}
	return c
}
