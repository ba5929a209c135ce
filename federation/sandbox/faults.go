package sandbox

import (
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// Fault is what the sandbox injects into calls of one operation: a share
// of calls answered with the service's throttling error, a share answered
// with its internal error (HTTP 500), and latency added to every call.
// Rates run from 0 to 1; the zero Fault injects nothing.
type Fault struct {
	ThrottleRate float64
	ErrorRate    float64
	Latency      time.Duration
}

// faults holds the injected faults, the IAM propagation delay and the
// previous role policies that delay keeps in force. Its own mutex guards
// the fault table and the random source, which are used outside s.mu;
// the policy versions are guarded by s.mu like the roles they belong to.
type faults struct {
	mu    sync.Mutex
	byOp  map[string]Fault // "<service>:<Operation>", "<service>:*" or "*"
	rng   *rand.Rand
	delay time.Duration // IAM propagation delay

	versions map[string][]policyVersion // by role key; guarded by s.mu
}

// policyVersion is a role's set of parsed inline policies that stays in
// force until a later change has propagated.
type policyVersion struct {
	parsed map[string]*policy
	until  time.Time
}

func newFaults(seed int64) *faults {
	return &faults{
		byOp:     map[string]Fault{},
		rng:      rand.New(rand.NewPCG(uint64(seed), 0x6a69742d73616e64)),
		versions: map[string][]policyVersion{},
	}
}

// SetFault injects f into calls of op, named "<service>:<Operation>" with
// the SigV4 signing name of the service ("sts:AssumeRole",
// "sso:CreateAccountAssignment", "s3:ListBuckets"), "<service>:*" for
// every operation of a service, or "*" for all calls. The most specific
// entry applies. The zero Fault removes the entry.
func (s *Sandbox) SetFault(op string, f Fault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults.byOp, op)
		return
	}
	s.faults.byOp[op] = f
}

// Faults returns a copy of the injected faults by operation.
func (s *Sandbox) Faults() map[string]Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return maps.Clone(s.faults.byOp)
}

// SetPropagationDelay sets how long a change to a role's inline policies
// (PutRolePolicy, DeleteRolePolicy) takes to reach evaluation: until then
// the role's sessions are evaluated against the policies as they were.
// AWS documents this eventual consistency without an SLA (seconds); the
// default is 0, changes apply at once.
func (s *Sandbox) SetPropagationDelay(d time.Duration) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.delay = max(d, 0)
}

func (s *Sandbox) propagationDelay() time.Duration {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.delay
}

// keepPolicies is called with s.mu held just before a role's inline
// policies change at now: with a propagation delay, the current set stays
// in force for that long.
func (s *Sandbox) keepPolicies(rs *role, now time.Time) {
	d := s.propagationDelay()
	if d <= 0 {
		return
	}
	key := roleKey(rs.Account, rs.Name)
	s.faults.versions[key] = append(s.faults.versions[key], policyVersion{parsed: maps.Clone(rs.parsed), until: now.Add(d)})
}

// effectivePolicies returns the role's inline policies in force at now
// (s.mu held): the oldest kept version whose change has not propagated
// yet, else the current ones. Versions already superseded are dropped.
func (s *Sandbox) effectivePolicies(rs *role, now time.Time) map[string]*policy {
	key := roleKey(rs.Account, rs.Name)
	vs := s.faults.versions[key]
	for len(vs) > 0 && !now.Before(vs[0].until) {
		vs = vs[1:]
	}
	if len(vs) == 0 {
		delete(s.faults.versions, key)
		return rs.parsed
	}
	s.faults.versions[key] = vs
	return vs[0].parsed
}

// drawnFault is the outcome of the draw for one call.
type drawnFault struct {
	op                string
	throttle, failure bool
}

// drawFault looks up the fault for the call's operation, sleeps for its
// latency and draws whether it throttles or fails. It runs before s.mu is
// taken, so latency never blocks other calls.
func (s *Sandbox) drawFault(c *call) drawnFault {
	op := c.svc.name + ":" + operationOf(c)
	s.faults.mu.Lock()
	f, ok := s.faults.byOp[op]
	if !ok {
		f, ok = s.faults.byOp[c.svc.name+":*"]
	}
	if !ok {
		f, ok = s.faults.byOp["*"]
	}
	var d drawnFault
	if ok {
		d.op = op
		if f.ThrottleRate > 0 {
			d.throttle = s.faults.rng.Float64() < f.ThrottleRate
		}
		if !d.throttle && f.ErrorRate > 0 {
			d.failure = s.faults.rng.Float64() < f.ErrorRate
		}
	}
	s.faults.mu.Unlock()
	if f.Latency > 0 {
		select {
		case <-time.After(f.Latency):
		case <-c.r.Context().Done():
		}
	}
	return d
}

// apply answers an authenticated call with its drawn fault, in the
// service's own protocol, or returns nil to let the call through.
func (d drawnFault) apply(c *call) *apiError {
	if !d.throttle && !d.failure {
		return nil
	}
	c.action = d.op[strings.IndexByte(d.op, ':')+1:]
	switch c.svc.proto.(type) {
	case jsonProtocol:
		if d.throttle {
			return errorf(400, "ThrottlingException", "Rate exceeded")
		}
		return errorf(500, "InternalServerException", "An internal error occurred. (injected by the sandbox)")
	case s3Protocol:
		if d.throttle {
			return errorf(503, "SlowDown", "Please reduce your request rate.")
		}
		return errorf(500, "InternalError", "We encountered an internal error. Please try again.")
	case ec2Protocol:
		if d.throttle {
			return errorf(503, "RequestLimitExceeded", "Request limit exceeded.")
		}
		return errorf(500, "InternalError", "An internal error has occurred. (injected by the sandbox)")
	}
	if d.throttle {
		return errorf(400, "Throttling", "Rate exceeded")
	}
	return errorf(500, "InternalFailure", "An internal error occurred. (injected by the sandbox)")
}

// operationOf names the operation a request asks for, before dispatch:
// the JSON target's operation, the Query Action, or the S3 operation.
func operationOf(c *call) string {
	if t := c.r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndexByte(t, '.')+1:]
	}
	if c.svc.s3 {
		if c.r.URL.Path == "/" && c.r.Method == "GET" {
			return "ListBuckets"
		}
		return c.r.Method + " " + c.r.URL.Path
	}
	return c.form.Get("Action")
}
