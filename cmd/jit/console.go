package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// runConsole opens a fresh AWS console sign-in URL for a ticket in the
// browser, or prints it with --url-only or when no browser can be opened
// (the API answers GET /tickets/{id}/console with a redirect to it).
func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c clientFlags
	fs := newFlagSet("console", stderr)
	c.bind(fs, false)
	ticket := fs.String("ticket", "", "ticket id")
	region := fs.String("region", "", "open the console in this region")
	dest := fs.String("destination", "", "console URL to open (default: console home)")
	urlOnly := fs.Bool("url-only", false, "print the sign-in link instead of opening it")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *ticket == "" {
		return errors.New("--ticket is required")
	}
	if err := c.check(); err != nil {
		return err
	}
	q := url.Values{}
	if *region != "" {
		q.Set("region", *region)
	}
	if *dest != "" {
		q.Set("destination", *dest)
	}
	u := strings.TrimRight(c.url, "/") + "/api/v1/tickets/" + url.PathEscape(*ticket) + "/console?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach JIT at %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return fmt.Errorf("no console link for ticket %s: %w", *ticket, decodeAPIError(resp))
	}
	link := resp.Header.Get("Location")
	if !*urlOnly && openBrowser(link) == nil {
		fmt.Fprintln(stderr, "Opened the AWS console in your browser (the link works once, for a few minutes).")
		return nil
	}
	_, err = fmt.Fprintln(stdout, shown(link))
	return err
}
