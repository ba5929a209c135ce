package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// partitionHosts are the sign-in and console hosts of each partition
// (aws-facts.md section 2).
var partitionHosts = map[string]struct{ signin, console string }{
	"aws":        {"signin.aws.amazon.com", "console.aws.amazon.com"},
	"aws-cn":     {"signin.amazonaws.cn", "console.amazonaws.cn"},
	"aws-us-gov": {"signin.amazonaws-us-gov.com", "console.amazonaws-us-gov.com"},
}

// Signin turns session credentials into a console sign-in URL through the
// federation endpoint (getSigninToken, then login).
type Signin struct {
	// Issuer is JIT's base URL; the console links back to it on sign-out.
	Issuer    string
	Partition string // default "aws"
	// Endpoint overrides the federation endpoint's base URL (the AWS
	// sandbox); the login URL then points there too.
	Endpoint string
	HTTP     *http.Client
}

var _ broker.ConsoleSigner = (*Signin)(nil)

// SigninURL returns a login URL, valid for 15 minutes, that opens the
// console at destination (default: the console home of region, or of the
// partition). SessionDuration is never sent: the console session lasts as
// long as the credentials, which JIT already caps at the ticket's end, and
// AWS does not take it for role-chained credentials.
func (s *Signin) SigninURL(ctx context.Context, c broker.Credentials, region, destination string) (string, error) {
	hosts, ok := partitionHosts[s.partition()]
	if !ok {
		return "", fmt.Errorf("unknown partition %q", s.Partition)
	}
	dest, err := consoleDestination(hosts.console, region, destination)
	if err != nil {
		return "", err
	}
	base := s.Endpoint
	if base == "" {
		host := hosts.signin
		if region != "" {
			host = region + "." + host
		}
		base = "https://" + host
	}
	base = strings.TrimRight(base, "/") + "/federation"
	session, _ := json.Marshal(map[string]string{"sessionId": c.AccessKeyID, "sessionKey": c.SecretAccessKey, "sessionToken": c.SessionToken})
	q := url.Values{"Action": {"getSigninToken"}, "Session": {string(session)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base, strings.NewReader(q.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("get sign-in token: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct{ SigninToken string }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.SigninToken == "" {
		// The body may echo nothing secret, but keep it out of errors anyway.
		return "", fmt.Errorf("get sign-in token: federation endpoint answered %s", resp.Status)
	}
	login := url.Values{"Action": {"login"}, "Issuer": {s.Issuer}, "Destination": {dest}, "SigninToken": {out.SigninToken}}
	return base + "?" + login.Encode(), nil
}

// CheckDestination validates region and destination for this partition.
func (s *Signin) CheckDestination(region, destination string) error {
	hosts, ok := partitionHosts[s.partition()]
	if !ok {
		return fmt.Errorf("unknown partition %q", s.Partition)
	}
	_, err := consoleDestination(hosts.console, region, destination)
	return err
}

func (s *Signin) partition() string {
	if s.Partition == "" {
		return "aws"
	}
	return s.Partition
}

// consoleDestination checks a requested destination (it must be a console
// page of the partition, so the link can never send users elsewhere) or
// builds the default one.
func consoleDestination(consoleHost, region, destination string) (string, error) {
	if region != "" && !validRegion(region) {
		return "", broker.Errorf(broker.EINVALID, "region %q is not a region name", region)
	}
	if destination == "" {
		if region == "" {
			return "https://" + consoleHost + "/", nil
		}
		return fmt.Sprintf("https://%s.%s/console/home?region=%s", region, consoleHost, region), nil
	}
	u, err := url.Parse(destination)
	if err != nil || u.Scheme != "https" || (u.Host != consoleHost && !strings.HasSuffix(u.Host, "."+consoleHost)) {
		return "", broker.Errorf(broker.EINVALID, "destination must be an https URL on %s", consoleHost)
	}
	return u.String(), nil
}

func validRegion(r string) bool {
	if len(r) < 9 || len(r) > 25 {
		return false
	}
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return strings.Count(r, "-") >= 2
}
