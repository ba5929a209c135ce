package client

import (
	"bytes"
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
	"unicode"

	"github.com/jitaccess/jit/console/wire"
)

// TokenSource gives the bearer token for the next request.
type TokenSource interface {
	// Token returns the token; an error stops the request.
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always gives the same token.
type StaticToken string

// Token returns t.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// TokenFunc is a TokenSource that calls itself.
type TokenFunc func(ctx context.Context) (string, error)

// Token returns f(ctx).
func (f TokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }

// maxBody bounds the answers read.
const maxBody = 10 << 20

// Client calls one JIT server. Its fields may be set before first use.
type Client struct {
	// BaseURL is the server: "https://jit.example.com".
	BaseURL string
	// Tokens gives the bearer token; nil sends none (the public routes).
	Tokens TokenSource
	// HTTP sends the requests; default a client with a 30 s timeout.
	HTTP *http.Client
}

// New returns a client of the server at baseURL.
func New(baseURL string, tokens TokenSource) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Tokens: tokens, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Error is the server's refusal: its code and message (wire.Error) and
// the HTTP status. An answer that is not JSON has no code and a Message
// naming the status.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error returns "message (code)". A message or code holding characters a
// terminal would obey (controls, invisible formatting) is quoted.
func (e *Error) Error() string {
	if e.Code == "" {
		return printable(e.Message)
	}
	return printable(e.Message) + " (" + printable(e.Code) + ")"
}

// printable quotes s when it holds anything strconv does not call
// printable.
func printable(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return !strconv.IsPrint(r) || unicode.Is(unicode.Cf, r) }) {
		return strconv.Quote(s)
	}
	return s
}

// IsCode reports whether err is an *Error with the code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// do sends in (nil: no body) as JSON to method path?query and decodes a
// JSON answer into out (nil: ignored).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, err := c.send(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the server's answer is not what the API says: %w", method, path, err)
	}
	return nil
}

// send makes the request and returns a successful answer, whose body the
// caller closes; an error answer is an *Error.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.Tokens != nil {
		tok, err := c.Tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach JIT at %s: %w", c.BaseURL, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return nil, errorFrom(resp, data)
	}
	return resp, nil
}

// errorFrom reads an error answer.
func errorFrom(resp *http.Response, data []byte) error {
	var w wire.Error
	if json.Unmarshal(data, &w) != nil || w.Message == "" {
		return &Error{Status: resp.StatusCode, Message: "server answered " + resp.Status}
	}
	return &Error{Status: resp.StatusCode, Code: w.Code, Message: w.Message}
}

// ticketPath is /api/v1/tickets/{id}[/suffix].
func ticketPath(id, suffix string) string {
	p := "/api/v1/tickets/" + url.PathEscape(id)
	if suffix != "" {
		p += "/" + suffix
	}
	return p
}

func boolQuery(name string, v bool) url.Values {
	if !v {
		return nil
	}
	return url.Values{name: {"true"}}
}
