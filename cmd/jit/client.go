package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// clientFlags are the settings every client command takes.
type clientFlags struct {
	url, token, output string
	// identity names whose token this is when it comes from `jit login`
	// (the email), so caches outlive a token refresh; "" for JIT_TOKEN.
	identity string
}

func (c *clientFlags) bind(fs *flag.FlagSet, output bool) {
	fs.StringVar(&c.url, "url", serverURLDefault(), "JIT server URL (env JIT_URL; default: the server of `jit login`)")
	// No default from JIT_TOKEN here: flag prints defaults in -help, and
	// the token is a secret. check reads the environment instead.
	fs.StringVar(&c.token, "token", "", "bearer token (default: env JIT_TOKEN)")
	if output {
		fs.StringVar(&c.output, "output", "text", "output format: text or json")
	}
}

// parseNoArgs parses args into fs (which c is bound to), refuses
// positional arguments and checks the client flags: the start of every
// command that takes flags only.
func (c *clientFlags) parseNoArgs(fs *flag.FlagSet, args []string) error {
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	return c.check()
}

// check validates the flags and takes the token from JIT_TOKEN when
// --token was not given, else from `jit login` (refreshed when needed;
// never by opening a browser).
func (c *clientFlags) check() error {
	if c.token == "" {
		c.token = os.Getenv("JIT_TOKEN")
	}
	if c.output != "" && c.output != "text" && c.output != "json" {
		return fmt.Errorf("--output must be text or json, not %q", c.output)
	}
	if c.token == "" {
		// check has no context of its own; a refresh is bounded in loginToken.
		tok, email, err := loginToken(context.Background(), c.url)
		if err != nil {
			return err
		}
		c.token, c.identity = tok, email
		signedInTo = c.url
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// apiError is an error answer from the server.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return shown(e.Message) + " (" + shown(e.Code) + ")" }

// call sends a JSON request to the API and decodes a JSON answer into out.
func (c *clientFlags) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.url, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach JIT at %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return apiErrorFrom(resp.StatusCode, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// decodeAPIError reads an error answer.
func decodeAPIError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return apiErrorFrom(resp.StatusCode, resp.Status, data)
}

func apiErrorFrom(status int, statusText string, data []byte) error {
	e := &apiError{Status: status}
	if json.Unmarshal(data, e) != nil || e.Message == "" {
		return fmt.Errorf("server answered %s", statusText)
	}
	return e
}
