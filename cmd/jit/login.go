package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/jitaccess/jit/cmd/jit/internal/fastcred"
	"github.com/jitaccess/jit/console/client"
	"github.com/jitaccess/jit/console/wire"
)

// loginTimeout bounds how long `jit login` waits for the user in the
// browser (or on the device page).
const loginTimeout = 5 * time.Minute

// authSettings is what the server says about signing in (GET
// /config.json, which the approver page reads too).
type authSettings struct{ wire.WebConfig }

// errNotLoggedIn says how to sign in; client commands return it when they
// have no token.
func errNotLoggedIn(server string) error {
	return fmt.Errorf("not signed in to %s: run `jit login --url %s` (or set JIT_TOKEN)", server, server)
}

// runLogin signs in with the server's identity provider and keeps the
// tokens (tokenstore.go): the authorization code flow with PKCE on a
// loopback redirect, in the browser; with --no-browser, the device
// authorization grant when the provider offers it, else the URL to open.
func runLogin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("login", stderr)
	server := fs.String("url", serverURLDefault(), "JIT server URL (env JIT_URL; remembered for later commands)")
	noBrowser := fs.Bool("no-browser", false, "do not open a browser: use the device code flow, or print the URL to open")
	stepUp := fs.Bool("step-up", false, "sign in afresh at the identity provider (prompt=login, max_age=0), for decisions that need a recent sign-in (step_up_required)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	*server = normServer(*server)
	store, err := newTokenStore()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, loginTimeout)
	defer cancel()
	as, err := fetchAuthSettings(ctx, *server)
	if err != nil {
		return err
	}
	provider, err := oidc.NewProvider(ctx, as.Issuer)
	if err != nil {
		return fmt.Errorf("cannot reach the identity provider %s: %w", as.Issuer, err)
	}
	cfg := oauth2.Config{ClientID: as.clientID(), Endpoint: provider.Endpoint(), Scopes: scopesFor(provider, as.Scopes)}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: no secret
	var tok *oauth2.Token
	nonce := ""
	var extra []oauth2.AuthCodeOption
	if *stepUp {
		// OIDC Core 3.1.2.1: the provider must authenticate the user
		// again, and put auth_time in the ID token.
		extra = append(extra, oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "0"))
	}
	if *noBrowser && !*stepUp && cfg.Endpoint.DeviceAuthURL != "" {
		tok, err = deviceLogin(ctx, &cfg, stderr)
		var refused deviceRefusedError
		if errors.As(err, &refused) {
			// Offered, but not to this client: the URL to open instead.
			fmt.Fprintf(stderr, "The identity provider refused the device sign-in for client %s (%v).\n", cfg.ClientID, refused.err)
			tok, err = nil, nil
		}
	}
	if tok == nil && err == nil {
		nonce = randomToken()
		var paste io.Reader
		if *noBrowser {
			paste = os.Stdin
		}
		tok, err = browserLogin(ctx, &cfg, nonce, !*noBrowser, paste, stderr, extra...)
	}
	if err != nil {
		return err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return errors.New("the identity provider sent no ID token")
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return fmt.Errorf("the identity provider's ID token does not verify: %w", err)
	}
	if idt.Nonce != nonce {
		return errors.New("the ID token's nonce is not the one sent: sign in again")
	}
	if *stepUp {
		var c struct {
			AuthTime int64 `json:"auth_time"`
		}
		if err := idt.Claims(&c); err != nil || c.AuthTime == 0 || time.Since(time.Unix(c.AuthTime, 0)) > loginTimeout+time.Minute {
			return errors.New("the identity provider did not sign you in afresh (its ID token has no recent auth_time): decisions that need a recent sign-in will still be refused")
		}
	}
	var meta struct {
		RevokeURL string `json:"revocation_endpoint"`
	}
	_ = provider.Claims(&meta)
	login := storedLogin{Issuer: as.Issuer, ClientID: cfg.ClientID, TokenURL: cfg.Endpoint.TokenURL, RevokeURL: meta.RevokeURL,
		IDToken: raw, RefreshToken: tok.RefreshToken, Expiry: idt.Expiry}
	// JIT must accept the token before it is kept.
	me, err := whoami(ctx, clientFlags{url: *server, token: raw})
	if err != nil {
		return fmt.Errorf("JIT at %s refused the sign-in: %w", *server, err)
	}
	login.Email = me.Email
	if err := store.save(*server, login); err != nil {
		return fmt.Errorf("cannot keep the sign-in: %w", err)
	}
	if err := fastcred.RemoveAll(); err != nil { // none may be served for the sign-in before
		return fmt.Errorf("cannot remove the fast credential cache: %w", err)
	}
	if err := saveUserConfig(userConfig{URL: *server}); err != nil {
		return fmt.Errorf("cannot remember the server URL: %w", err)
	}
	if os.Getenv("JIT_TOKEN") != "" {
		fmt.Fprintln(stderr, "Note: JIT_TOKEN is set; commands use it instead of this sign-in until you unset it.")
	}
	refresh := "no refresh token: sign in again when it expires"
	if login.RefreshToken != "" {
		refresh = "refreshed automatically"
	}
	fmt.Fprintf(stderr, "Signed in to %s as %s (token valid until %s, %s).\n", *server, shown(me.Email), login.Expiry.Local().Format("2006-01-02 15:04 MST"), refresh)
	return nil
}

// clientID is the client the CLI signs in as.
func (as authSettings) clientID() string {
	if as.CLIClientID != "" {
		return as.CLIClientID
	}
	return as.ClientID
}

// fetchAuthSettings asks the server which identity provider and client to
// sign in with.
func fetchAuthSettings(ctx context.Context, server string) (authSettings, error) {
	var as authSettings
	if _, err := url.Parse(server); err != nil {
		return as, fmt.Errorf("bad server URL %q: %w", server, err)
	}
	wc, err := client.New(server, nil).WebConfig(ctx)
	var apiErr *apiError
	switch {
	case errors.As(err, &apiErr):
		return as, fmt.Errorf("%s/config.json answered %d: is this a JIT server?", server, apiErr.Status)
	case err != nil && strings.HasPrefix(err.Error(), "cannot reach"):
		return as, err
	case err != nil:
		return as, fmt.Errorf("%s/config.json does not name an identity provider: is this a JIT server?", server)
	}
	as.WebConfig = wc
	if as.Issuer == "" || as.clientID() == "" {
		return as, fmt.Errorf("%s/config.json does not name an identity provider: is this a JIT server?", server)
	}
	return as, nil
}

// scopesFor is the server's scopes, plus offline_access (for a refresh
// token) when the provider lists it.
func scopesFor(p *oidc.Provider, server string) []string {
	scopes := strings.Fields(server)
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	var meta struct {
		Scopes []string `json:"scopes_supported"`
	}
	if p.Claims(&meta) == nil && slices.Contains(meta.Scopes, oidc.ScopeOfflineAccess) && !slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		scopes = append(scopes, oidc.ScopeOfflineAccess)
	}
	return scopes
}

// callbackResult is what a redirect to the loopback callback brought.
type callbackResult struct {
	code string
	err  error
}

// readCallback reads the query of a redirect to the callback; false when
// it is not for this sign-in (another state).
func readCallback(q url.Values, state string) (callbackResult, bool) {
	switch {
	case q.Get("state") != state:
		return callbackResult{}, false
	case q.Get("error") != "":
		return callbackResult{err: fmt.Errorf("the identity provider refused the sign-in: %s %s", shown(q.Get("error")), shown(q.Get("error_description")))}, true
	case q.Get("code") == "":
		return callbackResult{err: errors.New("the identity provider sent no code")}, true
	}
	return callbackResult{code: q.Get("code")}, true
}

// browserLogin runs the authorization code flow with PKCE, receiving the
// code on a loopback redirect (RFC 8252): http://127.0.0.1:<free port>/callback.
// With paste (--no-browser), the address the browser ended on may also be
// pasted there, for a browser on another machine.
func browserLogin(ctx context.Context, cfg *oauth2.Config, nonce string, open bool, paste io.Reader, stderr io.Writer, extra ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("cannot listen for the sign-in redirect: %w", err)
	}
	defer l.Close()
	cfg.RedirectURL = "http://" + l.Addr().String() + "/callback"
	state, verifier := randomToken(), oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL(state, append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)...)

	done := make(chan callbackResult, 1)
	deliver := func(res callbackResult) {
		select {
		case done <- res:
		default:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		res, ours := readCallback(r.URL.Query(), state)
		if !ours {
			http.Error(w, "This sign-in was not started by this jit login.", http.StatusBadRequest)
			return // keep waiting
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Signed in. You can close this window and return to your terminal."
		if res.err != nil {
			msg = res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>jit login</title><p>%s</p>", html.EscapeString(msg))
		deliver(res)
	})
	if paste != nil {
		go func() {
			sc := bufio.NewScanner(paste)
			for sc.Scan() {
				u, err := url.Parse(strings.TrimSpace(sc.Text()))
				if err != nil {
					continue
				}
				if res, ours := readCallback(u.Query(), state); ours {
					deliver(res)
					return
				}
				fmt.Fprintln(stderr, "That is not the address of this sign-in's redirect; paste the whole address.")
			}
		}()
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer srv.Close()

	opened := false
	if open {
		opened = openBrowser(authURL) == nil
	}
	if opened {
		fmt.Fprintf(stderr, "Opened your browser to sign in. If it did not open, visit:\n\n  %s\n\n", authURL)
	} else if paste != nil {
		fmt.Fprintf(stderr, "Open this URL in a browser to sign in:\n\n  %s\n\nIf that browser is on another machine, the page it ends on will not load:\npaste its address here and press Enter.\n", authURL)
	} else {
		fmt.Fprintf(stderr, "Open this URL in a browser on this machine to sign in:\n\n  %s\n\n", authURL)
	}
	var res callbackResult
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("no sign-in within %s: %w", loginTimeout, ctx.Err())
	}
	if res.err != nil {
		return nil, res.err
	}
	tok, err := cfg.Exchange(ctx, res.code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("cannot exchange the sign-in code: %w", oauthError(err))
	}
	return tok, nil
}

// deviceLogin runs the device authorization grant (RFC 8628).
func deviceLogin(ctx context.Context, cfg *oauth2.Config, stderr io.Writer) (*oauth2.Token, error) {
	da, err := cfg.DeviceAuth(ctx)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return nil, deviceRefusedError{oauthError(err)}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot reach the identity provider's device endpoint: %w", err)
	}
	if da.VerificationURIComplete != "" {
		fmt.Fprintf(stderr, "To sign in, open\n\n  %s\n\nand check that it shows the code %s (or open %s and enter it).\n\n", da.VerificationURIComplete, da.UserCode, da.VerificationURI)
	} else {
		fmt.Fprintf(stderr, "To sign in, open\n\n  %s\n\nand enter the code %s\n\n", da.VerificationURI, da.UserCode)
	}
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if err != nil {
		return nil, fmt.Errorf("device sign-in: %w", oauthError(err))
	}
	return tok, nil
}

// deviceRefusedError is the provider's refusal of a device authorization
// request (this client may not use the grant).
type deviceRefusedError struct{ err error }

func (e deviceRefusedError) Error() string { return "device sign-in refused: " + e.err.Error() }

// oauthError shortens x/oauth2's errors to the provider's code and
// description (its RetrieveError quotes the whole response body).
func oauthError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.ErrorCode != "" {
		if re.ErrorDescription != "" {
			return fmt.Errorf("%s: %s", shown(re.ErrorCode), shown(re.ErrorDescription))
		}
		return errors.New(shown(re.ErrorCode))
	}
	return err
}

// openBrowser opens url with $BROWSER, else the system's opener.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch b := os.Getenv("BROWSER"); {
	case b != "":
		cmd = exec.Command(b, url)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no display")
		}
		cmd = exec.Command("xdg-open", url)
	}
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // a browser may keep running
	return nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// runLogout forgets the sign-in to a server, after asking the identity
// provider to revoke its refresh token (RFC 7009) when it can.
func runLogout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("logout", stderr)
	server := fs.String("url", serverURLDefault(), "JIT server URL (env JIT_URL)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	store, err := newTokenStore()
	if err != nil {
		return err
	}
	l, ok, _ := store.load(normServer(*server))
	if err := store.remove(normServer(*server)); err != nil {
		return fmt.Errorf("cannot remove the sign-in: %w", err)
	}
	if err := fastcred.RemoveAll(); err != nil { // it would serve sessions without a sign-in
		return fmt.Errorf("cannot remove the fast credential cache: %w", err)
	}
	note := ""
	if ok && l.RefreshToken != "" && l.RevokeURL != "" {
		if err := revoke(ctx, l); err != nil {
			note = " (the identity provider did not revoke the refresh token: " + err.Error() + ")"
		} else {
			note = " (refresh token revoked)"
		}
	}
	fmt.Fprintf(stderr, "Signed out of %s%s.\n", normServer(*server), note)
	return nil
}

// revoke asks the provider to revoke the login's refresh token (RFC 7009,
// as a public client).
func revoke(ctx context.Context, l storedLogin) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	form := url.Values{"token": {l.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {l.ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.RevokeURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
