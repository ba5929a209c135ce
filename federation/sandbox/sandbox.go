package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options tune a Sandbox. The zero value is ready to use.
type Options struct {
	// Now is the sandbox's clock, for session expiry, the clock skew
	// check and aws:CurrentTime; nil means time.Now.
	Now func() time.Time
	// Logger receives one debug line per call (never secrets); nil
	// discards.
	Logger *slog.Logger
	// Seed seeds the random source of injected faults (faults.go), so
	// that runs are repeatable.
	Seed int64
	// Admin serves the admin endpoint under /_sandbox/ (admin.go); off,
	// those paths answer like any unknown route.
	Admin bool
	// TrailDelay is how long a CloudTrail event takes to become visible
	// to LookupEvents (trail.go); 0 means at once (AWS: ~5 min average).
	TrailDelay time.Duration
	// AssignmentDelay is how long, on the sandbox clock, Identity Center
	// assignment and provisioning operations stay IN_PROGRESS
	// (identitycenter.go). Zero means IN_PROGRESS for the first Describe
	// call and SUCCEEDED after it, so that callers always poll.
	AssignmentDelay time.Duration
}

// Sandbox is an in-process AWS: an http.Handler serving STS, IAM, S3 and
// EC2 on one host, with SigV4 verification and policy evaluation. It is
// safe for concurrent use.
type Sandbox struct {
	partition string
	region    string
	now       func() time.Time
	log       *slog.Logger
	started   time.Time
	services  map[string]*service
	pageKey   []byte // signs pagination tokens (pagetoken.go)

	mu       sync.Mutex // guards everything below
	accounts map[string]Account
	roles    map[string]*role    // by roleKey(account, name)
	users    map[string]*user    // by access key id
	sessions map[string]*session // by access key id

	trail    *trail    // CloudTrail events (trail.go)
	faults   *faults   // injected faults and propagation delay (faults.go)
	consoles *consoles // console federation sign-ins (signin.go)
	// scps are the fixture's service_control_policies and
	// org_deny_policies; fullAccess is set when FullAWSAccess is in force
	// beside them (no service_control_policies).
	scps       []*policy
	fullAccess bool
	managed    map[string]*managedPolicy // by ARN (managed.go)
	admin      bool                      // serve /_sandbox/ (admin.go)
	ic         *identityCenter           // Identity Center, Identity Store, Organizations (identitycenter.go)
}

// role is the live state of a fixture role.
type role struct {
	Role
	arn     string
	id      string // AROA...
	created time.Time
	// samlProvider is set for Identity Center roles: the SAML provider
	// their trust policy names (a Federated principal no caller can be).
	samlProvider string
	policies     map[string]string  // inline policy name -> document as written
	parsed       map[string]*policy // same names, parsed
}

// user is a fixture IAM user with its long-term key.
type user struct {
	User
	arn string
	id  string // AIDA...
}

// session is a set of temporary credentials minted by AssumeRole.
type session struct {
	accessKeyID    string
	secret         string
	token          string
	account        string
	roleKey        string
	roleARN        string
	arn            string // assumed-role ARN
	userID         string // AROA...:session-name
	sessionName    string
	tags           []tag // keys unique case-insensitively
	transitive     []string
	sourceIdentity string
	policyText     string
	policyArns     []string
	// policies are the session policies (inline, then PolicyArns);
	// hasSessionPolicy is set when any was given.
	policies         []*policy
	hasSessionPolicy bool
	issued           time.Time
	expires          time.Time
	// identityStoreUserID is set for access portal sessions: the
	// Identity Store user the session was issued to.
	identityStoreUserID string
}

type tag struct{ key, value string }

// principal is the authenticated caller of one request.
type principal struct {
	arn     string
	account string
	userID  string
	user    *user    // set for IAM users
	session *session // set for minted sessions
}

// service is one AWS service the sandbox serves, by SigV4 signing name.
type service struct {
	name  string
	proto protocol
	// globalRegion, when set, is the only region the credential scope
	// may name (IAM is signed for us-east-1 in the aws partition).
	globalRegion string
	// s3 selects S3's signing rules.
	s3    bool
	serve func(c *call) *apiError
}

// call is one request in flight.
type call struct {
	s      *Sandbox
	w      http.ResponseWriter
	r      *http.Request
	svc    *service
	body   []byte
	form   url.Values // query string plus form body (Query protocols)
	reqID  string
	now    time.Time
	auth   *sigv4
	caller *principal
	action string   // for logging
	minted *session // the session AssumeRole minted, for the trail
}

const maxBody = 10 << 20

// New builds a Sandbox serving f. The fixture is validated as LoadFixture
// does, after its defaults are filled in.
func New(f Fixture, opt Options) (*Sandbox, error) {
	f = f.withDefaults()
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("sandbox fixture: %w", err)
	}
	s := &Sandbox{
		partition: f.Partition,
		region:    f.Region,
		now:       opt.Now,
		log:       opt.Logger,
		pageKey:   newPageKey(),
		accounts:  map[string]Account{},
		roles:     map[string]*role{},
		users:     map[string]*user{},
		sessions:  map[string]*session{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.started = s.now().UTC().Truncate(time.Second)
	for _, a := range f.Accounts {
		s.accounts[a.ID] = a
	}
	for _, r := range f.Roles {
		arn := fmt.Sprintf("arn:%s:iam::%s:role%s%s", s.partition, r.Account, r.Path, r.Name)
		rs := &role{Role: r, arn: arn, id: stableID("AROA", arn), created: s.started,
			policies: map[string]string{}, parsed: map[string]*policy{}}
		for name, doc := range r.Policies {
			p, _ := parsePolicy(doc, false) // validated above
			rs.policies[name], rs.parsed[name] = doc, p
		}
		s.roles[roleKey(r.Account, r.Name)] = rs
	}
	for _, u := range f.Users {
		arn := fmt.Sprintf("arn:%s:iam::%s:user/%s", s.partition, u.Account, u.Name)
		s.users[u.AccessKeyID] = &user{User: u, arn: arn, id: stableID("AIDA", arn)}
	}
	s.initOperations(f, opt)
	s.initManagedPolicies(f)
	s.ic = s.newIdentityCenter(f, opt)
	s.services = map[string]*service{}
	for _, svc := range []*service{
		s.stsService(),
		s.iamService(),
		s.s3Service(),
		s.ec2Service(),
		s.cloudTrailService(),
		s.ssoAdminService(),
		s.identityStoreService(),
		s.organizationsService(),
	} {
		s.services[svc.name] = svc
	}
	return s, nil
}

// ServeHTTP answers one AWS API call.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if route, ok := unsignedRoutes[r.URL.Path]; ok && !hasAuth(r) {
		route(s, w, r)
		return
	}
	c := &call{s: s, w: w, r: r, reqID: newRequestID(), now: s.now().UTC()}
	// The SDKs correct their clock skew from the Date header, so it
	// follows the sandbox's clock, not the wall clock.
	w.Header().Set("Date", c.now.Format(http.TimeFormat))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		http.Error(w, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	c.body = body
	r.Body = io.NopCloser(bytes.NewReader(body))

	var authErr *authError
	if hasAuth(r) {
		c.auth, authErr = parseSigV4(r)
	}
	c.svc = s.pickService(c)
	c.form = r.URL.Query()
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if bf, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range bf {
				c.form[k] = append(c.form[k], v...)
			}
		}
	}

	fault := s.drawFault(c) // sleeps for injected latency, outside the lock
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(c.now) // complete Identity Center operations that are due (identitycenter.go)
	if authErr == nil {
		authErr = s.authenticate(c)
	}
	var apiErr *apiError
	if authErr != nil {
		apiErr = c.svc.proto.authError(authErr)
	} else if apiErr = fault.apply(c); apiErr == nil {
		apiErr = c.svc.serve(c)
	}
	if c.caller != nil {
		s.recordCall(c, apiErr) // CloudTrail, success or failure
	}
	caller := ""
	if c.caller != nil {
		caller = c.caller.arn
	}
	if apiErr != nil {
		c.svc.proto.writeError(w, c.reqID, apiErr)
		s.log.Debug("sandbox call failed", "service", c.svc.name, "action", c.action, "caller", caller,
			"code", apiErr.Code, "status", apiErr.Status, "request_id", c.reqID)
		return
	}
	s.log.Debug("sandbox call", "service", c.svc.name, "action", c.action, "caller", caller, "request_id", c.reqID)
}

// pickService routes by the credential scope's service; an unsigned or
// unparsable request is routed by its shape so that its error comes in
// the right format.
func (s *Sandbox) pickService(c *call) *service {
	if c.auth != nil {
		if svc, ok := s.services[c.auth.service]; ok {
			return svc
		}
		return s.unknownService(c.auth.service, c.r)
	}
	if c.r.Header.Get("X-Amz-Target") != "" {
		return s.unknownService("", c.r)
	}
	vals := c.r.URL.Query()
	if bf, err := url.ParseQuery(string(c.body)); err == nil && vals.Get("Version") == "" {
		vals = bf
	}
	switch vals.Get("Version") {
	case stsVersion:
		return s.services["sts"]
	case iamVersion:
		return s.services["iam"]
	case ec2Version:
		return s.services["ec2"]
	}
	if vals.Get("Action") != "" {
		return s.services["sts"]
	}
	return s.services["s3"]
}

// unknownService answers calls for services the sandbox does not serve.
func (s *Sandbox) unknownService(name string, r *http.Request) *service {
	var proto protocol = queryProtocol{xmlns: "https://sts.amazonaws.com/doc/2011-06-15/"}
	if r.Header.Get("X-Amz-Target") != "" {
		proto = jsonProtocol{}
	}
	return &service{name: name, proto: proto, serve: func(c *call) *apiError {
		return errorf(400, "UnknownService", "The sandbox does not serve service %q.", name)
	}}
}

// authenticate verifies the request's SigV4 signature with the secret the
// sandbox knows for its key and sets c.caller.
func (s *Sandbox) authenticate(c *call) *authError {
	a := c.auth
	if a == nil {
		return &authError{kind: authMissing}
	}
	if err := a.checkScope(c.svc.globalRegion); err != nil {
		return err
	}
	var secret string
	if u, ok := s.users[a.accessKeyID]; ok {
		if a.securityToken != "" {
			return &authError{kind: authBadToken} // a long-term key takes no token
		}
		secret = u.SecretAccessKey
		c.caller = &principal{arn: u.arn, account: u.Account, userID: u.id, user: u}
	} else if se, ok := s.sessions[a.accessKeyID]; ok {
		switch {
		case a.securityToken == "":
			return &authError{kind: authUnknownKey}
		case a.securityToken != se.token:
			return &authError{kind: authBadToken}
		case !c.now.Before(se.expires):
			return &authError{kind: authExpired}
		}
		secret = se.secret
		c.caller = &principal{arn: se.arn, account: se.account, userID: se.userID, session: se}
	} else {
		return &authError{kind: authUnknownKey}
	}
	if err := a.checkTime(c.now); err != nil {
		c.caller = nil
		return err
	}
	payload := sha256Hex(c.body)
	if c.svc.s3 {
		h := c.r.Header.Get("X-Amz-Content-Sha256")
		switch {
		case h == unsignedPayload || strings.HasPrefix(h, "STREAMING-"):
			// Chunk signatures of streaming uploads are not verified yet:
			// the S3 slice has no upload operation.
			payload = h
		case h == "" && a.presigned:
			payload = unsignedPayload
		case h != payload:
			c.caller = nil
			return &authError{kind: authBadSig, msg: "The provided 'x-amz-content-sha256' header is missing or does not match what was computed."}
		}
	}
	if err := a.verify(c.r, secret, payload, c.svc.s3); err != nil {
		c.caller = nil
		return err
	}
	return nil
}

// authorize evaluates the caller's policies for action on resource.
// Admin users are always allowed; other users have no policies.
func (c *call) authorize(action, resource string) decision {
	p := c.caller
	if p.user != nil {
		if p.user.Admin {
			return decision{allowed: true}
		}
		return decision{where: inIdentityPolicy}
	}
	rs := c.s.roles[p.session.roleKey]
	ps := c.s.rolePolicySet(rs, p.session, c.now)
	return ps.evaluate(evalRequest{action: action, resource: resource, context: c.context()})
}

// context is the request context for condition keys, keyed lower-case.
func (c *call) context() map[string][]string {
	p := c.caller
	m := map[string][]string{
		"aws:currenttime":      {c.now.Format(time.RFC3339)},
		"aws:epochtime":        {strconv.FormatInt(c.now.Unix(), 10)},
		"aws:principalaccount": {p.account},
		"aws:userid":           {p.userID},
		"aws:securetransport":  {strconv.FormatBool(c.r.TLS != nil)},
	}
	if c.auth != nil {
		m["aws:requestedregion"] = []string{c.auth.region}
	}
	if host, _, err := net.SplitHostPort(c.r.RemoteAddr); err == nil {
		m["aws:sourceip"] = []string{host}
	}
	if u := p.user; u != nil {
		m["aws:principalarn"] = []string{u.arn}
		m["aws:principaltype"] = []string{"User"}
		m["aws:username"] = []string{u.Name}
		return m
	}
	se := p.session
	// For a role session, aws:PrincipalArn is the role's ARN.
	m["aws:principalarn"] = []string{se.roleARN}
	m["aws:principaltype"] = []string{"AssumedRole"}
	m["aws:tokenissuetime"] = []string{se.issued.Format(time.RFC3339)}
	if se.sourceIdentity != "" {
		m["aws:sourceidentity"] = []string{se.sourceIdentity}
	}
	for _, t := range se.tags {
		m["aws:principaltag/"+strings.ToLower(t.key)] = []string{t.value}
	}
	if se.identityStoreUserID != "" {
		m["identitystore:userid"] = []string{se.identityStoreUserID}
	}
	return m
}

// writeQuery writes an awsQuery success response: <ActionResponse> with
// an optional <ActionResult> and the ResponseMetadata.
func (c *call) writeQuery(xmlns, action string, result any) *apiError {
	var b bytes.Buffer
	b.WriteString(`<` + action + `Response xmlns="` + xmlns + `">`)
	if result != nil {
		enc := xml.NewEncoder(&b)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return errorf(500, "InternalFailure", "encode response: %v", err)
		}
	}
	b.WriteString(`<ResponseMetadata><RequestId>` + c.reqID + `</RequestId></ResponseMetadata></` + action + `Response>`)
	c.w.Header().Set("x-amzn-RequestId", c.reqID)
	writeXML(c.w, http.StatusOK, "text/xml", b.Bytes())
	return nil
}

// writeXMLDoc marshals v as a whole XML document with status 200.
func (c *call) writeXMLDoc(contentType string, v any) *apiError {
	body, err := xml.Marshal(v)
	if err != nil {
		return errorf(500, "InternalError", "encode response: %v", err)
	}
	writeXML(c.w, http.StatusOK, contentType, body)
	return nil
}

func roleKey(account, name string) string { return account + "/" + strings.ToLower(name) }

// stableID derives an IAM unique id (prefix plus 17 characters) from an
// ARN, so ids survive restarts of a sandbox built from the same fixture.
func stableID(prefix, arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// queryHandler serves one action of a Query-protocol service.
type queryHandler func(c *call) *apiError

// dispatchQuery picks the handler for the form's Action after checking
// the API Version, as STS, IAM and EC2 do.
func (c *call) dispatchQuery(version string, actions map[string]queryHandler) *apiError {
	c.action = c.form.Get("Action")
	if c.action == "" {
		return errorf(400, "MissingAction", "Missing Action")
	}
	h, ok := actions[c.action]
	if !ok || c.form.Get("Version") != version {
		return errorf(400, "InvalidAction", "Could not find operation %s for version %s", c.action, c.form.Get("Version"))
	}
	return h(c)
}
