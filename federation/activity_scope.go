package federation

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/jitaccess/jit/broker"
)

// What a ticket's activity may show. LookupEvents takes one attribute per
// call, and an attribute alone is wider than a ticket: a user name matches
// every portal session of that user, in any permission set, and any IAM
// user or role session of that name; a lookup may also read another
// account's history (CloudTrailClients without a role). So every event
// LookupEvents returns is checked against its CloudTrailEvent document
// before it is kept, and an event whose document cannot be read is left
// out.

// Identity Center roles (aws-facts.md section 4): AWSReservedSSO_<permission
// set name>_<hex suffix>, under the path /aws-reserved/sso.amazonaws.com/
// (followed by a region on some instances).
const (
	ssoRolePrefix = "AWSReservedSSO_"
	ssoRolePath   = "/aws-reserved/sso.amazonaws.com/"
)

// attrKind says what a lookup attribute stands for, and so which events it
// found belong to the ticket.
type attrKind int

const (
	// byAccessKey: an access key issued for the ticket (role path).
	byAccessKey attrKind = iota
	// byRoleSession: the ticket's role session name jit-<ticket>-<user>.
	byRoleSession
	// byPortalUser: a beneficiary's Identity Center user name; only their
	// sessions of the ticket's permission set's role count.
	byPortalUser
)

// trailDoc is the part of a CloudTrailEvent document Activity reads.
type trailDoc struct {
	AWSRegion          string `json:"awsRegion"`
	ErrorCode          string `json:"errorCode"`
	RecipientAccountID string `json:"recipientAccountId"`
	UserIdentity       struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		SessionContext struct {
			SourceIdentity string `json:"sourceIdentity"`
			SessionIssuer  struct {
				Type      string `json:"type"`
				ARN       string `json:"arn"`
				AccountID string `json:"accountId"`
			} `json:"sessionIssuer"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
}

// inScope reports whether an event found by at, with document doc, is one
// of the ticket's: made in account, and by the session the attribute
// stands for. ssoRole is the ticket's permission set's name (byPortalUser).
func inScope(doc *trailDoc, at lookupAttr, account, ssoRole string) bool {
	if doc == nil || account == "" || doc.RecipientAccountID != account {
		return false
	}
	id := &doc.UserIdentity
	switch at.kind {
	case byAccessKey:
		return id.AccessKeyID == at.value
	case byRoleSession:
		roleAcct, _, session, ok := assumedRole(id.ARN)
		return id.Type == "AssumedRole" && ok && roleAcct == account && session == at.value
	case byPortalUser:
		roleAcct, role, session, ok := assumedRole(id.ARN)
		if id.Type != "AssumedRole" || !ok || roleAcct != account || session != at.value || !isSSORoleOf(role, ssoRole) {
			return false
		}
		// The session's issuer is that role, under Identity Center's path.
		iss := &id.SessionContext.SessionIssuer
		issAcct, path, name, ok := roleARN(iss.ARN)
		return ok && issAcct == account && iss.AccountID == account && name == role && strings.HasPrefix(path, ssoRolePath)
	}
	return false
}

// assumedRole splits arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
func assumedRole(arn string) (account, role, session string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" || parts[3] != "" {
		return "", "", "", false
	}
	res, found := strings.CutPrefix(parts[5], "assumed-role/")
	if !found {
		return "", "", "", false
	}
	role, session, found = strings.Cut(res, "/")
	if !found || role == "" || session == "" || strings.Contains(session, "/") {
		return "", "", "", false
	}
	return parts[4], role, session, true
}

// roleARN splits arn:<partition>:iam::<account>:role<path><name>.
func roleARN(arn string) (account, path, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" {
		return "", "", "", false
	}
	res, found := strings.CutPrefix(parts[5], "role/")
	if !found {
		return "", "", "", false
	}
	i := strings.LastIndex(res, "/") // -1: no path beyond "/"
	path, name = "/"+res[:i+1], res[i+1:]
	return parts[4], path, name, name != ""
}

// isSSORoleOf reports whether role is the Identity Center role of the
// permission set named ps: AWSReservedSSO_<ps>_<suffix>, the suffix being
// hex digits only. A set whose name extends ps (ReadOnly and ReadOnlySSO,
// or Read and Read_Only, as names may hold underscores) does not match:
// what follows "<ps>_" must be the suffix alone.
func isSSORoleOf(role, ps string) bool {
	if ps == "" {
		return false
	}
	suffix, ok := strings.CutPrefix(role, ssoRolePrefix+ps+"_")
	if !ok || suffix == "" {
		return false
	}
	for _, c := range suffix {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// DescribePermissionSetAPI is the sso-admin call PermissionSetNames makes.
type DescribePermissionSetAPI interface {
	DescribePermissionSet(ctx context.Context, in *ssoadmin.DescribePermissionSetInput, opts ...func(*ssoadmin.Options)) (*ssoadmin.DescribePermissionSetOutput, error)
}

// PermissionSetNames resolves Identity Center permission set ARNs to their
// names, which name the permission set's roles in the accounts
// (AWSReservedSSO_<name>_<suffix>). Identity Center does not rename a
// permission set, so answers are kept for the life of the process.
type PermissionSetNames struct {
	SSOAdmin    DescribePermissionSetAPI
	InstanceARN string

	mu    sync.Mutex
	names map[string]string
}

// Name returns the name of the permission set with that ARN.
func (p *PermissionSetNames) Name(ctx context.Context, arn string) (string, error) {
	p.mu.Lock()
	n, ok := p.names[arn]
	p.mu.Unlock()
	if ok {
		return n, nil
	}
	out, err := p.SSOAdmin.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{
		InstanceArn: aws.String(p.InstanceARN), PermissionSetArn: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("sso-admin DescribePermissionSet %s: %w", arn, err)
	}
	if out.PermissionSet == nil || aws.ToString(out.PermissionSet.Name) == "" {
		return "", fmt.Errorf("sso-admin DescribePermissionSet %s: no name in the answer", arn)
	}
	n = aws.ToString(out.PermissionSet.Name)
	p.mu.Lock()
	if p.names == nil {
		p.names = map[string]string{}
	}
	p.names[arn] = n
	p.mu.Unlock()
	return n, nil
}

// ssoRoleName resolves q's permission set for the Identity Center lookups;
// "" when q has none.
func (a *Activity) ssoRoleName(ctx context.Context, q broker.ActivityQuery) (string, error) {
	if len(q.Usernames) == 0 {
		return "", nil
	}
	if q.PermissionSetARN == "" {
		// Nothing to scope the user names to: a lookup by user name
		// alone would show every session of the user.
		return "", broker.Errorf(broker.EUNAVAILABLE, "the Identity Center permission set of ticket %s is not known", q.TicketID)
	}
	if a.PermissionSetName == nil {
		return "", broker.Errorf(broker.EUNAVAILABLE, "activity lookup on the Identity Center path is not configured")
	}
	n, err := a.PermissionSetName(ctx, q.PermissionSetARN)
	if err != nil {
		return "", broker.Errorf(broker.EUNAVAILABLE, "the Identity Center permission set of ticket %s cannot be read now", q.TicketID)
	}
	return n, nil
}
