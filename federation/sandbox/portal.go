package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The AWS access portal's GetRoleCredentials (service "sso", REST-JSON,
// not SigV4-signed: the caller presents the bearer token Identity Center
// issued at sign-in, here from Sandbox.PortalToken). It mints a session
// for the AWSReservedSSO_* role of a permission set in an account where
// the user holds a SUCCEEDED assignment, directly or through a group.

const portalCredentialsPath = "/federation/credentials"

func init() {
	unsignedRoutes[portalCredentialsPath] = func(s *Sandbox, w http.ResponseWriter, r *http.Request) {
		s.getRoleCredentials(w, r)
	}
}

// writePortal writes a REST-JSON answer: v with status 200, or e.
func writePortal(w http.ResponseWriter, reqID string, v any, e *apiError) {
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("Content-Type", "application/json")
	if e != nil {
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		body, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
		w.WriteHeader(e.Status)
		w.Write(body)
		return
	}
	body, _ := json.Marshal(v)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

type roleCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"` // epoch milliseconds
}

func (s *Sandbox) getRoleCredentials(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	w.Header().Set("Date", now.Format(http.TimeFormat))
	creds, e := s.portalCredentials(r, now)
	s.log.Debug("sandbox portal call", "action", "GetRoleCredentials", "request_id", reqID, "error", e != nil)
	if e != nil {
		writePortal(w, reqID, nil, e)
		return
	}
	writePortal(w, reqID, struct {
		RoleCredentials roleCredentials `json:"roleCredentials"`
	}{*creds}, nil)
}

// portalCredentials checks the request and mints the session (s.mu
// held). Nothing is stored unless every check passes.
func (s *Sandbox) portalCredentials(r *http.Request, now time.Time) (*roleCredentials, *apiError) {
	if r.Method != http.MethodGet {
		return nil, errorf(400, "InvalidRequestException", "Unsupported method %s.", r.Method)
	}
	q := r.URL.Query()
	token := r.Header.Get("x-amz-sso_bearer_token")
	account, roleName := q.Get("account_id"), q.Get("role_name")
	in := s.ic.instance
	var pt *portalToken
	if in != nil {
		pt = in.tokens[token]
	}
	if token == "" || pt == nil || !now.Before(pt.expires) {
		return nil, errorf(401, "UnauthorizedException", "Session token not found or invalid")
	}
	if account == "" || roleName == "" {
		return nil, errorf(400, "InvalidRequestException", "account_id and role_name are required.")
	}
	s.settle(now)
	var ps *permSet
	for _, p := range in.permSets {
		if p.name == roleName {
			ps = p
		}
	}
	// AWS answers an account or role the user may not use with
	// ForbiddenException "No access" (HTTP 403), an error the API model
	// does not list.
	if ps == nil || !in.hasAccess(pt.user, ps, account) || ps.roles[account] == nil {
		return nil, errorf(403, "ForbiddenException", "No access")
	}
	rs := ps.roles[account]
	u := pt.user
	issued := now.Truncate(time.Second)
	se := &session{
		accessKeyID:         "ASIA" + randomKeyID(16),
		secret:              randomB64(30),
		token:               "IQoJb3JpZ2luX2VjE" + randomB64(240),
		account:             account,
		roleKey:             roleKey(account, rs.Name),
		roleARN:             rs.arn,
		arn:                 fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", s.partition, account, rs.Name, u.UserName),
		userID:              rs.id + ":" + u.UserName,
		sessionName:         u.UserName,
		issued:              issued,
		expires:             issued.Add(ps.duration),
		identityStoreUserID: u.id,
	}
	s.sessions[se.accessKeyID] = se
	return &roleCredentials{AccessKeyID: se.accessKeyID, SecretAccessKey: se.secret, SessionToken: se.token,
		Expiration: se.expires.UnixMilli()}, nil
}
