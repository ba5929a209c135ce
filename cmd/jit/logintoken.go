package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// refreshMargin is how long before its expiry a stored ID token is
// refreshed, so a command never sends one that expires on the way.
const refreshMargin = 2 * time.Minute

// loginToken returns the stored ID token for server, refreshed first when
// it expires within refreshMargin, and the email it names. It never opens
// a browser: without a usable sign-in it says to run `jit login`.
func loginToken(ctx context.Context, server string) (string, string, error) {
	server = normServer(server)
	store, err := newTokenStore()
	if err != nil {
		return "", "", err
	}
	l, ok, err := store.load(server)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", errNotLoggedIn(server)
	}
	if time.Until(l.Expiry) > refreshMargin {
		return l.IDToken, l.Email, nil
	}
	expired := fmt.Errorf("your sign-in to %s has expired: run `jit login --url %s`", server, server)
	unlock := lockRefresh()
	defer unlock()
	// Another jit may have refreshed while this one waited for the lock.
	if again, ok, err := store.load(server); err == nil && ok {
		l = again
		if time.Until(l.Expiry) > refreshMargin {
			return l.IDToken, l.Email, nil
		}
	}
	if l.RefreshToken == "" || l.TokenURL == "" {
		return "", "", expired
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := oauth2.Config{ClientID: l.ClientID, Endpoint: oauth2.Endpoint{TokenURL: l.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: l.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		// Another jit may have used the (rotated) refresh token a moment
		// ago: take what it stored.
		if again, ok, _ := store.load(server); ok && time.Until(again.Expiry) > refreshMargin {
			return again.IDToken, again.Email, nil
		}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return "", "", expired
		}
		return "", "", fmt.Errorf("cannot refresh the sign-in to %s (%v): run `jit login --url %s`", server, err, server)
	}
	raw, _ := tok.Extra("id_token").(string)
	exp, err := jwtExpiry(raw)
	if err != nil {
		return "", "", fmt.Errorf("the identity provider renewed the sign-in to %s without an ID token: run `jit login --url %s`", server, server)
	}
	l.IDToken, l.Expiry = raw, exp
	if tok.RefreshToken != "" {
		l.RefreshToken = tok.RefreshToken
	}
	if err := store.save(server, l); err != nil {
		return "", "", fmt.Errorf("cannot keep the refreshed sign-in: %w", err)
	}
	return l.IDToken, l.Email, nil
}

// jwtExpiry reads a JWT's "exp" without checking its signature: the
// server checks the token; the client only needs to know when to refresh.
func jwtExpiry(raw string) (time.Time, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, err
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return time.Time{}, err
	}
	n, err := c.Exp.Int64()
	if err != nil {
		return time.Time{}, errors.New("no exp claim")
	}
	return time.Unix(n, 0), nil
}

// signedInTo is the server whose stored sign-in this process used
// (clientFlags.check), "" when it used none.
var signedInTo string

// withLoginHint adds what to do to the server's refusal of a stored
// sign-in (another issuer, a restarted jit dev).
func withLoginHint(err error) error {
	var ae *apiError
	if signedInTo != "" && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
		return fmt.Errorf("%w: run `jit login --url %s`", err, signedInTo)
	}
	return err
}
