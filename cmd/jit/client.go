package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jitaccess/jit/console/client"
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
type apiError = client.Error

// api returns the typed client of the server, with the token of check:
// --token or JIT_TOKEN as given, else `jit login`'s, refreshed when needed
// before each request.
func (c *clientFlags) api() *client.Client {
	var tokens client.TokenSource = client.StaticToken(c.token)
	if c.identity != "" {
		first := c.token
		tokens = client.TokenFunc(func(ctx context.Context) (string, error) {
			if first != "" {
				tok := first
				first = ""
				return tok, nil
			}
			tok, _, err := loginToken(ctx, c.url)
			return tok, err
		})
	}
	return client.New(c.url, tokens)
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
