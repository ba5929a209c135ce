package wire

import "github.com/jitaccess/jit/broker"

// Route is one route of the server: what the OpenAPI document says of it
// and what the typed client calls.
type Route struct {
	Method string
	// Path is in OpenAPI form: /api/v1/tickets/{id}.
	Path    string
	Summary string
	// Request is a value of the JSON body's type, nil for none;
	// RequestOptional says the body may be left out.
	Request         any
	RequestOptional bool
	// Response is a value of the success body's type (JSON unless
	// ContentType says otherwise), nil for none; Status is the success
	// status (200 when 0).
	Response    any
	Status      int
	ContentType string
	// Query are the query parameters it reads.
	Query []Param
	// Public: no bearer token needed (every /api/v1 route needs one).
	Public bool
	// Redirect: the route may answer 302 with a Location instead.
	Redirect bool
}

// Param is a query parameter.
type Param struct {
	Name, Description string
	// Type is "string" (default), "boolean" or "integer".
	Type string
}

func str(name, desc string) Param     { return Param{Name: name, Description: desc} }
func boolean(name, desc string) Param { return Param{Name: name, Description: desc, Type: "boolean"} }
func integer(name, desc string) Param { return Param{Name: name, Description: desc, Type: "integer"} }

// Content types of the routes that do not answer JSON.
const (
	EventStream = "text/event-stream"
	TextPlain   = "text/plain"
)

// TicketQuery are the query parameters of GET /api/v1/tickets.
var TicketQuery = []Param{
	str("state", "only tickets in these states (comma-separated)"),
	boolean("mine", "only tickets the caller requested or benefits from"),
	boolean("pending_for_me", "only tickets waiting for the caller's decision"),
	boolean("unreviewed", "only granted tickets whose activity nobody reviewed: ended ones, and break-glass ones at once (listed first)"),
	boolean("break_glass", "only break-glass tickets"),
	str("group", "only the tickets of this group (one request for several accounts)"),
	boolean("grouped", "list each group as one row, its first member, with all its members under groups"),
	str("requester", "only tickets this email requested"),
	str("beneficiary", "only tickets for this email"),
	str("account", "only tickets for this account id"),
	str("permission_set", "only tickets for this permission set"),
	str("from", "RFC 3339: only tickets whose window ends after it"),
	str("to", "RFC 3339: only tickets whose window starts before it"),
	str("q", "only tickets whose id, reason, people, account or permission set contain this text"),
	str("sort", "created (default), start, end or account"),
	str("order", "desc (default) or asc"),
	str("cursor", "the next_cursor of the previous page"),
	integer("offset", "tickets to skip"),
	integer("limit", "page size, 1-1000 (default 1000)"),
}

// PreApprovalQuery are the query parameters of GET /api/v1/preapprovals.
var PreApprovalQuery = []Param{
	boolean("all", "everyone's pre-approvals (administrators; others get 403 forbidden), not only those the caller made or that are for the caller"),
	str("person", "only those for this email"),
	str("account", "only those for this account id"),
	str("permission_set", "only those for this permission set"),
	boolean("ended", "true: only those no longer in force (revoked or past their end); false: only those in force"),
	str("cursor", "the next_cursor of the previous page"),
	integer("limit", "page size, 1-1000 (default 1000)"),
}

// AuditQuery are the query parameters of GET /api/v1/audit.
var AuditQuery = []Param{
	str("ticket", "only this ticket's events"),
	str("user", "only events by or about this email"),
	str("account", "only events of this account id"),
	str("type", "only events of this type"),
	str("since", "RFC 3339: only events at or after it"),
	str("until", "RFC 3339: only events before it"),
	str("cursor", "the next of the previous page"),
	integer("limit", "page size"),
}

var (
	force  = []Param{boolean("force", "also end the open tickets that use it")}
	dryRun = []Param{boolean("dry_run", "only answer what would change")}
)

// Routes lists every route the server registers (console.New), with the
// optional ones: GET /metrics (unless metrics are served elsewhere),
// GET /config.json (with the web app), and POST /slack/interactions (with
// Slack notifications). The development-only /dev routes and the web app's
// own pages are not part of the API.
var Routes = []Route{
	{Method: "GET", Path: "/healthz", Summary: "Liveness: answers while the process serves HTTP", Response: Status{}, Public: true},
	{Method: "GET", Path: "/readyz", Summary: "Readiness: 503 when the server cannot take traffic", Response: Status{}, Public: true},
	{Method: "GET", Path: "/metrics", Summary: "Prometheus metrics", ContentType: TextPlain, Response: "", Public: true},
	{Method: "GET", Path: "/config.json", Summary: "How the web app and jit login sign in", Response: WebConfig{}, Public: true},
	{Method: "POST", Path: "/slack/interactions", Summary: "Slack's interactive callbacks (signed by Slack)", Public: true},
	{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This document", Response: map[string]any{}},

	{Method: "GET", Path: "/api/v1/me", Summary: "Who the caller is and what they may request and approve", Response: Me{}},
	{Method: "GET", Path: "/api/v1/events", Summary: `Server-sent events: "ready", then "ticket" (data: TicketEvent) for each ticket the caller may see that changes`, ContentType: EventStream, Response: TicketEvent{}},
	{Method: "POST", Path: "/api/v1/tickets", Summary: "File a ticket", Request: CreateTicket{}, Response: Ticket{}, Status: 201},
	{Method: "GET", Path: "/api/v1/tickets", Summary: "List the tickets the caller may see, one page", Response: TicketList{}, Query: TicketQuery},
	{Method: "GET", Path: "/api/v1/tickets/{id}", Summary: "One ticket", Response: Ticket{}},
	{Method: "PUT", Path: "/api/v1/tickets/{id}", Summary: "Edit a rejected ticket and resend it", Request: EditTicket{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/approve", Summary: "Approve the open round's current stage", Request: Decide{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/reject", Summary: "Reject the open round (comment required)", Request: Decide{}, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/terminate", Summary: "End an approved or active ticket now", Request: Comment{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/review", Summary: "Record that the caller reviewed what an ended ticket's sessions did", Request: Comment{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/cancel", Summary: "Withdraw a pending or approved ticket", Request: Comment{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/done", Summary: `"I'm done": end the caller's access (the ticket, for its requester)`, Request: Comment{}, RequestOptional: true, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/extend", Summary: "Ask for a later end", Request: ExtendTicket{}, Response: Ticket{}},
	{Method: "POST", Path: "/api/v1/tickets/{id}/credentials", Summary: "A fresh AWS session as a credential_process document", Request: struct{}{}, RequestOptional: true, Response: CredentialProcess{}},
	{Method: "GET", Path: "/api/v1/tickets/{id}/console", Summary: "302 to a fresh AWS console sign-in URL ({url} when only JSON is accepted)", Response: ConsoleLink{}, Redirect: true,
		Query: []Param{str("region", "open the console in this region"), str("destination", "console URL to open")}},
	{Method: "GET", Path: "/api/v1/tickets/{id}/activity", Summary: "CloudTrail activity in the ticket's window, newest first", Response: Activity{}},
	{Method: "GET", Path: "/api/v1/tickets/{id}/hint", Summary: "Least-privilege hint: the actions the ticket's sessions used against what its permission set grants, with a policy of just those actions", Response: broker.Hint{}},
	{Method: "GET", Path: "/api/v1/admin/usage", Summary: "Per permission set, how much of what it grants its ended tickets used (administrators)", Response: broker.Usage{}},
	{Method: "GET", Path: "/api/v1/tickets/{id}/timeline", Summary: "The ticket's audit events, oldest first", Response: Timeline{}},
	{Method: "GET", Path: "/api/v1/audit", Summary: "Audit events the caller may see, one page", Response: broker.AuditPage{}, Query: AuditQuery},
	{Method: "POST", Path: "/api/v1/reconcile", Summary: "Run one reconciler pass now (administrators)", Request: struct{}{}, RequestOptional: true, Response: broker.ReconcileReport{}},

	{Method: "POST", Path: "/api/v1/delegations", Summary: "Delegate the caller's approvals for a period", Request: Delegate{}, Response: broker.Delegation{}, Status: 201},
	{Method: "GET", Path: "/api/v1/delegations", Summary: "Delegations the caller made or received", Response: Delegations{}},
	{Method: "DELETE", Path: "/api/v1/delegations/{id}", Summary: "End a delegation", Status: 204},

	{Method: "POST", Path: "/api/v1/preapprovals", Summary: "Pre-approve a person's tickets for an account and permission set for a window (at most 30 days)", Request: PreApprove{}, Response: broker.PreApproval{}, Status: 201},
	{Method: "GET", Path: "/api/v1/preapprovals", Summary: "Pre-approvals the caller made or that are for the caller, or everyone's (all=true, administrators), one page, by start", Response: PreApprovals{}, Query: PreApprovalQuery},
	{Method: "DELETE", Path: "/api/v1/preapprovals/{id}", Summary: "Revoke a pre-approval (tickets it approved keep their approval)", Response: broker.PreApproval{}},

	{Method: "GET", Path: "/api/v1/registry", Summary: "The whole registry with its version", Response: broker.RegistryVersion{}},
	{Method: "PUT", Path: "/api/v1/registry", Summary: "Replace the registry (administrators)", Request: Registry{}, Response: broker.ApplyResult{}, Query: dryRun},
	{Method: "GET", Path: "/api/v1/accounts", Summary: "The registered accounts", Response: Accounts{}},
	{Method: "POST", Path: "/api/v1/accounts", Summary: "Register or rename an account (201 when new)", Request: broker.Account{}, Response: broker.ApplyResult{}},
	{Method: "POST", Path: "/api/v1/accounts/import", Summary: "Register the organization's accounts", Request: ImportAccounts{}, RequestOptional: true, Response: broker.ApplyResult{}},
	{Method: "DELETE", Path: "/api/v1/accounts/{id}", Summary: "Unregister an account", Response: broker.UnregisterResult{}, Query: force},
	{Method: "GET", Path: "/api/v1/permission-sets", Summary: "The registered permission sets", Response: PermissionSets{}},
	{Method: "POST", Path: "/api/v1/permission-sets", Summary: "Register or replace a permission set (201 when new)", Request: broker.PermissionSet{}, Response: broker.ApplyResult{}},
	{Method: "POST", Path: "/api/v1/permission-sets/import", Summary: "Register Identity Center's permission sets", Request: ImportPermissionSets{}, RequestOptional: true, Response: broker.ApplyResult{}},
	{Method: "DELETE", Path: "/api/v1/permission-sets/{name}", Summary: "Unregister a permission set", Response: broker.UnregisterResult{}, Query: force},
	{Method: "GET", Path: "/api/v1/permission-set-groups", Summary: "The permission set groups", Response: PermissionSetGroups{}},
	{Method: "POST", Path: "/api/v1/permission-set-groups", Summary: "Add or replace a permission set group (201 when new)", Request: broker.PermissionSetGroup{}, Response: broker.ApplyResult{}},
	{Method: "DELETE", Path: "/api/v1/permission-set-groups/{name}", Summary: "Remove a permission set group", Response: broker.ApplyResult{}},
	{Method: "GET", Path: "/api/v1/approval-rules", Summary: "The approval rules", Response: ApprovalRules{}},
	{Method: "POST", Path: "/api/v1/approval-rules", Summary: "Add or replace an approval rule (201 when new)", Request: broker.ApprovalRule{}, Response: broker.ApplyResult{}},
	{Method: "DELETE", Path: "/api/v1/approval-rules", Summary: "Remove an approval rule", Response: broker.ApplyResult{},
		Query: []Param{str("account", `the rule's account ("*" for every account); required`), str("permission_set", "the rule's permission set or group (empty for any)"),
			str("requester_group", "the rule's requester group (empty for the rule naming none)")}},
	{Method: "GET", Path: "/api/v1/admins", Summary: "The administrators", Response: Admins{}},
	{Method: "PUT", Path: "/api/v1/admins", Summary: "Replace the administrators", Request: Admins{}, Response: broker.ApplyResult{}},
}
