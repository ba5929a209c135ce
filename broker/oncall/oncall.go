// Package oncall tells who is on call on a PagerDuty or Opsgenie schedule,
// through their REST APIs, for rules that auto-approve people on call
// (broker.OnCallSource).
package oncall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/broker"
)

// Schedules is one client per provider; it implements broker.OnCallSource.
// A provider without a client is an error (nobody auto-approved).
type Schedules map[string]Provider

// Provider is one provider's client.
type Provider interface {
	// OnCall returns the emails of those on call on schedule at at.
	OnCall(ctx context.Context, schedule string, at time.Time) ([]string, error)
}

var _ broker.OnCallSource = Schedules(nil)

// OnCall asks the provider's client.
func (s Schedules) OnCall(ctx context.Context, provider, schedule string, at time.Time) ([]string, error) {
	p, ok := s[provider]
	if !ok || p == nil {
		return nil, fmt.Errorf("on-call provider %q is not configured on this server", provider)
	}
	return p.OnCall(ctx, schedule, at)
}

// maxBody bounds what is read of a provider's answer.
const maxBody = 4 << 20

// maxPages bounds PagerDuty's pagination.
const maxPages = 20

// get sends an authorized GET and decodes a 200 answer's JSON into out.
// Errors name the status, never the credential.
func get(ctx context.Context, hc *http.Client, u, authorization string, accept string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", authorization)
	req.Header.Set("Accept", accept)
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("on-call look-up: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("on-call look-up: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("on-call look-up: %s", resp.Status)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("on-call look-up: bad answer: %w", err)
	}
	return nil
}

// PagerDuty reads PagerDuty's REST API v2: GET /oncalls for one schedule
// with the users' emails.
type PagerDuty struct {
	// BaseURL is the API's root URL, without a trailing slash.
	BaseURL string
	// Token is a REST API key (read-only is enough).
	Token string
	HTTP  *http.Client
}

// OnCall returns the emails of the users on call on schedule at at.
func (p *PagerDuty) OnCall(ctx context.Context, schedule string, at time.Time) ([]string, error) {
	var out []string
	for page, offset := 0, 0; page < maxPages; page++ {
		q := url.Values{}
		q.Set("schedule_ids[]", schedule)
		q.Set("include[]", "users")
		q.Set("since", at.UTC().Format(time.RFC3339))
		q.Set("until", at.UTC().Add(time.Second).Format(time.RFC3339))
		q.Set("limit", "100")
		q.Set("offset", strconv.Itoa(offset))
		var body struct {
			OnCalls []struct {
				User struct {
					Email string `json:"email"`
				} `json:"user"`
				Start *time.Time `json:"start"`
				End   *time.Time `json:"end"`
			} `json:"oncalls"`
			More bool `json:"more"`
		}
		if err := get(ctx, p.HTTP, strings.TrimSuffix(p.BaseURL, "/")+"/oncalls?"+q.Encode(),
			"Token token="+p.Token, "application/vnd.pagerduty+json;version=2", &body); err != nil {
			return nil, fmt.Errorf("pagerduty schedule %s: %w", schedule, err)
		}
		for _, o := range body.OnCalls {
			// An on-call without start or end is permanent (escalation
			// rules without a schedule); with them, it must cover at.
			if (o.Start != nil && at.Before(*o.Start)) || (o.End != nil && !at.Before(*o.End)) || o.User.Email == "" {
				continue
			}
			out = append(out, o.User.Email)
		}
		if !body.More || len(body.OnCalls) == 0 {
			return out, nil
		}
		offset += len(body.OnCalls)
	}
	return nil, fmt.Errorf("pagerduty schedule %s: more than %d pages of on-calls", schedule, maxPages)
}

// Opsgenie reads Opsgenie's Schedule API: GET
// /v2/schedules/{id}/on-calls?flat=true, whose recipients are usernames
// (Opsgenie's usernames are emails).
type Opsgenie struct {
	// BaseURL is the API's root URL, without a trailing slash.
	BaseURL string
	// Key is an API integration key with read access.
	Key  string
	HTTP *http.Client
}

// OnCall returns the usernames (emails) on call on schedule at at.
func (o *Opsgenie) OnCall(ctx context.Context, schedule string, at time.Time) ([]string, error) {
	q := url.Values{}
	q.Set("flat", "true")
	q.Set("scheduleIdentifierType", "id")
	q.Set("date", at.UTC().Format(time.RFC3339))
	var body struct {
		Data struct {
			OnCallRecipients []string `json:"onCallRecipients"`
		} `json:"data"`
	}
	if err := get(ctx, o.HTTP, strings.TrimSuffix(o.BaseURL, "/")+"/v2/schedules/"+url.PathEscape(schedule)+"/on-calls?"+q.Encode(),
		"GenieKey "+o.Key, "application/json", &body); err != nil {
		return nil, fmt.Errorf("opsgenie schedule %s: %w", schedule, err)
	}
	return body.Data.OnCallRecipients, nil
}
