// Package devoidc is a small OpenID Connect issuer for development and
// tests. It holds a fixed list of users and an RSA key made in memory, serves
// the discovery document and the JWKS, and signs RS256 ID tokens that any
// real OIDC client (go-oidc included) verifies like those of a production
// identity provider.
//
// Its sign-in pages (authorization code with PKCE, the device grant)
// list the users to pick from and check no passwords: whoever can reach
// them, call Token or reach TokenHandler gets a token for any listed user. Use it only in
// development mode and in tests, never in front of real accounts.
package devoidc
